"""One person by a unique identifier and its type (the API's identifier + type + sender), or many
at once: each kind on its own unique index. A push registration id is reached through Person's
reverse relation ``installations``.
"""

from __future__ import annotations

from typing import Any

from core.errors import DomainError
from people import custom_attributes as attribute_types
from people.identities import normalize_email, normalize_external_id, parse_phone
from people.models import ContactIdentity, IdentityKind, Person

IDENTIFIER_TYPES = ("ID", "EXTERNAL_ID", "PHONE", "EMAIL", "PUSH")


def person_id_by_identifier(
    identifier_type: str, identifier: str, *, sender: str | None = None
) -> int | None:
    """The id of the person an identifier names, each kind on its own unique index.

    ``PUSH`` is a push registration id; ``sender`` (the application code) narrows it to one
    application when given. An identifier that is malformed for its kind (a phone that is no
    phone) raises the domain's error for that kind.
    """
    identifier = identifier.strip()
    if identifier_type == "ID":
        if not identifier.isdigit() or not identifier.isascii():
            raise DomainError("BAD_REQUEST", "A person ID is a whole number.", "identifier")
        if not attribute_types.integer_text_in_range(identifier):
            return None  # counted before int(), which raises past 4300 digits
        return Person.objects.filter(pk=int(identifier)).values_list("id", flat=True).first()
    if identifier_type == "EXTERNAL_ID":
        external_id = normalize_external_id(identifier, field="identifier")
        if external_id is None:
            return None
        return Person.objects.filter(external_id=external_id).values_list("id", flat=True).first()
    if identifier_type in ("PHONE", "EMAIL"):
        if identifier_type == "PHONE":
            kind, value = IdentityKind.PHONE, parse_phone(identifier, field="identifier").number
        else:
            kind, value = IdentityKind.EMAIL, normalize_email(identifier, field="identifier")
        return (
            ContactIdentity.objects.filter(kind=kind, value=value)
            .values_list("person_id", flat=True)
            .first()
        )
    if identifier_type == "PUSH":
        # Through Person's reverse relation: a probe of the installation's unique index.
        found = {"installations__push_registration_id": identifier}
        if sender is not None:
            found["installations__application__code"] = sender
        return Person.objects.filter(**found).values_list("id", flat=True).first()
    raise DomainError(
        "BAD_REQUEST",
        f"Identifier type {identifier_type!r} is not supported; "
        f"use one of {', '.join(IDENTIFIER_TYPES)}.",
        "type",
    )


def person_ids_by_identifiers(
    queries: list[tuple[str, str, str | None]],
) -> list[int | None | DomainError]:
    """``person_id_by_identifier`` for many (type, identifier, sender) at once, as a batch
    names its people: one statement per kind of identifier, not one per item. Each answer is
    the person's id, None (nobody) or the DomainError of a malformed identifier."""
    answers: list[int | None | DomainError] = [None] * len(queries)
    wanted: dict[str, dict[int, Any]] = {kind: {} for kind in IDENTIFIER_TYPES}
    for index, (identifier_type, raw, sender) in enumerate(queries):
        identifier = raw.strip()
        try:
            if identifier_type == "ID":
                if not identifier.isdigit() or not identifier.isascii():
                    raise DomainError("BAD_REQUEST", "A person ID is a whole number.", "identifier")
                # Counted before int(), which raises past 4300 digits; past the range: nobody.
                if attribute_types.integer_text_in_range(identifier):
                    wanted["ID"][index] = int(identifier)
            elif identifier_type == "EXTERNAL_ID":
                external_id = normalize_external_id(identifier, field="identifier")
                if external_id is not None:
                    wanted["EXTERNAL_ID"][index] = external_id
            elif identifier_type == "PHONE":
                wanted["PHONE"][index] = parse_phone(identifier, field="identifier").number
            elif identifier_type == "EMAIL":
                wanted["EMAIL"][index] = normalize_email(identifier, field="identifier")
            elif identifier_type == "PUSH":
                wanted["PUSH"][index] = (identifier, sender)
            else:
                raise DomainError(
                    "BAD_REQUEST",
                    f"Identifier type {identifier_type!r} is not supported; "
                    f"use one of {', '.join(IDENTIFIER_TYPES)}.",
                    "type",
                )
        except DomainError as error:
            answers[index] = error
    found: dict[str, dict[Any, int]] = {}
    if wanted["ID"]:
        ids = Person.objects.filter(pk__in=set(wanted["ID"].values())).values_list("id", "id")
        found["ID"] = dict(ids)
    if wanted["EXTERNAL_ID"]:
        found["EXTERNAL_ID"] = dict(
            Person.objects.filter(external_id__in=set(wanted["EXTERNAL_ID"].values())).values_list(
                "external_id", "id"
            )
        )
    for kind in ("PHONE", "EMAIL"):
        if wanted[kind]:
            found[kind] = dict(
                ContactIdentity.objects.filter(
                    kind=kind, value__in=set(wanted[kind].values())
                ).values_list("value", "person_id")
            )
    if wanted["PUSH"]:
        rows = Person.objects.filter(
            installations__push_registration_id__in={push for push, _ in wanted["PUSH"].values()}
        )
        found["PUSH"] = {}
        for push, code, person_id in rows.values_list(
            "installations__push_registration_id", "installations__application__code", "id"
        ):
            found["PUSH"][(push, code)] = person_id
            found["PUSH"].setdefault((push, None), person_id)
    for kind, indexes in wanted.items():
        for index, key in indexes.items():
            answers[index] = found[kind].get(key)
    return answers
