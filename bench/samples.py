"""What the benchmark searches for: values drawn from the generated data, per kind, and the URL
each target takes them in (bench/run.py measures them)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from urllib.parse import urlencode

from installations.models import Installation
from people.models import AttributeValue, ContactIdentity, IdentityKind, Person, Tag

EXACT_KINDS = ["pushRegistrationId", "phone", "phone (national)", "email", "externalId"]
KINDS = EXACT_KINDS + [
    "name prefix",
    "tag",
    "attribute equal",
    "attribute range",
    "name + tag",
    "tag + attribute + platform",
    "similar name",
]
ADMIN_KINDS = ["pushRegistrationId", "phone", "email", "externalId", "name prefix", "tag"]


@dataclass
class Sample:
    """One value to search for and the person it should find (None: not a single person)."""

    kind: str
    person_id: int | None
    q: str = ""
    tags: list[str] = field(default_factory=list)
    attribute: str = ""
    value: str = ""
    op: str = "eq"
    platform: str = ""
    last_name_prefix: str = ""


def random_people(rng: random.Random, count: int, **filters) -> list[Person]:
    """About ``count`` random people (by random ids: no ORDER BY random() over the table)."""
    top = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    found: list[Person] = []
    while len(found) < count:
        ids = [rng.randint(1, top) for _ in range(count * 3)]
        found.extend(Person.objects.filter(pk__in=ids, **filters)[: count - len(found)])
    return found


def phone_formats(number: str, national: str) -> list[str]:
    """How an operator types a phone: +E.164 with spaces, 00 prefix, bare digits."""
    code = number[: len(number) - len(national)]
    spaced = " ".join([national[:2], national[2:5], national[5:]])
    return [f"+{code} {spaced}", f"00{code}{national}", f"+{number}", f"({code}) {national}"]


def mistyped(name: str) -> str:
    """A typo: the two letters after the first swapped ("Horvat": "Hrovat"), or the last two
    of a short name."""
    at = 1 if len(name) > 3 else max(len(name) - 2, 0)
    return name[:at] + name[at + 1 : at + 2] + name[at : at + 1] + name[at + 2 :]


def samples(rng: random.Random, count: int) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {kind: [] for kind in KINDS}
    installations = list(
        Installation.objects.filter(
            pk__in=[
                rng.randint(1, Installation.objects.order_by("-pk").first().pk)
                for _ in range(count * 2)
            ]
        ).values_list("push_registration_id", "person_id")[:count]
    )
    out["pushRegistrationId"] = [
        Sample("pushRegistrationId", pid, q=push) for push, pid in installations
    ]
    phones = list(
        ContactIdentity.objects.filter(
            kind=IdentityKind.PHONE,
            pk__in=[
                rng.randint(1, ContactIdentity.objects.order_by("-pk").first().pk)
                for _ in range(count * 4)
            ],
        ).values_list("value", "national_number", "person_id")[:count]
    )
    out["phone"] = [
        Sample("phone", pid, q=rng.choice(phone_formats(value, national)))
        for value, national, pid in phones
    ]
    out["phone (national)"] = [
        Sample("phone (national)", pid, q="0" + national) for _, national, pid in phones
    ]
    emails = list(
        ContactIdentity.objects.filter(
            kind=IdentityKind.EMAIL,
            pk__in=[
                rng.randint(1, ContactIdentity.objects.order_by("-pk").first().pk)
                for _ in range(count * 4)
            ],
        ).values_list("value", "person_id")[:count]
    )
    out["email"] = [
        Sample("email", pid, q=value.upper() if i % 2 else value.title())
        for i, (value, pid) in enumerate(emails)
    ]
    named = random_people(rng, count, external_id__isnull=False)
    out["externalId"] = [Sample("externalId", p.pk, q=p.external_id) for p in named]
    named = [p for p in random_people(rng, count * 2) if p.last_name][:count]
    tags = list(Tag.objects.values_list("name", flat=True))
    tag_weights = [1 / (i + 1) for i in range(len(tags))]
    stores = list(
        AttributeValue.objects.filter(definition__name="Favourite store")
        .values_list("value_text", flat=True)
        .distinct()[:50]
    )
    for i, person in enumerate(named):
        # Typed the way operators do: 2 to 6 letters of the last name, any casing, or
        # "last first" with the start of the first name.
        last = person.last_name
        prefix = last[: rng.randint(2, min(6, len(last)))]
        if i % 3 == 0:
            prefix = f"{last} {person.first_name[:2]}"
        prefix = prefix.upper() if i % 2 else prefix.lower()
        tag = rng.choices(tags, weights=tag_weights)[0]
        out["name prefix"].append(Sample("name prefix", None, q=prefix, last_name_prefix=last[:4]))
        out["tag"].append(Sample("tag", None, tags=[tag]))
        out["attribute equal"].append(
            Sample("attribute equal", None, attribute="Favourite store", value=rng.choice(stores))
        )
        low = rng.randint(0, 50_000)
        out["attribute range"].append(
            Sample(
                "attribute range",
                None,
                attribute="Loyalty points",
                value=str(low),
                op=rng.choice(["gt", "lt", "gte"]),
            )
        )
        # Two letters of the last name swapped (and, every other time, the first name after
        # it): nobody's name starts so, the page shows the closest spelling's people.
        swapped = mistyped(last)
        if i % 2:
            swapped = f"{swapped} {person.first_name[:3]}"
        out["similar name"].append(Sample("similar name", None, q=swapped))
        out["name + tag"].append(
            Sample("name + tag", None, q=last[:3], tags=[tag], last_name_prefix=last[:3])
        )
        out["tag + attribute + platform"].append(
            Sample(
                "tag + attribute + platform",
                None,
                tags=[tag],
                attribute="Newsletter opt-in",
                value=rng.choice(["true", "false"]),
                platform=rng.choice(["iOS", "Android"]),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Targets: each turns a sample into a request


def ui_url(base: str, s: Sample) -> str:
    params = {"q": s.q}
    if s.tags:
        params["tags"] = ",".join(s.tags)
    if s.attribute:
        params.update(attribute=s.attribute, value=s.value, op=s.op)
    if s.platform:
        params["platform"] = s.platform
    return f"{base}?{urlencode({k: v for k, v in params.items() if v})}"


def api_url(base: str, s: Sample) -> str:
    if base != "/people/2/persons":  # the stand-in takes the operator page's parameters
        return ui_url(base, s)
    exact = {
        "pushRegistrationId": "pushRegistrationId",
        "phone": "phone",
        "phone (national)": None,
        "email": "email",
        "externalId": "externalId",
    }
    if s.kind in exact and exact[s.kind]:
        return f"{base}?{urlencode({exact[s.kind]: s.q})}"
    conditions = []
    if s.last_name_prefix:
        conditions.append({"lastName": {"#startsWith": s.last_name_prefix}})
    for tag in s.tags:
        conditions.append({"#contains": {"tags": tag}})
    if s.attribute:
        value: object = s.value
        if s.value in ("true", "false"):
            value = s.value == "true"
        elif s.value.isdigit():
            value = int(s.value)
        conditions.append({"customAttributes": {s.attribute: {f"#{s.op}": value}}})
    if not conditions:
        return ""
    query = conditions[0] if len(conditions) == 1 else {"#and": conditions}
    return f"{base}?{urlencode({'filter': json.dumps(query)})}"


def admin_url(s: Sample, tag_ids: dict[str, int]) -> str:
    base = "/bench/admin/people/person/"
    if s.kind == "tag":
        return f"{base}?{urlencode({'tags__id__exact': tag_ids[s.tags[0]]})}"
    return f"{base}?{urlencode({'q': s.q})}"
