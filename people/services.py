"""Every write to a person: one function per operation, one transaction each.

The operator UI, the HTTP API and Django admin all call these, so each rule lives here once.
Each function records one history event with its actor and raises DomainError (nothing
written) when a rule of DOMAIN.md would break.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count

from core.errors import DomainError, ErrorCode, reject_nul
from people import custom_attributes as attribute_types
from people.apply import (
    _apply_fields,
    _event_kind,
    _save_person,
    _share_locked,
    _tags_by_name,
    apply_person_changes,
    custom_attribute_values,
    lock_person,
    lock_references,
)
from people.changes import (
    PersonChanges,
    _fields,
    _shown_values,
    merge_changes,
    parse_custom_attributes,
    parse_emails,
    parse_phones,
    parse_tag_names,
)

# people.api.views builds its changes through this module.
from people.changes import contact_changes as contact_changes
from people.changes import replace_changes as replace_changes
from people.changes import replaced_contacts as replaced_contacts
from people.fields import STANDARD_FIELDS
from people.history import Actor, record_audit, record_event
from people.models import (
    AttributeDefinition,
    AttributeValue,
    Event,
    EventKind,
    Origin,
    Person,
    PersonType,
    Tag,
)
from people.name_keys import MAX_NAME_KEY_LENGTH, name_key

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
    reverts: Event | None = None,
) -> Person:
    """Apply an edit (``PersonChanges``) in one transaction with one history event.

    ``expected_version`` is the version the editor started from: an edit of an older version
    is refused with VERSION_CONFLICT and nothing is written. The person returned carries
    ``previous_version``, the version this edit found under the lock: the version it made
    follows directly from that one, and a caller holding it can tell its own change from
    someone else's.

    ``reverts``: the event whose change this edit reverts (directory.revert), recorded on the
    new event; the person returned carries that event as ``recorded_event`` (None when
    nothing changed).
    """
    lock_references(changes)
    locked = lock_person(person)
    locked.previous_version = locked.version
    check_person_version(locked, expected_version)
    diffs = apply_person_changes(locked, changes)
    locked.recorded_event = None
    if diffs:
        locked.version += 1
        _save_person(locked)
        locked.recorded_event = record_event(
            person=locked, kind=_event_kind(diffs), actor=actor, changes=diffs, reverts=reverts
        )
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


def check_person_version(person: Person, expected_version: int | None) -> None:
    """An edit of an older version than ``person``'s is refused (VERSION_CONFLICT)."""
    if expected_version is not None and person.version != expected_version:
        raise DomainError(
            ErrorCode.VERSION_CONFLICT,
            f"This profile was changed since version {expected_version}"
            f" (now version {person.version}).",
            details={"version": person.version, "modifiedAt": person.modified_at.isoformat()},
        )


def new_anonymous_person(*, origin: str = Origin.DEVICE) -> Person:
    """A fresh anonymous lead profile, as a device gets when it registers."""
    return Person.objects.create(type=PersonType.LEAD, origin=origin)


# ---------------------------------------------------------------------------------------------
# Tags and custom attribute definitions


SYSTEM = Actor.system()


def check_tag_name_free(name: object) -> str:
    """``name`` as a tag name (parse_tag_names), refused when a tag has it in any case."""
    (clean,) = parse_tag_names([name], field_name="name")
    if Tag.objects.filter(name_key=name_key(clean)).exists():
        raise DomainError(ErrorCode.BAD_REQUEST, f"Tag {clean!r} exists already.", "name")
    return clean


@transaction.atomic
def tag_create(*, name: str, actor: Actor = SYSTEM) -> Tag:
    clean = check_tag_name_free(name)
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


def check_definition_name_free(name: str, *, other_than: int | None = None) -> None:
    """No custom attribute definition (but ``other_than``) has ``name`` in any case."""
    taken = AttributeDefinition.objects.filter(name_key=name_key(name))
    if other_than is not None:
        taken = taken.exclude(pk=other_than)
    if taken.exists():
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"Custom attribute {name!r} exists already.", "name"
        )


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
    check_definition_name_free(clean_name)
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
        check_definition_name_free(clean_name, other_than=locked.pk)
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
