"""Demo data: about 200 realistic people, their devices, tags, attributes and history.

Safe to run twice: a second run finds the demo data and only makes sure the demo operator
exists. Everything is written through the domain services, so the data keeps every rule.
"""

import random
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from core import roles
from installations import services as installation_services
from installations.applications import application_create
from installations.models import Application
from installations.personalize import installation_personalize
from people import services
from people.fields import fold
from people.history import Actor
from people.identities import try_phone
from people.models import AttributeDefinition, DataType, Source

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-portal-2026"

FIRST = [
    "Ana",
    "Marko",
    "Ivana",
    "Luka",
    "Sara",
    "John",
    "Emma",
    "Olivia",
    "Noah",
    "Liam",
    "Mia",
    "Lucas",
    "Chloé",
    "Zoë",
    "Jürgen",
    "Søren",
    "Álvaro",
    "Inès",
    "Mateo",
    "Nina",
]
LAST = [
    "Horvat",
    "Kovačević",
    "Babić",
    "Smith",
    "Johnson",
    "Müller",
    "García",
    "Novak",
    "Dubois",
    "Rossi",
    "Jensen",
    "O'Brien",
    "Šimić",
    "Nowak",
    "Silva",
    "Petrović",
]
CITIES = [
    ("Zagreb", "Croatia", "HR"),
    ("London", "United Kingdom", "GB"),
    ("Berlin", "Germany", "DE"),
    ("New York", "United States", "US"),
    ("Paris", "France", "FR"),
    ("Madrid", "Spain", "ES"),
    ("Milan", "Italy", "IT"),
]
PHONE_PREFIXES = {
    "HR": "3859",
    "GB": "447",
    "DE": "4915",
    "US": "1212",
    "FR": "336",
    "ES": "346",
    "IT": "3933",
}
TAGS = [
    "VIP",
    "Newsletter",
    "Pizza",
    "Sports",
    "Beta tester",
    "Churn risk",
    "Promotions",
    "Transactions",
    "Loyalty gold",
    "Loyalty silver",
]
DEVICES = [
    ("Android", "Samsung", "Galaxy S23", ["13", "14"]),
    ("Android", "Google", "Pixel 8", ["14", "15"]),
    ("Android", "HUAWEI", "ANE-LX1", ["9", "10"]),
    ("iOS", "Apple", "iPhone 15", ["17.4", "18.1"]),
    ("iOS", "Apple", "iPhone 13", ["16.7", "17.2"]),
]
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


