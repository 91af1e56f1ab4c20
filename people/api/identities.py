"""Identifying people in API requests: identifier + type (+ sender), or the older ?phone=
style aliases; one query, or every query of a batch at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import ValidationError

from core.api.errors import RequestFormatInvalid
from core.errors import DomainError, ErrorCode
from people.identifier_lookups import (
    IDENTIFIER_TYPES,
    person_id_by_identifier,
    person_ids_by_identifiers,
)

LEGACY_IDENTIFIERS = {
    "phone": "PHONE",
    "email": "EMAIL",
    "externalId": "EXTERNAL_ID",
    "pushRegistrationId": "PUSH",
}


@dataclass(frozen=True)
class IdentityQuery:
    type: str
    identifier: str
    sender: str | None = None

    def as_body(self) -> dict[str, str]:
        body = {"type": self.type, "identifier": self.identifier}
        if self.sender:
            body["sender"] = self.sender
        return body


def parse_identity(data: Any, *, prefix: str = "", sender_required: bool = True) -> IdentityQuery:
    """An IdentityQuery from query parameters or a JSON object; a 400 naming what is wrong."""
    if not isinstance(data, dict):
        raise RequestFormatInvalid({prefix.rstrip(".") or "query": ["Expected an object."]})
    identifier, kind, sender = data.get("identifier"), data.get("type"), data.get("sender")
    errors: dict[str, list[str]] = {}
    if identifier is None or identifier == "":
        errors[f"{prefix}identifier"] = ["identifier is required."]
    elif not isinstance(identifier, str):
        errors[f"{prefix}identifier"] = ["identifier must be a string."]
    if kind is None or kind == "":
        errors[f"{prefix}type"] = [f"type is required: one of {', '.join(IDENTIFIER_TYPES)}."]
    elif kind not in IDENTIFIER_TYPES:
        errors[f"{prefix}type"] = [
            f"type {kind!r} is not supported: use one of {', '.join(IDENTIFIER_TYPES)}."
        ]
    if sender is not None and not isinstance(sender, str):
        errors[f"{prefix}sender"] = ["sender must be a string."]
    elif kind == "PUSH" and not sender and sender_required:
        errors[f"{prefix}sender"] = ["sender (the application code) is required for type PUSH."]
    if errors:
        raise ValidationError(errors)
    return IdentityQuery(kind, identifier, sender or None)


def identity_from_params(params) -> IdentityQuery | None:
    if "identifier" in params or "type" in params:
        return parse_identity({key: params.get(key) for key in ("identifier", "type", "sender")})
    for name, kind in LEGACY_IDENTIFIERS.items():
        if name in params:
            return parse_identity(
                {"identifier": params.get(name), "type": kind, "sender": params.get("sender")},
                sender_required=False,
            )
    return None


def required_identity(params) -> IdentityQuery:
    identity = identity_from_params(params)
    if identity is None:
        raise ValidationError(
            {"identifier": ["identifier and type are required to name the person."]}
        )
    return identity


def resolve(identity: IdentityQuery) -> int:
    """The id of the person ``identity`` names, or NOT_FOUND."""
    person_id = person_id_by_identifier(identity.type, identity.identifier, sender=identity.sender)
    if person_id is None:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            f"There is no person with {identity.type} {identity.identifier!r}.",
        )
    return person_id


def query_echo(item: Any) -> dict[str, str]:
    """The query of a batch item as given, keeping only well-formed parts."""
    query = item.get("query") if isinstance(item, dict) else None
    if not isinstance(query, dict):
        return {}
    echo = {
        key: query[key]
        for key in ("identifier", "sender")
        if isinstance(query.get(key), str) and query[key]
    }
    if query.get("type") in IDENTIFIER_TYPES:
        echo["type"] = query["type"]
    return echo


def query_of(item: Any) -> IdentityQuery:
    if not isinstance(item, dict):
        raise RequestFormatInvalid({"query": ["Each item must be an object with a query."]})
    return parse_identity(item.get("query"), prefix="query.")


def resolve_all(queries: list[IdentityQuery | Exception]) -> list[int | Exception]:
    """``resolve`` for every query of a batch at once (one statement per identifier type)."""
    wanted = [
        (index, (query.type, query.identifier, query.sender))
        for index, query in enumerate(queries)
        if isinstance(query, IdentityQuery)
    ]
    found = person_ids_by_identifiers([key for _, key in wanted])
    answers: list[int | Exception] = list(queries)  # type: ignore[arg-type]
    for (index, _), person_id in zip(wanted, found, strict=True):
        query = queries[index]
        if person_id is None:
            person_id = DomainError(
                ErrorCode.NOT_FOUND,
                f"There is no person with {query.type} {query.identifier!r}.",
            )
        answers[index] = person_id
    return answers


def queries_of(items: list[Any]) -> list[IdentityQuery | Exception]:
    queries: list[IdentityQuery | Exception] = []
    for item in items:
        try:
            queries.append(query_of(item))
        except (DomainError, ValidationError) as error:
            queries.append(error)
    return queries
