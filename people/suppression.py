"""Suppression of erased identifiers (DOMAIN.md, erasure): keyed hashes, never the values.

An erased person's phones, emails, externalId and push registration ids are kept as
HMAC-SHA256 digests (``digest``) in SuppressedIdentifier. Whoever stores an identifier again
asks ``suppressed_kinds`` first, through the same statement that looks for its owner
(people.apply), and is refused with IDENTIFIER_SUPPRESSED until an administrator lifts it.
Values are hashed as the portal stores them (phones as E.164 digits, emails folded), so every
spelling of one number or address hashes alike.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.db.models import IntegerField, Q, QuerySet, Value

from core.errors import DomainError, ErrorCode
from people.models import IdentityKind, SuppressedIdentifier, SuppressedKind

# The owner id that means "suppressed" in a union with real owners (ids start at 1).
SUPPRESSED_OWNER = 0

LABELS = {
    SuppressedKind.PHONE: "This phone",
    SuppressedKind.EMAIL: "This email",
    SuppressedKind.EXTERNAL_ID: "This externalId",
    SuppressedKind.PUSH_REGISTRATION: "This pushRegistrationId",
}


def key() -> bytes:
    """SUPPRESSION_KEY, or a key derived from SECRET_KEY when it is not set (privacy.W001)."""
    if settings.SUPPRESSION_KEY:
        return settings.SUPPRESSION_KEY.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"people.suppression", hashlib.sha256).digest()


def digest(kind: str, value: str) -> str:
    """The keyed hash of one stored identifier (kind and value as the portal stores them)."""
    return hmac.new(key(), f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()


def kind_of(identity_kind: str) -> str:
    """The suppressed kind of a ContactIdentity kind (PHONE, EMAIL), or EXTERNAL_ID."""
    return {IdentityKind.PHONE: SuppressedKind.PHONE, IdentityKind.EMAIL: SuppressedKind.EMAIL}.get(
        identity_kind, identity_kind
    )


def marker(kind: str, value: str) -> QuerySet:
    """SUPPRESSED_OWNER if the identifier is suppressed (one row), else no row: a queryset to
    union with an owner lookup, so that both are one statement."""
    return (
        SuppressedIdentifier.objects.filter(kind=kind, digest=digest(kind, value))
        .annotate(owner=Value(SUPPRESSED_OWNER, output_field=IntegerField()))
        .values_list("owner", flat=True)
        .order_by()
    )


def refusal(kind: str, field: str | None) -> DomainError:
    return DomainError(
        ErrorCode.IDENTIFIER_SUPPRESSED,
        f"{LABELS[kind]} belonged to a person erased at their request and may not be stored "
        "again; an administrator can lift the suppression.",
        field,
    )


def check_not_suppressed(kind: str, value: str, field: str | None = None) -> None:
    """Refused (IDENTIFIER_SUPPRESSED) when ``value`` is suppressed: one statement."""
    if marker(kind, value).exists():
        raise refusal(kind, field)


def check_none_suppressed(identifiers: Iterable[tuple[str, str, str]]) -> None:
    """Refused (IDENTIFIER_SUPPRESSED, at the field of the first one found) when any of the
    (kind, value, field) identifiers is suppressed: one statement."""
    fields = {(kind, digest(kind, value)): field for kind, value, field in identifiers}
    if not fields:
        return
    condition = Q()
    for kind, hashed in fields:
        condition |= Q(kind=kind, digest=hashed)
    found = SuppressedIdentifier.objects.filter(condition).values_list("kind", "digest").first()
    if found is not None:
        raise refusal(found[0], fields[found])


def suppressed_among(kind: str, values: Iterable[str]) -> set[str]:
    """Which of ``values`` are suppressed: one statement (the batches' check)."""
    by_digest = {digest(kind, value): value for value in values}
    if not by_digest:
        return set()
    found = SuppressedIdentifier.objects.filter(kind=kind, digest__in=list(by_digest))
    return {by_digest[d] for d in found.values_list("digest", flat=True)}


def suppress(identifiers: Iterable[tuple[str, str]], *, erasure_id: int | None) -> int:
    """Suppress (kind, value) pairs; already suppressed ones are kept. The number added."""
    rows = {(kind, digest(kind, value)) for kind, value in identifiers if value}
    created = SuppressedIdentifier.objects.bulk_create(
        [SuppressedIdentifier(kind=k, digest=d, erasure_id=erasure_id) for k, d in rows],
        ignore_conflicts=True,
    )
    return len(created)


def lift(kind: str, value: str) -> bool:
    """Lift the suppression of one identifier; False if it was not suppressed."""
    deleted, _ = SuppressedIdentifier.objects.filter(kind=kind, digest=digest(kind, value)).delete()
    return deleted > 0