class Command(BaseCommand):
    help = "Load about 200 demo people (safe to run twice) and the demo operator account."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=200)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, persons: int, seed: int, **options):
        self.ensure_operator()
        if Application.objects.filter(code="demo-shop-android").exists():
            self.stdout.write("Demo data is loaded already.")
        else:
            with transaction.atomic():
                self.load(persons, random.Random(seed))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo operator: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r}"
            )
        )

    def ensure_operator(self) -> None:
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "first_name": "Demo"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))

    @staticmethod
    def new_phone(rng: random.Random, region: str, used: set[str]) -> str:
        """A valid mobile number of ``region`` (checked with phonenumbers), not used yet."""
        while True:
            digits = PHONE_PREFIXES[region] + "".join(rng.choice("0123456789") for _ in range(10))
            for length in range(len(digits), len(digits) - 5, -1):
                phone = try_phone(digits[:length])
                if phone and phone.number not in used:
                    used.add(phone.number)
                    return phone.number

    def load(self, count: int, rng: random.Random) -> None:
        actor = Actor.system("seed_demo", source=Source.COMMAND)
        apps = [
            application_create(name="Shop (Android)", code="demo-shop-android", actor=actor),
            application_create(name="Shop (iOS)", code="demo-shop-ios", actor=actor),
            application_create(name="Wallet", code="demo-wallet", actor=actor),
        ]
        for name, data_type, schema in DEFINITIONS:
            if not AttributeDefinition.objects.filter(name=name).exists():
                services.attribute_definition_create(
                    name=name, data_type=data_type, object_schema=schema, actor=actor
                )
        used_phones: set[str] = set()
        for index in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            city, country, region = rng.choice(CITIES)
            identified = rng.random() < 0.8
            installations = []
            for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
                os_name, maker, model, versions = rng.choice(DEVICES)
                app = apps[1] if os_name == "iOS" else apps[0]
                if rng.random() < 0.2:
                    app = apps[2]
                installation, _ = installation_services.installation_register(
                    application=app,
                    actor=Actor.device(app.code),
                    system_data={
                        "os": os_name,
                        "osVersion": rng.choice(versions),
                        "deviceManufacturer": maker,
                        "deviceModel": model,
                        "sdkVersion": rng.choice(["12.4.0", "12.6.1", "13.0.2"]),
                        "appVersion": rng.choice(["3.2.1", "3.3.0", "4.0.0"]),
                        "osLanguage": rng.choice(["en", "hr", "de", "fr"]),
                        "deviceTimezoneOffset": rng.choice(["GMT+01:00", "GMT+00:00", "GMT-05:00"]),
                        "deviceSecure": rng.random() < 0.8,
                        "notificationsEnabled": rng.random() < 0.85,
                        "cloudType": "APNS" if os_name == "iOS" else "FCM",
                    },
                    additional_data={
                        "receiveOTP": rng.random() < 0.5,
                        "theme": rng.choice(["dark", "light"]),
                    },
                )
                installations.append(installation)
            if not identified and installations:
                continue  # stays an anonymous lead, as a fresh device registration is
            phone = self.new_phone(rng, region, used_phones)
            local = f"{fold(first)}.{fold(last)}.{index}".encode("ascii", "ignore").decode()
            email = local.replace("'", "") + "@example.com"
            fields = {
                "firstName": first,
                "lastName": last,
                "city": city,
                "country": country,
                "gender": rng.choice(["MALE", "FEMALE", ""]),
                "birthDate": (
                    f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                ),
                "preferredLanguage": rng.choice(["en", "en-GB", "hr", "de"]),
            }
            if rng.random() < 0.7:
                fields["externalId"] = f"crm-{100000 + index}"
            attributes = (
                {
                    "Loyalty points": rng.randint(0, 5000),
                    "Lifetime value": Decimal(rng.randint(0, 100000)) / 100,
                    "Newsletter opt-in": rng.random() < 0.5,
                    "Favourite store": rng.choice(["Zagreb Centar", "Online", "Airport"]),
                }
                if rng.random() < 0.6
                else {}
            )
            if attributes and rng.random() < 0.5:
                attributes["Contract expiry"] = f"2027-{rng.randint(1, 12):02d}-15"
                attributes["Last purchase"] = f"2026-{rng.randint(1, 10):02d}-03T14:25:00Z"
                attributes["Shopping cart"] = [
                    {"productName": "Sneakers", "productPrice": Decimal("25.33"), "quantity": 1},
                    {"productName": "T-Shirt", "productPrice": Decimal("9.99"), "quantity": 2},
                ]
            tags = rng.sample(TAGS, rng.randint(0, 3))
            if installations:
                first_installation = installations[0]
                person = installation_personalize(
                    installation=first_installation,
                    actor=Actor.device(first_installation.application.code),
                    identity={
                        "phoneNumber": phone,
                        "email": email,
                        **(
                            {"externalId": fields.pop("externalId")}
                            if "externalId" in fields
                            else {}
                        ),
                    },
                    attributes={
                        **{k: v for k, v in fields.items() if k != "externalId"},
                        "tags": tags,
                        "customAttributes": attributes,
                    },
                    keep_as_lead=rng.random() < 0.2,
                    set_as_primary=len(installations) > 1,
                )
                for other in installations[1:]:
                    installation_personalize(
                        installation=other,
                        actor=Actor.device(other.application.code),
                        identity={"phoneNumber": phone},
                    )
            else:
                person = services.person_create(
                    actor=actor,
                    fields=fields,
                    tags=tags,
                    custom_attributes=attributes,
                    phones=[phone],
                    emails=[email],
                )
            if rng.random() < 0.3:
                services.person_add_tags(person=person, actor=actor, names=[rng.choice(TAGS)])
