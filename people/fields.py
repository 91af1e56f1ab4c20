"""Standard person attributes: the vendor's names, their model fields, and their rules."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from core.errors import DomainError, ErrorCode, reject_nul
from people.identities import normalize_external_id
from people.models import Gender, Person, PersonType

# vendor name -> (model field, maximum length or None)
STANDARD_FIELDS: dict[str, tuple[str, int | None]] = {
    "externalId": ("external_id", 256),
    "type": ("type", None),
    "firstName": ("first_name", 255),
    "lastName": ("last_name", 255),
    "middleName": ("middle_name", 50),
    "gender": ("gender", None),
    "birthDate": ("birth_date", None),
    "address": ("address", 256),
    "city": ("city", 50),
    "country": ("country", 50),
    "preferredLanguage": ("preferred_language", None),
    "profilePicture": ("profile_picture", 2083),
}
# The longest preferredLanguage ("en-GB"): the model field's, which the form and the API read.
LANGUAGE_MAX_LENGTH = Person._meta.get_field("preferred_language").max_length
# The mobile SDKs call birthDate "birthday".
FIELD_ALIASES = {"birthday": "birthDate"}
_LANGUAGE_RE = re.compile(r"^([A-Za-z]{2})(?:[-_]([A-Za-z]{2}))?$")


class _ProfilePictureValidator(URLValidator):
    # Django's URLValidator stops at 2048 characters; DOMAIN.md allows URLs of 2083.
    max_length = 2083


_url_validator = _ProfilePictureValidator(schemes=["http", "https"])


def _bad(field: str, message: str, code: str = ErrorCode.BAD_REQUEST) -> DomainError:
    return DomainError(code, message, field=field)


def clean_standard_field(name: str, raw: Any) -> Any:
    """The model value of one standard attribute (vendor name), or a DomainError."""
    name = FIELD_ALIASES.get(name, name)
    if name not in STANDARD_FIELDS:
        raise _bad(name, f"{name} is not a person attribute.")
    _, max_length = STANDARD_FIELDS[name]
    if name == "externalId":
        return normalize_external_id(raw, field=name)
    if raw is None or raw == "":
        if name == "type":
            raise _bad(name, "type must be LEAD or CUSTOMER.")
        return None if name == "birthDate" else ""
    if not isinstance(raw, str):
        raise _bad(name, f"{name} must be a string.", ErrorCode.REQUEST_FORMAT_INVALID)
    value = reject_nul(raw.strip(), name)
    if max_length is not None and len(value) > max_length:
        raise _bad(name, f"{name} must be at most {max_length} characters.")
    if name == "type":
        if value.upper() not in PersonType.values:
            raise _bad(name, f"type must be LEAD or CUSTOMER, not {raw!r}.")
        return value.upper()
    if name == "gender":
        if value.upper() not in Gender.values:
            raise _bad(name, f"gender must be MALE or FEMALE, not {raw!r}.")
        return value.upper()
    if name == "birthDate":
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            raise _bad(
                name, "birthDate must be a date YYYY-MM-DD.", ErrorCode.REQUEST_FORMAT_INVALID
            ) from None
        if len(value) != 10:
            raise _bad(name, "birthDate must be a date YYYY-MM-DD.")
        if date > timezone.localdate():
            raise _bad(name, "birthDate cannot be in the future.")
        return date
    if name == "preferredLanguage":
        match = _LANGUAGE_RE.match(value)
        if not match:
            raise _bad(name, "preferredLanguage must be a language code such as en or en-GB.")
        language, region = match.groups()
        return language.lower() + (f"-{region.upper()}" if region else "")
    if name == "profilePicture":
        try:
            _url_validator(value)
        except ValidationError:
            raise _bad(name, "profilePicture must be an http or https URL.") from None
        return value
    return value


def clean_standard_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Model field -> value for every standard attribute present in ``data``."""
    cleaned: dict[str, Any] = {}
    for name, raw in data.items():
        canonical = FIELD_ALIASES.get(name, name)
        cleaned[STANDARD_FIELDS[canonical][0] if canonical in STANDARD_FIELDS else name] = (
            clean_standard_field(canonical, raw)
        )
    return cleaned


def vendor_value(person: Person, name: str) -> Any:
    """A standard attribute of ``person`` as the API shows it."""
    value = getattr(person, STANDARD_FIELDS[name][0])
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if value != "" else None


def fold(text: str) -> str:
    """Lower-case and strip accents: how names are compared in search."""
    if text.isascii():
        # Most names: nothing to decompose or strip, and casefold() is lower() (a tenth of
        # the time; batches fold two names a person).
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def successor(prefix: str) -> str:
    """The smallest string after every string that starts with ``prefix`` (code point order):
    ``prefix <= text < successor(prefix)`` is "text starts with prefix" as an index range."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def search_names(first_name: str, last_name: str) -> tuple[str, str]:
    first, last = fold(first_name), fold(last_name)
    return " ".join(p for p in (first, last) if p), " ".join(p for p in (last, first) if p)
