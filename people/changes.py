"""What a caller asks to change on a person, parsed and checked (no database writes):
PersonChanges, and the parse_* functions that build one from the API's or a form's input."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.errors import DomainError, ErrorCode, reject_nul
from people import custom_attributes as attribute_types
from people.fields import (
    clean_standard_fields,
)
from people.identities import normalize_email, parse_phone
from people.models import (
    AttributeDefinition,
)
from people.name_keys import MAX_NAME_KEY_LENGTH, name_key

MAX_CONTACTS_PER_KIND = 100
MAX_TAG_LENGTH = 256
MERGE = "merge"
REPLACE = "replace"

# ---------------------------------------------------------------------------------------------
# Input parsing (no database writes)


def parse_phones(raw: Iterable[Any], *, field_name: str = "contactInformation.phone") -> list:
    phones = []
    for item in raw:
        number = item.get("number") if isinstance(item, dict) else item
        phone = parse_phone(number, field=field_name)
        if phone.number not in {p.number for p in phones}:
            phones.append(phone)
    return phones


def parse_emails(raw: Iterable[Any], *, field_name: str = "contactInformation.email") -> list:
    emails: list[str] = []
    for item in raw:
        address = item.get("address") if isinstance(item, dict) else item
        email = normalize_email(address, field=field_name)
        if email not in emails:
            emails.append(email)
    return emails


def parse_tag_names(raw: Iterable[Any], *, field_name: str = "tags") -> list[str]:
    """Tag names in first-seen order; duplicates (by ``name_key``) collapse."""
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "tags must be a list of names.", field_name
        )
    names: list[str] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            raise DomainError(
                ErrorCode.REQUEST_FORMAT_INVALID, "Each tag must be a string.", field_name
            )
        name = reject_nul(item.strip(), field_name, "A tag name")
        if not name:
            raise DomainError(ErrorCode.BAD_REQUEST, "A tag name cannot be empty.", field_name)
        if len(name) > MAX_TAG_LENGTH:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"Tag names must be at most {MAX_TAG_LENGTH} characters.",
                field_name,
            )
        key = name_key(name)
        if len(key) > MAX_NAME_KEY_LENGTH:
            raise DomainError(
                ErrorCode.BAD_REQUEST, "This tag name is too long once case-folded.", field_name
            )
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


def attribute_definitions_named(names: Iterable[Any]) -> dict[str, AttributeDefinition]:
    """name as given -> its definition (names match by their folded key, ``name_key``), in one
    query; names that no definition has are left out. A batch looks up every name of its items
    at once."""
    wanted = {str(name): name_key(str(name)) for name in names}
    if not wanted:
        return {}
    definitions = {
        d.name_key: d for d in AttributeDefinition.objects.filter(name_key__in=set(wanted.values()))
    }
    return {name: definitions[key] for name, key in wanted.items() if key in definitions}


def parse_custom_attributes(
    raw: Any,
    *,
    definitions: dict[str, AttributeDefinition] | None = None,
) -> dict[AttributeDefinition, Any]:
    """definition -> parsed value (None means remove) for a name -> value mapping.

    ``definitions``: what ``attribute_definitions_named`` answered for (at least) these names,
    when the caller looked them up already."""
    if not isinstance(raw, dict):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID,
            "customAttributes must be an object of name -> value.",
            "customAttributes",
        )
    if not raw:
        return {}
    if definitions is None:
        definitions = attribute_definitions_named(raw)
    # The same name in two spellings that fold alike: the last one given counts.
    wanted = {name_key(str(name)): name for name in raw}
    parsed: dict[AttributeDefinition, Any] = {}
    for name in wanted.values():
        definition = definitions.get(str(name))
        if definition is None:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"No custom attribute named {name!r} is defined; define it first.",
                f"customAttributes.{name}",
            )
        value = raw[name]
        parsed[definition] = (
            None if value is None else attribute_types.parse_value(definition, value)
        )
    return parsed


@dataclass
class PersonChanges:
    """What an edit asks for, already parsed and validated (``merge_changes``,
    ``replace_changes``, ``contact_changes``, ...), for ``person_update``."""

    fields: dict[str, Any] = field(default_factory=dict)  # model field -> value
    tags: list[str] | None = None
    tags_mode: str = MERGE
    tags_remove: list[str] = field(default_factory=list)
    custom_attributes: dict[AttributeDefinition, Any] | None = None
    custom_attributes_mode: str = MERGE
    # name_key(name) -> the value an editor showed (attribute_types.fingerprint)
    custom_attributes_shown: dict[str, str] = field(default_factory=dict)
    phones: list | None = None
    emails: list[str] | None = None
    contacts_mode: str = MERGE
    phones_remove: list[str] = field(default_factory=list)
    emails_remove: list[str] = field(default_factory=list)


def _fields(fields: Any) -> dict[str, Any]:
    if fields is not None and not isinstance(fields, dict):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "Expected an object of attributes.")
    return clean_standard_fields(fields or {})


def _shown_values(shown: dict[str, str] | None) -> dict[str, str]:
    return {name_key(str(name)): str(text) for name, text in (shown or {}).items()}


def merge_changes(
    *,
    fields: dict[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    custom_attributes: dict[str, Any] | None = None,
    phones: Iterable[Any] | None = None,
    emails: Iterable[Any] | None = None,
    definitions: dict[str, AttributeDefinition] | None = None,
) -> PersonChanges:
    """A merge edit, parsed before any write (the API's PATCH, a batch item, a new person):
    the named standard attributes change, tags, phones and emails are added, custom
    attributes are set (a None value removes one); what is not named stays.

    ``definitions``: see ``parse_custom_attributes``."""
    return PersonChanges(
        fields=_fields(fields),
        tags=parse_tag_names(tags) if tags is not None else None,
        custom_attributes=(
            parse_custom_attributes(custom_attributes, definitions=definitions)
            if custom_attributes is not None
            else None
        ),
        phones=parse_phones(phones) if phones is not None else None,
        emails=parse_emails(emails) if emails is not None else None,
    )


def replace_changes(
    *,
    fields: dict[str, Any] | None,
    tags: Iterable[str],
    custom_attributes: dict[str, Any],
    phones: Iterable[Any] | None = None,
    emails: Iterable[Any] | None = None,
) -> PersonChanges:
    """A whole profile, parsed before any write (the API's PUT, admin's form): the given
    standard attributes, and tags and custom attributes exactly these; phones and emails
    exactly these when given (None: they stay)."""
    changes = PersonChanges(
        fields=_fields(fields),
        tags=parse_tag_names(tags),
        tags_mode=REPLACE,
        custom_attributes=parse_custom_attributes(custom_attributes),
        custom_attributes_mode=REPLACE,
        phones=parse_phones(phones) if phones is not None else None,
        emails=parse_emails(emails) if emails is not None else None,
    )
    if phones is not None or emails is not None:
        changes.contacts_mode = REPLACE
    return changes


def contact_changes(
    *,
    phones: Iterable[Any] | None = None,
    emails: Iterable[Any] | None = None,
    phones_remove: Iterable[Any] = (),
    emails_remove: Iterable[Any] = (),
) -> PersonChanges:
    """Phones and emails added and removed in one edit (the API's contactInformation PATCH
    and DELETE, admin's phones and emails)."""
    return PersonChanges(
        phones=parse_phones(phones) if phones is not None else None,
        emails=parse_emails(emails) if emails is not None else None,
        phones_remove=[p.number for p in parse_phones(phones_remove)],
        emails_remove=parse_emails(emails_remove),
    )


def replaced_contacts(*, phones: Iterable[Any], emails: Iterable[Any]) -> PersonChanges:
    """Exactly these phones and emails (the API's contactInformation PUT)."""
    return PersonChanges(
        phones=parse_phones(phones), emails=parse_emails(emails), contacts_mode=REPLACE
    )
