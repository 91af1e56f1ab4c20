"""Applying PersonChanges to a locked person, inside the caller's transaction (people.services
holds the operations that lock, apply, save and record): the checks against other people's
identities, the locks on the tags and definitions it attaches, and the differences it made."""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, connection, transaction

from core.errors import DomainError, ErrorCode
from people import custom_attributes as attribute_types
from people import suppression
from people.changes import MAX_CONTACTS_PER_KIND, REPLACE, PersonChanges
from people.fields import (
    STANDARD_FIELDS,
    search_names,
)
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    EventKind,
    IdentityKind,
    Person,
    SuppressedKind,
    Tag,
)
from people.name_keys import name_key

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


def _owner_unless_suppressed(owners, kind: str, value: str, field_name: str) -> int | None:
    """The owner that ``owners`` (a flat values_list of person ids) finds, read in one
    statement with the suppression of the identifier: refused (IDENTIFIER_SUPPRESSED) when
    nobody has it and it was erased (people.suppression)."""
    found = set(owners.order_by().union(suppression.marker(kind, value), all=True))
    owner = next((pk for pk in found if pk != suppression.SUPPRESSED_OWNER), None)
    if owner is None and found:
        raise suppression.refusal(kind, field_name)
    return owner


def check_external_id_free(external_id: str, person_id: int | None) -> None:
    """Refused (USER_MERGE_INTERRUPTED) when another person than ``person_id`` has it, and
    (IDENTIFIER_SUPPRESSED) when it was an erased person's."""
    owners = Person.objects.filter(external_id=external_id).values_list("id", flat=True)
    other = _owner_unless_suppressed(owners, SuppressedKind.EXTERNAL_ID, external_id, "externalId")
    if other is not None and other != person_id:
        raise _merge_error("externalId", f"externalId {external_id!r}", other)


def check_identity_free(
    kind: str, value: str, person_id: int | None, field_name: str
) -> int | None:
    """Refused (USER_MERGE_INTERRUPTED, at ``field_name``) when another person than
    ``person_id`` has the phone or email ``value``, and (IDENTIFIER_SUPPRESSED) when it was an
    erased person's; else its owner (None: nobody)."""
    owners = ContactIdentity.objects.filter(kind=kind, value=value).values_list(
        "person_id", flat=True
    )
    owner = _owner_unless_suppressed(owners, suppression.kind_of(kind), value, field_name)
    if owner is not None and owner != person_id:
        raise _merge_error(field_name, f"{kind.lower()} {value}", owner)
    return owner


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
            check_external_id_free(new, person.pk)
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
    if check_identity_free(kind, value, person.pk, field_name) is not None:
        return False
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
