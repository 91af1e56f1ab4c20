"""A batch's items checked before anything is written (people.batches writes them).

Each item is parsed as its single-person service parses it (``merge_changes``); then the
unique identifiers it asks for (externalId, phones, emails) are looked up at once, so that an
item that would take one another person holds, or one an earlier item of the batch took, gets
the merge error its single edit gets, and a contact limit its limit error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import IntegerField, Value

from core.errors import DomainError, ErrorCode
from people import suppression
from people.apply import _lock_for_share, _merge_error
from people.changes import (
    MAX_CONTACTS_PER_KIND,
    PersonChanges,
    attribute_definitions_named,
    merge_changes,
)
from people.models import (
    AttributeDefinition,
    ContactIdentity,
    IdentityKind,
    Person,
    SuppressedIdentifier,
)

T = TypeVar("T")
EXTERNAL_ID = "EXTERNAL_ID"


def chunks(values: Iterable[T], size: int) -> Iterable[list[T]]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def not_found(person_id: int) -> DomainError:
    return DomainError(
        ErrorCode.NOT_FOUND, f"Person {person_id} does not exist.", details={"personId": person_id}
    )


# ---------------------------------------------------------------------------------------------
# Unique identifiers: who holds each one, in the database and in the batch so far


@dataclass
class Claim:
    """One unique identifier an item asks for, with the words of its merge error."""

    key: tuple[str, str]  # (kind, value); kind EXTERNAL_ID for an externalId
    field: str
    what: str
    national: str = ""


def claims_of(changes: PersonChanges) -> list[Claim]:
    """The unique identifiers an edit asks for, in the order the services check them."""
    claims = []
    external_id = changes.fields.get("external_id")
    if external_id is not None:
        claims.append(
            Claim((EXTERNAL_ID, external_id), "externalId", f"externalId {external_id!r}")
        )
    for phone in changes.phones or []:
        claims.append(
            Claim(
                (IdentityKind.PHONE, phone.number),
                "contactInformation.phone",
                f"phone {phone.number}",
                phone.national_number,
            )
        )
    for email in changes.emails or []:
        claims.append(
            Claim((IdentityKind.EMAIL, email), "contactInformation.email", f"email {email}")
        )
    return claims


def owners_of(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(kind, value) -> the person holding it in the database, or SUPPRESSED_OWNER for an
    erased person's identifier (people.suppression): one query per kind."""
    owners: dict[tuple[str, str], int] = {}
    by_kind: dict[str, set[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, set()).add(value)
    for kind, values in by_kind.items():
        suppressed_kind = suppression.kind_of(kind)
        for part in chunks(values, 10_000):
            if kind == EXTERNAL_ID:
                rows = Person.objects.filter(external_id__in=part).values_list("external_id", "id")
            else:
                rows = ContactIdentity.objects.filter(kind=kind, value__in=part).values_list(
                    "value", "person_id"
                )
            digests = {suppression.digest(suppressed_kind, value): value for value in part}
            erased = (
                SuppressedIdentifier.objects.filter(kind=suppressed_kind, digest__in=list(digests))
                .annotate(owner=Value(suppression.SUPPRESSED_OWNER, output_field=IntegerField()))
                .values_list("digest", "owner")
                .order_by()
            )
            for value, person_id in rows.order_by().union(erased, all=True):
                if person_id == suppression.SUPPRESSED_OWNER:
                    owners.setdefault((kind, digests[value]), person_id)
                else:
                    owners[(kind, value)] = person_id
    return owners


def limit_error(kind: str) -> DomainError:
    name = "phone" if kind == IdentityKind.PHONE else "email"
    return DomainError(
        ErrorCode.BAD_REQUEST,
        f"A person can have at most {MAX_CONTACTS_PER_KIND} {name}s.",
        f"contactInformation.{name}",
    )


def check_claims(
    person: Person,
    identities: dict[str, set[str]],
    claims: list[Claim],
    owners: dict[tuple[str, str], int],
) -> DomainError | None:
    """The error of the first identifier another person holds, or of a contact limit."""
    counts = {kind: len(values) for kind, values in identities.items()}
    for claim in claims:
        kind, value = claim.key
        if kind == EXTERNAL_ID:
            if value == person.external_id:
                continue
        elif value in identities[kind]:
            continue
        else:
            counts[kind] += 1
            if counts[kind] > MAX_CONTACTS_PER_KIND:
                return limit_error(kind)
        owner = owners.get(claim.key)
        if owner is not None and owner != person.pk:
            return claim_error(claim, owner)
    return None


def claim_error(claim: Claim, owner: int) -> DomainError:
    """The error of a claim on an identifier ``owner`` holds (owners_of): the owner's merge
    error, or IDENTIFIER_SUPPRESSED for an erased person's."""
    if owner == suppression.SUPPRESSED_OWNER:
        return suppression.refusal(suppression.kind_of(claim.key[0]), claim.field)
    return _merge_error(claim.field, claim.what, owner)


def lock_definitions(
    parsed: dict[int, PersonChanges], outcomes: list[Any]
) -> dict[int, PersonChanges]:
    """Lock FOR SHARE the definitions the batch writes values of, before any person: the order
    of attribute_definition_delete, so that a batch and a delete wait for each other instead
    of deadlocking or failing a foreign key at commit. An item whose definition was deleted
    since it was parsed gets the error a single edit gets; answers the items left."""
    wanted = {d.pk for changes in parsed.values() for d in changes.custom_attributes or {}}
    gone = wanted - _lock_for_share(AttributeDefinition, sorted(wanted))
    kept: dict[int, PersonChanges] = {}
    for index, changes in parsed.items():
        missing = [d for d in changes.custom_attributes or {} if d.pk in gone]
        if missing:
            outcomes[index] = DomainError(
                ErrorCode.BAD_REQUEST,
                f"No custom attribute named {missing[0].name!r} is defined; define it first.",
                f"customAttributes.{missing[0].name}",
            )
        else:
            kept[index] = changes
    return kept


def parse_items(
    items: list[dict[str, Any] | PersonChanges | Exception],
) -> tuple[list[Any], dict[int, Any]]:
    """Each item's ``merge_changes`` (or its error), the definitions looked up at once. An
    item parsed already by the caller (a PersonChanges of ``merge_changes``: an import reads
    its rows before it knows which create and which update) is taken as it is."""
    outcomes: list[Any] = list(items)
    names = {
        name
        for item in items
        if isinstance(item, dict) and isinstance(item.get("custom_attributes"), dict)
        for name in item["custom_attributes"]
    }
    definitions = attribute_definitions_named(names)
    parsed: dict[int, PersonChanges] = {}
    for index, item in enumerate(items):
        if isinstance(item, Exception):
            continue
        if isinstance(item, PersonChanges):
            parsed[index] = item
            continue
        try:
            parsed[index] = merge_changes(**item, definitions=definitions)
        except DomainError as error:
            outcomes[index] = error
    return outcomes, parsed
