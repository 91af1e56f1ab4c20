"""The search box read as an identifier: what the input could be (pushRegistrationId, externalId,
email, phone, national number), each an exact probe of a unique (or partial) index, all read in
one statement; and the API's lookups of one person (or many) by an identifier and its type.
"""

from __future__ import annotations

from django.db.models.expressions import RawSQL

from installations.models import Installation
from people.identifier_lookups import (
    IDENTIFIER_TYPES,
    person_id_by_identifier,
    person_ids_by_identifiers,
)
from people.lookups import Candidate, Match, exact_ids, person_candidates, probe
from people.models import IdentityKind

__all__ = [
    "IDENTIFIER_TYPES",
    "Candidate",
    "candidates",
    "exact_ids",
    "exact_matches",
    "matched",
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
    if kind is not None:
        kinds = {kind, "nationalPhone"} if kind == "phone" else {kind}
        found = [c for c in found if c.match.kind in kinds]
    return found


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
