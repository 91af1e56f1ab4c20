"""The search box read as an identifier: what the input could be (pushRegistrationId, externalId,
email, phone, national number), each an exact probe of a unique (or partial) index, all read in
one statement; and the API's lookups of one person (or many) by an identifier and its type.
"""

from __future__ import annotations

import re
from unicodedata import normalize

from django.db.models import Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper

from installations.models import Installation
from people.identifier_lookups import (
    IDENTIFIER_TYPES,
    person_id_by_identifier,
    person_ids_by_identifiers,
)
from people.identities import Phone, try_phone
from people.lookups import Candidate, Match, exact_ids, person_candidates, probe
from people.models import ContactIdentity, IdentityKind, Person

__all__ = [
    "IDENTIFIER_TYPES",
    "Candidate",
    "candidates",
    "exact_ids",
    "exact_matches",
    "matched",
    "other_case_external_ids",
    "unreadable_phone",
    "person_id_by_identifier",
    "person_ids_by_identifiers",
    "union_of",
]


def candidates(text: str, kind: str | None = None) -> list[Candidate]:
    """The lookups the input could mean: its push registration, then the person's own
    identifiers; ``kind``: read as that kind only (a phone is a phone or its national number)."""
    text = text.strip()
    if not text:
        return []
    push = probe(
        Installation, "person", Match("pushRegistrationId", text), push_registration_id=text
    )
    found = [push, *person_candidates(text)]
    kinds = {candidate.match.kind for candidate in found}
    if "nationalPhone" in kinds and "phone" not in kinds:
        # Phone-looking text that is no phone as typed: perhaps the international prefix
        # 00 written as a single 0 ("0385 91 449 4255"), as the vendor reads it.
        phone = _phone_after_single_zero(text)
        if phone is not None:
            found.append(
                probe(
                    ContactIdentity,
                    "person",
                    Match("phone", phone.number),
                    kind=IdentityKind.PHONE.value,
                    value=phone.number,
                )
            )
    if kind is not None:
        kinds = {kind, "nationalPhone"} if kind == "phone" else {kind}
        found = [c for c in found if c.match.kind in kinds]
    return found


_NOT_DIGITS = re.compile(r"\D")
# Other spellings of an externalId offered when the exact one finds nobody.
OTHER_CASES = 5


def _phone_after_single_zero(text: str) -> Phone | None:
    """``text`` read as 0, a country code and the number ("0385-91-449-4255": +385 91 449
    4255) when it starts with one 0 (not 00) and that reading is a valid number; else None.
    Only where the text is no phone as typed: a national number with its trunk 0 ("091 449
    4255") stays a national number, found by the nationalPhone lookup."""
    compact = text.strip()
    if not compact.startswith("0") or compact.startswith("00"):
        return None
    return try_phone("+" + _NOT_DIGITS.sub("", compact)[1:])


def unreadable_phone(text: str) -> bool:
    """Whether phone-looking text (people.lookups reads it as a national number) cannot be
    read as a phone number at all: not as typed, nor with 00 written as 0."""
    return try_phone(text) is None and _phone_after_single_zero(text) is None


def other_case_external_ids(text: str) -> list[str]:
    """The externalIds equal to ``text`` but for case: one probe of the index
    person_external_id_upper_idx (externalIds themselves are compared exactly)."""
    typed = normalize("NFC", text.strip())
    return list(
        Person.objects.alias(external_id_upper=Upper("external_id"))
        .filter(external_id_upper=Upper(Value(typed)))
        .exclude(external_id=typed)
        .order_by("external_id")
        .values_list("external_id", flat=True)[:OTHER_CASES]
    )


def exact_matches(text: str) -> tuple[list[int], list[Match]]:
    """Person ids found by an exact identifier in ``text``, each on a unique index (one query)."""
    return exact_ids(candidates(text))


def union_of(lookups: list[Candidate]) -> RawSQL:
    """The person ids every lookup finds, as a subquery (``pk__in=``)."""
    return RawSQL(
        " UNION ALL ".join(c.sql for c in lookups),
        [param for c in lookups for param in c.params],
    )


def matched(lookups: list[Candidate], people: list) -> list[Match]:
    """Which of the lookups found the people of the page (from their rows)."""
    matches = []
    for candidate in lookups:
        kind, value = candidate.match.kind, candidate.match.value
        for person in people:
            if kind == "externalId":
                hit = person.external_id == value
            elif kind == "pushRegistrationId":
                hit = any(i.push_registration_id == value for i in person.installations.all())
            else:
                hit = any(
                    (i.kind == IdentityKind.EMAIL and i.value == value)
                    if kind == "email"
                    else (i.kind == IdentityKind.PHONE and i.value == value)
                    if kind == "phone"
                    else (i.kind == IdentityKind.PHONE and i.national_number == value)
                    for i in person.identities.all()
                )
            if hit:
                matches.append(candidate.match)
                break
    return matches
