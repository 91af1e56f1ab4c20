"""Every write to a person: one function per operation, one transaction each.

The operator UI, the HTTP API and Django admin all call these, so each rule lives here once.
Each function records one history event with its actor and raises DomainError (nothing
written) when a rule of DOMAIN.md would break.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from core.errors import DomainError, ErrorCode, reject_nul
from people import custom_attributes as attribute_types
from people.fields import (
    STANDARD_FIELDS,
    clean_standard_fields,
    search_names,
)
from people.history import Actor, record_audit, record_event
from people.identities import normalize_email, parse_phone
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    EventKind,
    IdentityKind,
    Origin,
    Person,
    PersonType,
    Tag,
)
from people.name_keys import MAX_NAME_KEY_LENGTH, name_key

MAX_CONTACTS_PER_KIND = 100
MAX_TAG_LENGTH = 256
MERGE = "merge"
REPLACE = "replace"


# ---------------------------------------------------------------------------------------------
# Reading helpers used by the services


def lock_person(person: Person | int) -> Person:
    """Re-read the person row under a row lock (the caller is in a transaction).

    Every write to a person takes this lock first, so two writers of the same profile run
    one after the other instead of interleaving their read-modify-write steps.
    """
    pk = person.pk if isinstance(person, Person) else person
    try:
        return Person.objects.select_for_update().get(pk=pk)
    except Person.DoesNotExist:
        raise DomainError(ErrorCode.NOT_FOUND, f"Person {pk} does not exist.") from None


def owner_of_identity(kind: str, value: str) -> int | None:
    return (
        ContactIdentity.objects.filter(kind=kind, value=value)
        .values_list("person_id", flat=True)
        .first()
    )


def owner_of_external_id(external_id: str) -> int | None:
    return Person.objects.filter(external_id=external_id).values_list("id", flat=True).first()


def custom_attribute_values(person: Person) -> dict[str, Any]:
    """name -> Python value (uses a prefetched ``attribute_values__definition`` when present)."""
    return {
        row.definition.name: attribute_types.from_row(row.definition, row)
        for row in person.attribute_values.all()
    }


def _merge_error(field_name: str, what: str, other_id: int) -> DomainError:
    return DomainError(
        ErrorCode.USER_MERGE_INTERRUPTED,
        f"{what} already belongs to person {other_id}.",
        field=field_name,
        details={"personId": other_id},
    )


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


# ---------------------------------------------------------------------------------------------
# Applying changes to a locked person (inside a transaction)


def _tags_by_name(names: list[str]) -> list[Tag]:
    """The Tag rows for ``names``, created where missing (names match by ``name_key``).

    The rows are locked FOR SHARE until the caller's transaction ends: a tag being attached
    to a person cannot be deleted meanwhile (tag_delete locks it FOR UPDATE, and waits), so
    the deleter and the writer run one after the other instead of the writer's link failing
    its foreign key at commit.
    """
    if not names:
        return []
    keys = {name_key(n): n for n in names}
    existing = {t.name_key: t for t in _share_locked(Tag.objects.filter(name_key__in=list(keys)))}
    for key, name in keys.items():
        while key not in existing:
            try:
                with transaction.atomic():
                    existing[key] = Tag.objects.create(name=name)
            except IntegrityError:
                # Another writer created it a moment ago (the unique index said so): use
                # theirs, unless it was deleted since (then create it again).
                found = _share_locked(Tag.objects.filter(name_key=key))
                if found:
                    existing[key] = found[0]
    return [existing[name_key(n)] for n in names]


def _share_locked(queryset) -> list:
    """The rows of ``queryset`` that still exist, locked FOR SHARE on PostgreSQL."""
    rows = list(queryset)
    existing = _lock_for_share(queryset.model, [row.pk for row in rows])
    return [row for row in rows if row.pk in existing]


def _lock_for_share(model, ids: list[int]) -> set[int]:
    """Which of ``ids`` still exist, locked FOR SHARE until the transaction ends (PostgreSQL).

    Writers that attach a tag or a definition to a person take this lock; the deleters take
    FOR UPDATE (tag_delete, attribute_definition_delete), so each waits for the other and
    no link is committed to a row deleted meanwhile (a foreign-key error at commit, a 500).
    Django's select_for_update() has no FOR SHARE, and writers must not block each other.
    On other databases (SQLite locks the whole database per write) a plain read.
    """
    if not ids:
        return set()
    table = connection.ops.quote_name(model._meta.db_table)
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id IN ({placeholders}) ORDER BY id{lock}",
            sorted(ids),
        )
        return {pk for (pk,) in cursor.fetchall()}


def lock_references(changes: PersonChanges) -> None:
    """Lock FOR SHARE the tags and definitions an edit attaches, before the person lock.

    The order (referenced rows, then the person) is tag_delete's too (the tag, then each of
    its people), so the two cannot deadlock. A definition deleted since the edit was parsed
    is refused as undefined (400), as it would have been a moment later.
    """
    if changes.tags:
        _tags_by_name(changes.tags)
    _lock_definitions(changes)


def _lock_definitions(changes: PersonChanges) -> None:
    if not changes.custom_attributes:
        return
    existing = _lock_for_share(AttributeDefinition, [d.pk for d in changes.custom_attributes])
    for definition in changes.custom_attributes:
        if definition.pk not in existing:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"No custom attribute named {definition.name!r} is defined; define it first.",
                f"customAttributes.{definition.name}",
            )


def _apply_fields(person: Person, values: dict[str, Any], diffs: dict) -> None:
    vendor_names = {model: vendor for vendor, (model, _) in STANDARD_FIELDS.items()}
    if "external_id" in values and values["external_id"] != person.external_id:
        new = values["external_id"]
        if new is not None:
            other = owner_of_external_id(new)
            if other is not None and other != person.pk:
                raise _merge_error("externalId", f"externalId {new!r}", other)
    for model_field, value in values.items():
        old = getattr(person, model_field)
        if old != value:
            diffs[vendor_names[model_field]] = {
                "before": old.isoformat() if hasattr(old, "isoformat") else old,
                "after": value.isoformat() if hasattr(value, "isoformat") else value,
            }
            setattr(person, model_field, value)
    person.search_name, person.search_name_reversed = search_names(
        person.first_name, person.last_name
    )


def _apply_tags(person: Person, changes: PersonChanges, diffs: dict) -> None:
    if changes.tags is None and not changes.tags_remove:
        return
    current = {t.name_key: t for t in person.tags.all()}
    added: list[str] = []
    removed: list[str] = []
    if changes.tags is not None:
        wanted = _tags_by_name(changes.tags)
        wanted_keys = {t.name_key for t in wanted}
        to_add = [t for t in wanted if t.name_key not in current]
        if changes.tags_mode == REPLACE:
            to_remove = [t for key, t in current.items() if key not in wanted_keys]
            person.tags.remove(*to_remove)
            removed += [t.name for t in to_remove]
        person.tags.add(*to_add)
        added += [t.name for t in to_add]
    if changes.tags_remove:
        removing = [name_key(n) for n in changes.tags_remove]
        drop = [current[key] for key in removing if key in current]
        drop = [t for t in drop if t.name not in added]
        person.tags.remove(*drop)
        removed += [t.name for t in drop]
    if added or removed:
        diffs["tags"] = {"added": sorted(added), "removed": sorted(removed)}


def _apply_custom_attributes(person: Person, changes: PersonChanges, diffs: dict) -> None:
    if changes.custom_attributes is None:
        return
    _lock_definitions(changes)
    rows = {row.definition_id: row for row in person.attribute_values.select_related("definition")}
    result: dict[str, dict] = {}
    given = changes.custom_attributes
    if changes.custom_attributes_mode == REPLACE:
        given_ids = {d.pk for d in given}
        for definition_id, row in list(rows.items()):
            if definition_id not in given_ids:
                before = attribute_types.from_row(row.definition, row)
                result[row.definition.name] = {
                    "before": _jsonable(attribute_types.serialize_value(row.definition, before)),
                    "after": None,
                }
                row.delete()
                del rows[definition_id]
    for definition, value in given.items():
        row = rows.get(definition.pk)
        before = attribute_types.from_row(definition, row) if row else None
        shown = changes.custom_attributes_shown.get(definition.name_key)
        if shown is not None:
            _refuse_changed_since_shown(definition, shown, before, value)
        if value is None:
            if row is not None:
                row.delete()
        elif row is None:
            AttributeValue.objects.create(
                person=person,
                definition=definition,
                **attribute_types.to_columns(definition, value),
            )
        else:
            for column, column_value in attribute_types.to_columns(definition, value).items():
                setattr(row, column, column_value)
            row.save()
        if before != value:
            result[definition.name] = {
                "before": _jsonable(attribute_types.serialize_value(definition, before))
                if before is not None
                else None,
                "after": _jsonable(attribute_types.serialize_value(definition, value))
                if value is not None
                else None,
            }
    if result:
        diffs["customAttributes"] = result


def _refuse_changed_since_shown(
    definition: AttributeDefinition, shown: str, stored: Any, value: Any
) -> None:
    """An editor showed ``shown`` and asks for ``value``: when the stored value is neither
    (someone else changed it in between), VERSION_CONFLICT naming the attribute."""
    now = attribute_types.fingerprint(definition, stored)
    if now in (shown, attribute_types.fingerprint(definition, value)):
        return
    described = "not set" if stored is None else now if len(now) <= 80 else now[:77] + "..."
    raise DomainError(
        ErrorCode.VERSION_CONFLICT,
        f"{definition.name} was changed since the page showed it (now {described}); nothing"
        " was saved. Save again to write yours over it.",
        f"customAttributes.{definition.name}",
        details={"customAttributes": {definition.name: json.loads(now)}},
    )


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return attribute_types.format_decimal(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _add_identity(person: Person, kind: str, value: str, national: str, field_name: str) -> bool:
    """Give ``person`` an identity; False if it has it already. Never merges silently."""
    owner = owner_of_identity(kind, value)
    if owner == person.pk:
        return False
    if owner is not None:
        raise _merge_error(field_name, f"{kind.lower()} {value}", owner)
    try:
        with transaction.atomic():
            ContactIdentity.objects.create(
                person=person, kind=kind, value=value, national_number=national
            )
    except IntegrityError:
        # A concurrent writer took it between our look-up and our insert.
        owner = owner_of_identity(kind, value)
        raise _merge_error(field_name, f"{kind.lower()} {value}", owner or 0) from None
    return True


def _apply_contacts(person: Person, changes: PersonChanges, diffs: dict) -> None:
    specs = [
        (IdentityKind.PHONE, "phone", changes.phones, changes.phones_remove),
        (IdentityKind.EMAIL, "email", changes.emails, changes.emails_remove),
    ]
    for kind, name, wanted, remove in specs:
        if wanted is None and not remove:
            continue
        field_name = f"contactInformation.{name}"
        current = {i.value: i for i in person.identities.all() if i.kind == kind}
        added: list[str] = []
        removed: list[str] = []
        wanted_values: list[tuple[str, str]] = []
        if wanted is not None:
            for item in wanted:
                if kind == IdentityKind.PHONE:
                    wanted_values.append((item.number, item.national_number))
                else:
                    wanted_values.append((item, ""))
        if wanted is not None and changes.contacts_mode == REPLACE:
            keep = {v for v, _ in wanted_values}
            drop = [identity for value, identity in current.items() if value not in keep]
        else:
            drop = [current[v] for v in remove if v in current]
        for identity in drop:
            identity.delete()
            removed.append(identity.value)
            current.pop(identity.value, None)
        for value, national in wanted_values:
            if value in current:
                continue
            if len(current) + 1 > MAX_CONTACTS_PER_KIND:
                raise DomainError(
                    ErrorCode.BAD_REQUEST,
                    f"A person can have at most {MAX_CONTACTS_PER_KIND} {name}s.",
                    field_name,
                )
            if _add_identity(person, kind, value, national, field_name):
                added.append(value)
                current[value] = True  # type: ignore[assignment]
        if added or removed:
            diffs[f"{name}s"] = {"added": added, "removed": removed}


def _event_kind(diffs: dict) -> str:
    areas = set()
    for key in diffs:
        if key == "tags":
            areas.add(EventKind.TAGS_CHANGED)
        elif key == "customAttributes":
            areas.add(EventKind.CUSTOM_ATTRIBUTES_CHANGED)
        elif key in ("phones", "emails"):
            areas.add(EventKind.CONTACTS_CHANGED)
        else:
            areas.add(EventKind.ATTRIBUTES_CHANGED)
    return areas.pop() if len(areas) == 1 else EventKind.PERSON_UPDATED


def apply_person_changes(person: Person, changes: PersonChanges) -> dict[str, Any]:
    """Apply parsed changes to a locked person; return the before/after of what changed."""
    diffs: dict[str, Any] = {}
    _apply_fields(person, changes.fields, diffs)
    _apply_contacts(person, changes, diffs)
    _apply_tags(person, changes, diffs)
    _apply_custom_attributes(person, changes, diffs)
    return diffs


def _save_person(person: Person) -> None:
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        # The externalId was taken by a concurrent writer after our check.
        other = owner_of_external_id(person.external_id or "")
        raise _merge_error("externalId", f"externalId {person.external_id!r}", other or 0) from None


# ---------------------------------------------------------------------------------------------
# Operations


@transaction.atomic
def person_create(
    *,
    actor: Actor,
    fields: dict[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    custom_attributes: dict[str, Any] | None = None,
    phones: Iterable[Any] | None = None,
    emails: Iterable[Any] | None = None,
    origin: str | None = None,
) -> Person:
    """Create a person. Without a type it is a CUSTOMER (DOMAIN.md)."""
    changes = merge_changes(
        fields=fields, tags=tags, custom_attributes=custom_attributes, phones=phones, emails=emails
    )
    person = Person(type=PersonType.CUSTOMER, origin=origin or _origin_of(actor))
    # Set the attributes before the first save so that the row is complete when inserted.
    _apply_fields(person, changes.fields, {})
    changes.fields = {}
    _save_person(person)
    diffs = apply_person_changes(person, changes)
    record_event(
        person=person,
        kind=EventKind.PERSON_CREATED,
        actor=actor,
        changes={**_created_summary(person), **diffs},
    )
    return person


def _origin_of(actor: Actor) -> str:
    return {
        "UI": Origin.UI,
        "API": Origin.API,
        "ADMIN": Origin.ADMIN,
        "DEVICE": Origin.DEVICE,
    }.get(actor.source, Origin.SYSTEM)


def _created_summary(person: Person) -> dict[str, Any]:
    summary: dict[str, Any] = {"type": {"before": None, "after": person.type}}
    for vendor, (model_field, _) in STANDARD_FIELDS.items():
        value = getattr(person, model_field)
        if value not in (None, "") and vendor != "type":
            summary[vendor] = {
                "before": None,
                "after": value.isoformat() if hasattr(value, "isoformat") else value,
            }
    return summary


@transaction.atomic
def person_update(
    *,
    person: Person | int,
    actor: Actor,
    changes: PersonChanges,
    expected_version: int | None = None,
) -> Person:
    """Apply an edit (``PersonChanges``) in one transaction with one history event.

    ``expected_version`` is the version the editor started from: an edit of an older version
    is refused with VERSION_CONFLICT and nothing is written. The person returned carries
    ``previous_version``, the version this edit found under the lock: the version it made
    follows directly from that one, and a caller holding it can tell its own change from
    someone else's.
    """
    lock_references(changes)
    locked = lock_person(person)
    locked.previous_version = locked.version
    if expected_version is not None and locked.version != expected_version:
        raise DomainError(
            ErrorCode.VERSION_CONFLICT,
            f"This profile was changed since version {expected_version}"
            f" (now version {locked.version}).",
            details={"version": locked.version, "modifiedAt": locked.modified_at.isoformat()},
        )
    diffs = apply_person_changes(locked, changes)
    if diffs:
        locked.version += 1
        _save_person(locked)
        record_event(person=locked, kind=_event_kind(diffs), actor=actor, changes=diffs)
    return locked


def person_set_fields(
    *,
    person: Person | int,
    actor: Actor,
    fields: dict[str, Any],
    expected_version: int | None = None,
) -> Person:
    """Set standard attributes (the person page's basic information); see ``person_update``
    for ``expected_version``."""
    return person_update(
        person=person,
        actor=actor,
        changes=PersonChanges(fields=_fields(fields)),
        expected_version=expected_version,
    )


def person_add_tags(*, person: Person | int, actor: Actor, names: Iterable[str]) -> Person:
    changes = PersonChanges(tags=parse_tag_names(list(names)))
    return person_update(person=person, actor=actor, changes=changes)


def person_remove_tags(*, person: Person | int, actor: Actor, names: Iterable[str]) -> Person:
    changes = PersonChanges(tags_remove=parse_tag_names(list(names)))
    return person_update(person=person, actor=actor, changes=changes)


def person_set_custom_attributes(
    *,
    person: Person | int,
    actor: Actor,
    values: dict[str, Any],
    shown: dict[str, str] | None = None,
) -> Person:
    """Set (or with a None value, remove) custom attributes; the others stay.

    ``shown``: name -> the value an editor showed (``attribute_types.fingerprint``); a value
    someone else changed since is not overwritten (VERSION_CONFLICT), unless to the same.
    """
    changes = PersonChanges(
        custom_attributes=parse_custom_attributes(values),
        custom_attributes_shown=_shown_values(shown),
    )
    return person_update(person=person, actor=actor, changes=changes)


def person_remove_custom_attribute(
    *, person: Person | int, actor: Actor, name: str, shown: str | None = None
) -> Person:
    return person_set_custom_attributes(
        person=person,
        actor=actor,
        values={name: None},
        shown={name: shown} if shown is not None else None,
    )


def person_add_phone(*, person: Person | int, actor: Actor, number: str) -> Person:
    changes = PersonChanges(phones=parse_phones([number]))
    return person_update(person=person, actor=actor, changes=changes)


def person_remove_phone(*, person: Person | int, actor: Actor, number: str) -> Person:
    changes = PersonChanges(phones_remove=[p.number for p in parse_phones([number])])
    return person_update(person=person, actor=actor, changes=changes)


def person_add_email(*, person: Person | int, actor: Actor, address: str) -> Person:
    changes = PersonChanges(emails=parse_emails([address]))
    return person_update(person=person, actor=actor, changes=changes)


def person_remove_email(*, person: Person | int, actor: Actor, address: str) -> Person:
    changes = PersonChanges(emails_remove=parse_emails([address]))
    return person_update(person=person, actor=actor, changes=changes)


def _definition_locked_for_share(name: str) -> AttributeDefinition | None:
    """The definition named ``name`` (by ``name_key``), locked FOR SHARE (_lock_for_share)."""
    rows = _share_locked(AttributeDefinition.objects.filter(name_key=name_key(name)))
    return rows[0] if rows else None


def person_append_list_item(
    *, person: Person | int, actor: Actor, name: str, item: dict[str, Any]
) -> Person:
    """Append one object to a LIST_OF_OBJECTS attribute of a person."""
    with transaction.atomic():
        definition = _definition_locked_for_share(name)
        locked = lock_person(person)
        if definition is None:
            raise DomainError(
                ErrorCode.NOT_FOUND,
                f"No custom attribute named {name!r} is defined.",
                f"customAttributes.{name}",
            )
        parsed_item = attribute_types.parse_list_item(definition, item)
        current = custom_attribute_values(locked).get(definition.name) or []
        values = [*current, parsed_item]
        if len(values) > attribute_types.MAX_LIST_ITEMS:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"{definition.name} must have at most {attribute_types.MAX_LIST_ITEMS} items.",
                f"customAttributes.{definition.name}",
            )
        changes = PersonChanges(custom_attributes={definition: values})
        return person_update(person=locked, actor=actor, changes=changes)


def new_anonymous_person(*, origin: str = Origin.DEVICE) -> Person:
    """A fresh anonymous lead profile, as a device gets when it registers."""
    return Person.objects.create(type=PersonType.LEAD, origin=origin)


# ---------------------------------------------------------------------------------------------
# Tags and custom attribute definitions


SYSTEM = Actor.system()


@transaction.atomic
def tag_create(*, name: str, actor: Actor = SYSTEM) -> Tag:
    (clean,) = parse_tag_names([name], field_name="name")
    if Tag.objects.filter(name_key=name_key(clean)).exists():
        raise DomainError(ErrorCode.BAD_REQUEST, f"Tag {clean!r} exists already.", "name")
    tag = _tags_by_name([clean])[0]
    record_audit(action="tag created", target=f"tag {tag.pk} {tag.name!r}", actor=actor)
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag, actor: Actor) -> int:
    """Delete a tag; every person that had it gets a history event. Returns how many.

    The tag row is locked FOR UPDATE first: writers that attach it hold it FOR SHARE
    (_tags_by_name) until they commit, so this waits for them and then sees their people;
    writers that come later wait for this and then create the tag afresh. Without the lock a
    person tagged meanwhile failed its foreign key at commit (a 500). A tag deleted by
    someone else meanwhile is NOT_FOUND.
    """
    locked = Tag.objects.select_for_update().filter(pk=tag.pk).first()
    if locked is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"There is no tag {tag.name!r}.", "name")
    person_ids = list(locked.people.order_by("id").values_list("id", flat=True))
    for person_id in person_ids:
        person_update(
            person=person_id,
            actor=actor,
            changes=PersonChanges(tags_remove=[locked.name]),
        )
    record_audit(
        action="tag deleted",
        target=f"tag {locked.pk} {locked.name!r}",
        actor=actor,
        removed_from=len(person_ids),
    )
    locked.delete()
    return len(person_ids)


def _clean_definition_name(name: object) -> str:
    clean_name = attribute_types.validate_definition_name(name)
    if len(name_key(clean_name)) > MAX_NAME_KEY_LENGTH:
        raise DomainError(
            ErrorCode.BAD_REQUEST, "Attribute name is too long once case-folded.", "name"
        )
    return clean_name


@transaction.atomic
def attribute_definition_create(
    *,
    name: str,
    data_type: str,
    object_schema: dict[str, str] | None = None,
    description: str = "",
    actor: Actor = SYSTEM,
) -> AttributeDefinition:
    clean_name = _clean_definition_name(name)
    clean_type = attribute_types.validate_data_type(data_type)
    schema = attribute_types.validate_object_schema(clean_type, object_schema)
    description = _clean_description(description)
    if AttributeDefinition.objects.filter(name_key=name_key(clean_name)).exists():
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"Custom attribute {clean_name!r} exists already.", "name"
        )
    try:
        with transaction.atomic():
            definition = AttributeDefinition.objects.create(
                name=clean_name,
                data_type=clean_type,
                object_schema=schema,
                description=description or "",
            )
    except IntegrityError:
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"Custom attribute {clean_name!r} exists already.", "name"
        ) from None
    record_audit(
        action="custom attribute defined",
        target=f"custom attribute {definition.pk} {definition.name!r}",
        actor=actor,
        data_type=definition.data_type,
    )
    return definition


@transaction.atomic
def attribute_definition_update(
    *,
    definition: AttributeDefinition,
    name: str | None = None,
    data_type: str | None = None,
    description: str | None = None,
    actor: Actor = SYSTEM,
) -> AttributeDefinition:
    """Rename or describe a definition. Its data type never changes once set."""
    locked = AttributeDefinition.objects.select_for_update().get(pk=definition.pk)
    before = (locked.name, locked.description)
    if data_type is not None and data_type != locked.data_type:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"The data type of {locked.name!r} is {locked.data_type} and cannot be changed.",
            "dataType",
        )
    if name is not None:
        clean_name = _clean_definition_name(name)
        clash = (
            AttributeDefinition.objects.filter(name_key=name_key(clean_name))
            .exclude(pk=locked.pk)
            .exists()
        )
        if clash:
            raise DomainError(
                ErrorCode.BAD_REQUEST, f"Custom attribute {clean_name!r} exists already.", "name"
            )
        locked.name = clean_name
    if description is not None:
        locked.description = _clean_description(description)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        # Another definition took the name (by name_key) after our check.
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"Custom attribute {locked.name!r} exists already.", "name"
        ) from None
    record_audit(
        action="custom attribute changed",
        target=f"custom attribute {locked.pk} {locked.name!r}",
        actor=actor,
        before={"name": before[0], "description": before[1]},
        after={"name": locked.name, "description": locked.description},
    )
    return locked


def _clean_description(description: object) -> str:
    if description is None or description == "":
        return ""
    if not isinstance(description, str):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "description must be a string.", "description"
        )
    limit = AttributeDefinition._meta.get_field("description").max_length
    if len(description) > limit:
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"description must be at most {limit} characters.", "description"
        )
    return reject_nul(description, "description")


def attribute_definition_usage(definition: AttributeDefinition) -> int:
    return AttributeValue.objects.filter(definition=definition).count()


@transaction.atomic
def attribute_definition_delete(*, definition: AttributeDefinition, actor: Actor = SYSTEM) -> None:
    """Delete a definition that no person uses; refuse with ATTRIBUTE_IN_USE otherwise.

    The row is locked FOR UPDATE before the usage is counted: writers that set a value of it
    hold it FOR SHARE until they commit (_lock_definitions), so the count sees their values;
    writers that come later wait, then find it undefined (400). Without the lock, a value
    written meanwhile failed its foreign key at commit (a 500).
    """
    locked = AttributeDefinition.objects.select_for_update().filter(pk=definition.pk).first()
    if locked is None:
        raise DomainError(
            ErrorCode.NOT_FOUND, f"There is no custom attribute {definition.name!r}.", "name"
        )
    used_by = attribute_definition_usage(locked)
    if used_by:
        raise DomainError(
            ErrorCode.ATTRIBUTE_IN_USE,
            f"Custom attribute {locked.name!r} is used by {used_by} "
            f"{'person' if used_by == 1 else 'people'} and cannot be deleted.",
            "name",
            details={"usedBy": used_by},
        )
    record_audit(
        action="custom attribute deleted",
        target=f"custom attribute {locked.pk} {locked.name!r}",
        actor=actor,
    )
    locked.delete()


def tag_usage() -> dict[int, int]:
    return dict(Tag.objects.annotate(n=Count("people")).values_list("id", "n"))
