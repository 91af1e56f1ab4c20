"""The realistic data set generate_people loads: the reference rows it needs and the COPY rows
of each chunk of people (DataSet), with the number blocks and word lists they are drawn from.

Per person, on average: 1.5 installations (Android and iOS, several applications, realistic
system data, at most one primary), 1.2 phones from eleven countries, 0.9 emails, 0.7
externalIds, 1.4 tags out of 60 (spread unevenly), custom attribute values of the seven types
on half the people, and history events (Install, Personalize, Person created).

Every value is made to keep DOMAIN.md's rules: phone numbers come from number blocks that
``phonenumbers`` reports valid (checked at start), every unique identifier is derived from a
counter so none repeats, names are folded with people.fields.search_names, and the small
tables (applications, tags, definitions) are created through the services (the command).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.core.management.base import CommandError

from people import custom_attributes
from people.fields import search_names
from people.models import (
    AttributeDefinition,
    DataType,
)


def _words(text: str) -> list[str]:
    return text.split()


# region -> (country name, cities, languages, country calling code, [(prefix, free digits)])
REGIONS = {
    "HR": ("Croatia", ["Zagreb", "Split", "Rijeka", "Osijek"], ["hr", "en"], "385",
           [("91", 7), ("92", 7), ("95", 7), ("98", 7), ("99", 7)]),
    "GB": ("United Kingdom", ["London", "Manchester", "Leeds", "Bristol"], ["en-GB", "en"], "44",
           [("74", 8), ("75", 8), ("78", 8)]),
    "DE": ("Germany", ["Berlin", "München", "Köln", "Hamburg"], ["de", "de-DE"], "49",
           [("151", 8), ("160", 8), ("170", 8), ("176", 8)]),
    "US": ("United States", ["New York", "San Francisco", "Chicago", "Austin"], ["en-US", "es"],
           "1", [("2127", 6), ("4156", 6), ("6465", 6), ("3128", 6), ("2123", 6)]),
    "FR": ("France", ["Paris", "Lyon", "Marseille", "Nantes"], ["fr", "fr-FR"], "33",
           [("61", 7), ("62", 7), ("66", 7), ("67", 7), ("75", 7), ("76", 7)]),
    "ES": ("Spain", ["Madrid", "Barcelona", "Sevilla", "Málaga"], ["es", "es-ES"], "34",
           [("6", 8)]),
    "IT": ("Italy", ["Milano", "Roma", "Torino", "Napoli"], ["it"], "39",
           [("32", 8), ("33", 8), ("34", 8)]),
    "NL": ("Netherlands", ["Amsterdam", "Utrecht", "Rotterdam"], ["nl", "en"], "31",
           [("61", 7), ("62", 7), ("64", 7), ("65", 7)]),
    "PL": ("Poland", ["Warszawa", "Kraków", "Łódź", "Gdańsk"], ["pl"], "48",
           [("50", 7), ("51", 7), ("60", 7), ("69", 7)]),
    "BR": ("Brazil", ["São Paulo", "Rio de Janeiro", "Curitiba"], ["pt-BR", "pt"], "55",
           [("119", 8), ("219", 8)]),
    "IN": ("India", ["Mumbai", "Bengaluru", "Delhi", "Pune"], ["en-IN", "hi"], "91",
           [("98", 8), ("99", 8), ("70", 8)]),
}  # fmt: skip
REGION_WEIGHTS = {"HR": 8, "GB": 14, "DE": 14, "US": 18, "FR": 10, "ES": 8, "IT": 8, "NL": 5,
                  "PL": 5, "BR": 5, "IN": 5}  # fmt: skip

FIRST_NAMES = _words(
    "Ana Ivan Marko Ivana Luka Petra Josip Marija Sara Matej Nikola Katarina Tomislav Lucija "
    "John Emma Olivia Noah Liam Mia Lucas James Amelia Oliver Sophia William Charlotte Harry "
    "Chloé Zoë Jürgen Søren Álvaro Inès Mateo Nina Léa Hugo Louis Camille Élodie Théo "
    "Lukas Jonas Leonie Hannah Felix Maximilian Sophie Jürgen Günther Björn "
    "Giulia Francesco Alessandro Chiara Matteo Sofia Lorenzo Martina "
    "José María Lucía Pablo Sergio Carmen Javier Nuria "
    "Jan Anna Piotr Katarzyna Michał Agnieszka Łukasz Zofia "
    "João Maria Gabriel Beatriz Rafael Mariana "
    "Aarav Priya Rohan Ananya Vikram Diya Daan Sanne Bram Fenna"
)
LAST_NAMES = _words(
    "Horvat Kovačević Babić Marić Jurić Novak Kovačić Knežević Vuković Marković Petrović "
    "Šimić Perić Pavlović Blažević Grgić Radić Božić Smith Johnson Williams Brown Jones "
    "Garcia Miller Davis Wilson Taylor Anderson Thomas Moore Jackson Martin Lee Harris "
    "Clark O'Brien Walker Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker "
    "Schäfer Koch Bauer Richter Dubois Durand Lefèvre Moreau Laurent Simon Michel Garnier "
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci García López Martínez "
    "Sánchez Pérez Gómez Fernández Ruiz Nowak Kowalski Wiśniewski Wójcik Kamiński "
    "Lewandowski Zieliński Silva Santos Oliveira Souza Lima Pereira Costa Sharma Patel "
    "Singh Kumar Gupta Iyer de_Jong Jansen de_Vries van_den_Berg Bakker Visser Smit "
    "Jensen Nielsen Hansen Andersen Larsen Sørensen Øberg Ström Åkesson"
)
# Family names of two words are written with a space ("de Jong").
LAST_NAMES = [name.replace("_", " ") for name in LAST_NAMES]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]
TAGS = [
    "Newsletter", "Promotions", "Transactions", "VIP", "Loyalty gold", "Loyalty silver",
    "Loyalty bronze", "Beta tester", "Churn risk", "Pizza", "Sports", "Travel", "Fashion",
    "Electronics", "Books", "Music", "Movies", "Gaming", "Fitness", "Outdoor", "Kids",
    "Pets", "Home", "Garden", "Beauty", "Health", "Food", "Wine", "Coffee", "Crypto",
    "Investing", "Insurance", "Student", "Senior", "Business", "Frequent flyer",
    "Weekend shopper", "Night owl", "Early bird", "Coupon user", "Returns often",
    "Gift buyer", "Referrer", "Influencer", "App only", "Web only", "Store visitor",
    "Call center", "Complaint open", "Survey done", "Black Friday", "Christmas",
    "Summer sale", "Back to school", "New in 2024", "New in 2025", "Dormant", "Reactivated",
    "Test account", "Do not disturb",
]  # fmt: skip
APPLICATIONS = [
    ("gen-shop-android", "Shop (Android)", "Android"),
    ("gen-shop-ios", "Shop (iOS)", "iOS"),
    ("gen-wallet", "Wallet", None),
    ("gen-travel", "Travel", None),
    ("gen-news", "News", None),
]
DEVICES = [  # os, manufacturer, model, os versions, weight
    ("Android", "Samsung", "SM-S911B", ["13", "14"], 16),
    ("Android", "Samsung", "SM-A546B", ["13", "14"], 12),
    ("Android", "Google", "Pixel 8", ["14", "15"], 6),
    ("Android", "Xiaomi", "2201116SG", ["12", "13"], 8),
    ("Android", "HUAWEI", "ANE-LX1", ["9", "10"], 4),
    ("Android", "OnePlus", "CPH2449", ["13", "14"], 3),
    ("Android", "motorola", "moto g54 5G", ["13", "14"], 4),
    ("iOS", "Apple", "iPhone16,2", ["17.4", "17.6", "18.1"], 10),
    ("iOS", "Apple", "iPhone15,3", ["17.2", "18.0"], 8),
    ("iOS", "Apple", "iPhone14,5", ["16.7", "17.5"], 8),
    ("iOS", "Apple", "iPhone13,2", ["16.5", "17.1"], 6),
]
SDK_VERSIONS = {"Android": ["12.4.0", "12.6.1", "13.0.2"], "iOS": ["12.3.0", "12.5.2", "13.0.1"]}
APP_VERSIONS = ["3.2.1", "3.3.0", "4.0.0", "4.1.2"]
TIMEZONES = ["GMT+01:00", "GMT+02:00", "GMT+00:00", "GMT-05:00", "GMT-08:00", "GMT+05:30"]
STORE_CITIES = ("Zagreb", "London", "Berlin", "Paris", "Madrid", "Milano", "Warszawa", "New York")
STORES = [f"{city} {kind}" for city in STORE_CITIES for kind in ("Centar", "Airport", "Mall")]
STORES.append("Online")
PRODUCTS = [("Sneakers", "25.33"), ("T-Shirt", "9.99"), ("Jacket", "129.00"), ("Socks", "4.50"),
            ("Backpack", "49.90"), ("Headphones", "79.95"), ("Book", "14.20")]  # fmt: skip
DEFINITIONS = [
    ("Loyalty points", DataType.INTEGER, None),
    ("Lifetime value", DataType.DECIMAL, None),
    ("Newsletter opt-in", DataType.BOOLEAN, None),
    ("Contract expiry", DataType.DATE, None),
    ("Last purchase", DataType.DATE_TIME, None),
    ("Favourite store", DataType.STRING, None),
    (
        "Shopping cart",
        DataType.LIST_OF_OBJECTS,
        {"productName": "STRING", "productPrice": "DECIMAL", "quantity": "INTEGER"},
    ),
]

PERSON_COLUMNS = (
    "id, type, external_id, first_name, last_name, middle_name, gender, birth_date, address, "
    "city, country, preferred_language, profile_picture, search_name, search_name_reversed, "
    "origin, created_at, modified_at, version, tag_ids"
)
INSTALLATION_COLUMNS = (
    "id, push_registration_id, application_id, person_id, is_primary, registration_enabled, "
    "notifications_enabled, geofencing_sdk, sdk_version, app_version, os, os_version, "
    "device_manufacturer, device_model, device_secure, os_language, device_timezone_offset, "
    "device_name, cloud_type, additional_data, created_at, modified_at"
)
IDENTITY_COLUMNS = "id, person_id, kind, value, national_number, created_at"
TAG_LINK_COLUMNS = "id, person_id, tag_id"
VALUE_COLUMNS = (
    "id, person_id, definition_id, value_text, value_number, value_bool, value_date, "
    "value_datetime, value_json"
)
EVENT_COLUMNS = (
    "id, person_id, kind, actor_kind, actor_label, actor_user_id, source, "
    "push_registration_id, changes, created_at"
)
NULL = "\\N"
MASK64 = (1 << 64) - 1


def _weighted(items: list, weights: list[float], rng: random.Random, n: int) -> list:
    return rng.choices(items, weights=weights, k=n)


def check_phone_blocks() -> list[tuple[str, str, str, int]]:
    """(region, calling code, prefix, free digits) of every block whose numbers are valid.

    A block is kept when phonenumbers accepts its lowest, highest and 200 random numbers,
    and reads the national significant number as prefix + free digits.
    """
    rng = random.Random(0)
    blocks = []
    for region, (_, _, _, code, prefixes) in REGIONS.items():
        for prefix, digits in prefixes:
            samples = ["0" * digits, "9" * digits] + [
                str(rng.randrange(10**digits)).zfill(digits) for _ in range(200)
            ]
            good = True
            for suffix in samples:
                number = phonenumbers.parse(f"+{code}{prefix}{suffix}")
                if (
                    not phonenumbers.is_valid_number(number)
                    or str(phonenumbers.national_significant_number(number)) != prefix + suffix
                ):
                    good = False
                    break
            if good:
                blocks.append((region, code, prefix, digits))
    if not blocks:
        raise CommandError("No valid phone number block: check the phonenumbers version.")
    return blocks


@dataclass
class Counters:
    person: int
    installation: int
    identity: int
    tag_link: int
    value: int
    event: int
    phones_in_block: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass
class Chunk:
    persons: int
    tables: list[tuple[str, str, str]]  # (table, columns, COPY text)


class DataSet:
    """Builds the COPY text of a chunk of people, deterministic for a seed."""

    def __init__(
        self,
        *,
        seed: int,
        total: int,
        counters: Counters,
        applications: dict[str, tuple[int, str | None]],
        tag_ids: list[int],
        definitions: dict[str, AttributeDefinition],
        now: dt.datetime,
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.total = total
        self.c = counters
        self.now = now
        self.start = now - dt.timedelta(days=3 * 365)
        self.span = (now - self.start).total_seconds() - 3600
        self.blocks = check_phone_blocks()
        self.blocks_by_region: dict[str, list] = {}
        for block in self.blocks:
            self.blocks_by_region.setdefault(block[0], []).append(block)
        self.regions = [r for r in REGIONS if r in self.blocks_by_region]
        self.region_weights = [REGION_WEIGHTS[r] for r in self.regions]
        # Folded names, once per name rather than once per person.
        self.first = FIRST_NAMES
        self.last = LAST_NAMES
        self.folded_first = {n: search_names(n, "")[0] for n in FIRST_NAMES}
        self.folded_last = {n: search_names("", n)[0] for n in LAST_NAMES}
        self.ascii_first = {n: _ascii(v) for n, v in self.folded_first.items()}
        self.ascii_last = {n: _ascii(v) for n, v in self.folded_last.items()}
        self.apps_android = [
            (pk, code) for code, (pk, os) in applications.items() if os in (None, "Android")
        ]
        self.apps_ios = [
            (pk, code) for code, (pk, os) in applications.items() if os in (None, "iOS")
        ]
        self.tag_ids = tag_ids
        # Zipf-like: the first tags are on many people, the last ones on a few.
        self.tag_weights = [1.0 / (i + 1) ** 1.1 for i in range(len(tag_ids))]
        self.definitions = definitions
        self.device_weights = [d[4] for d in DEVICES]
        self.carts = [self._cart() for _ in range(40)]
        # Bijective scramblers: unique inputs give unique outputs.
        self.push_salt = self.rng.getrandbits(64)
        self._push_ids: dict[int, str] = {}

    # -- small helpers ---------------------------------------------------------------------

    def _ts(self, seconds: float) -> str:
        return (self.start + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S+00")

    def _cart(self) -> str:
        definition = self.definitions["Shopping cart"]
        items = []
        for name, price in self.rng.sample(PRODUCTS, self.rng.randint(1, 3)):
            items.append(
                {
                    "productName": name,
                    "productPrice": Decimal(price),
                    "quantity": self.rng.randint(1, 4),
                }
            )
        value = custom_attributes.parse_value(definition, items)
        return json.dumps(custom_attributes.to_columns(definition, value)["value_json"])

    def _push_id(self, installation_id: int) -> str:
        """A UUID-shaped id, unique because its low half is a bijection of the row id."""
        x = (installation_id * 0x9E3779B97F4A7C15 + self.push_salt) & MASK64
        x ^= x >> 31
        x = (x * 0xBF58476D1CE4E5B9) & MASK64
        x ^= x >> 29
        high = self.rng.getrandbits(64)
        h = f"{high:016x}{x:016x}"
        push_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
        self._push_ids[installation_id] = push_id
        return push_id

    def _phone(self, region: str) -> tuple[str, str] | None:
        """A new valid number of ``region``: (E.164 digits, national significant number)."""
        blocks = self.blocks_by_region[region]
        for _ in range(4):
            _, code, prefix, digits = self.rng.choice(blocks)
            key = (region, prefix)
            n = self.c.phones_in_block.get(key, 0)
            space = 10**digits
            if n >= space:
                continue
            self.c.phones_in_block[key] = n + 1
            # An affine bijection on the block spreads consecutive numbers around.
            suffix = str((n * 7_654_321 + 1_234_567) % space).zfill(digits)
            national = prefix + suffix
            return code + national, national
        return None

    # -- one chunk -------------------------------------------------------------------------

    def chunk(self, count: int) -> Chunk:
        rng = self.rng
        c = self.c
        persons: list[str] = []
        installs: list[str] = []
        identities: list[str] = []
        links: list[str] = []
        values: list[str] = []
        events: list[str] = []
        regions = _weighted(self.regions, self.region_weights, rng, count)
        d = self.definitions
        for index in range(count):
            pid = c.person
            c.person += 1
            region = regions[index]
            country, cities, languages, _, _ = REGIONS[region]
            created_s = (pid % self.total) / self.total * self.span + rng.random() * 600
            created = self._ts(created_s)
            modified = self._ts(min(created_s + rng.random() * 86400 * 30, self.span))
            r = rng.random()
            anonymous = r < 0.12
            n_installs = rng.choices((0, 1, 2, 3), weights=(10, 40, 40, 10))[0]
            if anonymous and n_installs == 0:
                n_installs = 1
            # At most one primary: none, or one of the installations.
            primary = -1
            if n_installs >= 2 and rng.random() < 0.7:
                primary = rng.randrange(n_installs)
            elif n_installs == 1 and rng.random() < 0.3:
                primary = 0
            install_rows = []
            for i in range(n_installs):
                iid = c.installation
                c.installation += 1
                os_name, maker, model, versions, _ = rng.choices(
                    DEVICES, weights=self.device_weights
                )[0]
                app_id, app_code = rng.choice(
                    self.apps_android if os_name == "Android" else self.apps_ios
                )
                install_rows.append((iid, app_code))
                at = self._ts(created_s + i * 3600 * 24 * rng.random())
                extra = '{"receiveOTP": true, "theme": "dark"}' if rng.random() < 0.3 else "{}"
                is_primary = "t" if i == primary else "f"
                installs.append(
                    f"{iid}\t{self._push_id(iid)}\t{app_id}\t{pid}\t{is_primary}\t"
                    f"{'t' if rng.random() < 0.9 else 'f'}\t{'t' if rng.random() < 0.85 else 'f'}\t"
                    f"{'t' if rng.random() < 0.1 else 'f'}\t{rng.choice(SDK_VERSIONS[os_name])}\t"
                    f"{rng.choice(APP_VERSIONS)}\t{os_name}\t{rng.choice(versions)}\t{maker}\t"
                    f"{model}\t{'t' if rng.random() < 0.8 else 'f'}\t{rng.choice(languages)}\t"
                    f"{rng.choice(TIMEZONES)}\t{maker} {model}\t"
                    f"{'APNS' if os_name == 'iOS' else ('HMS' if maker == 'HUAWEI' else 'FCM')}\t"
                    f"{extra}\t{at}\t{at}\n"
                )
                events.append(
                    f"{c.event}\t{pid}\tINSTALL\tDEVICE\tDevice of app {app_code}\t{NULL}\tDEVICE\t"
                    f"{self._push_id_cache(iid)}\t{{}}\t{at}\n"
                )
                c.event += 1

            if anonymous:
                persons.append(
                    f"{pid}\tLEAD\t{NULL}\t\t\t\t\t{NULL}\t\t\t\t\t\t\t\tDEVICE\t{created}\t"
                    f"{modified}\t1\t{{}}\n"
                )
                continue

            first = rng.choice(self.first)
            last = rng.choice(self.last)
            folded = f"{self.folded_first[first]} {self.folded_last[last]}"
            folded_reversed = f"{self.folded_last[last]} {self.folded_first[first]}"
            external_id = f"CRM-{pid:09d}" if rng.random() < 0.795 else NULL
            gender = rng.choice(("MALE", "FEMALE", ""))
            birth = (
                f"{rng.randint(1945, 2008)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                if rng.random() < 0.6
                else NULL
            )
            city = rng.choice(cities)
            origin = "DEVICE" if n_installs else rng.choice(("API", "API", "UI", "ADMIN"))
            ptype = "LEAD" if n_installs and rng.random() < 0.15 else "CUSTOMER"
            # The row ends with its tag ids (chosen below, migration 0010): the load may run
            # with triggers off (session_replication_role), the one that keeps them included.
            person = (
                f"{pid}\t{ptype}\t{external_id}\t{first}\t{last}\t\t{gender}\t{birth}\t"
                f"{rng.randint(1, 200)} Main Street\t{city}\t{country}\t{rng.choice(languages)}\t"
                f"\t{folded}\t{folded_reversed}\t{origin}\t{created}\t{modified}\t"
                f"{rng.randint(1, 5)}\t"
            )
            local = f"{self.ascii_first[first]}.{self.ascii_last[last]}".replace(" ", "")
            phones = []
            n_phones = rng.choices((0, 1, 2, 3), weights=(10, 50, 34, 6))[0]
            for k in range(n_phones):
                phone_region = region if k == 0 or rng.random() < 0.7 else rng.choice(self.regions)
                phone = self._phone(phone_region)
                if phone is None:
                    continue
                phones.append(phone[0])
                identities.append(
                    f"{c.identity}\t{pid}\tPHONE\t{phone[0]}\t{phone[1]}\t{created}\n"
                )
                c.identity += 1
            emails = []
            n_emails = rng.choices((0, 1, 2), weights=(15, 70, 15))[0]
            for k in range(n_emails):
                email = (
                    f"{local}.{pid}@{rng.choice(EMAIL_DOMAINS)}"
                    if k == 0
                    else f"{local[:1]}{local.split('.')[-1]}{pid}@work.example.com"
                )
                emails.append(email)
                identities.append(f"{c.identity}\t{pid}\tEMAIL\t{email}\t\t{created}\n")
                c.identity += 1
            # Tags: uneven, 0 to 5 per person.
            n_tags = rng.choices((0, 1, 2, 3, 5), weights=(30, 30, 20, 15, 5))[0]
            chosen = sorted(set(_weighted(self.tag_ids, self.tag_weights, rng, n_tags)))
            for tag_id in chosen:
                links.append(f"{c.tag_link}\t{pid}\t{tag_id}\n")
                c.tag_link += 1
            persons.append(f"{person}{{{','.join(map(str, chosen))}}}\n")
            # Custom attributes on about half the people (0.5 / 0.88 of the identified).
            if rng.random() < 0.57:
                chosen_defs = rng.sample(DEFINITIONS, rng.randint(1, 7))
                for name, data_type, _ in chosen_defs:
                    values.append(
                        f"{c.value}\t{pid}\t{d[name].pk}\t{self._value_columns(data_type)}\n"
                    )
                    c.value += 1
            if n_installs:
                push_id = self._push_id_cache(install_rows[0][0])
                changes = json.dumps(
                    {
                        "identity": {
                            "externalId": None if external_id == NULL else external_id,
                            "phones": phones,
                            "emails": emails,
                        }
                    }
                )
                events.append(
                    f"{c.event}\t{pid}\tPERSONALIZE\tDEVICE\tDevice of app {install_rows[0][1]}\t"
                    f"{NULL}\tDEVICE\t{push_id}\t{changes}\t{modified}\n"
                )
            else:
                events.append(
                    f"{c.event}\t{pid}\tPERSON_CREATED\tAPI_KEY\tAPI key crm-sync\t{NULL}\tAPI\t"
                    f'\t{{"firstName": "{first}", "lastName": "{last}"}}\t{created}\n'
                )
            c.event += 1
        self._push_ids.clear()
        return Chunk(
            persons=count,
            tables=[
                ("people_person", PERSON_COLUMNS, "".join(persons)),
                ("installations_installation", INSTALLATION_COLUMNS, "".join(installs)),
                ("people_contactidentity", IDENTITY_COLUMNS, "".join(identities)),
                ("people_person_tags", TAG_LINK_COLUMNS, "".join(links)),
                ("people_attributevalue", VALUE_COLUMNS, "".join(values)),
                ("people_event", EVENT_COLUMNS, "".join(events)),
            ],
        )

    def _push_id_cache(self, installation_id: int) -> str:
        # The event must carry the very id the installation row got (the high half is random).
        return self._push_ids[installation_id]

    def _value_columns(self, data_type: str) -> str:
        """value_text, value_number, value_bool, value_date, value_datetime, value_json."""
        rng = self.rng
        if data_type == DataType.INTEGER:
            return f"{NULL}\t{rng.randint(0, 50_000)}\t{NULL}\t{NULL}\t{NULL}\t{NULL}"
        if data_type == DataType.DECIMAL:
            amount = f"{rng.randint(0, 500_000) / 100:.2f}"
            return f"{amount}\t{amount}\t{NULL}\t{NULL}\t{NULL}\t{NULL}"
        if data_type == DataType.BOOLEAN:
            return f"{NULL}\t{NULL}\t{'t' if rng.random() < 0.6 else 'f'}\t{NULL}\t{NULL}\t{NULL}"
        if data_type == DataType.DATE:
            date = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(1460))
            return f"{NULL}\t{NULL}\t{NULL}\t{date.isoformat()}\t{NULL}\t{NULL}"
        if data_type == DataType.DATE_TIME:
            at = self._ts(rng.random() * self.span)
            return f"{NULL}\t{NULL}\t{NULL}\t{NULL}\t{at}\t{NULL}"
        if data_type == DataType.STRING:
            return f"{rng.choice(STORES)}\t{NULL}\t{NULL}\t{NULL}\t{NULL}\t{NULL}"
        return f"{NULL}\t{NULL}\t{NULL}\t{NULL}\t{NULL}\t{rng.choice(self.carts)}"


def _ascii(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch == " ")).strip()
