"""What the import's undo needs, and the undo itself: the people a chunk updates as they were
before it (read under their lock), each changed person's undo record, and putting them back."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import F, Max
from django.utils import timezone

from jobs.actions import JobContext, RowOutcome
from people import custom_attributes as attribute_types
from people.apply import _lock_for_share
from people.batches import ROWS_PER_STATEMENT, person_update_batch
from people.changes import attribute_definitions_named
from people.fields import STANDARD_FIELDS
from people.history import Actor, event_row
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    Event,
    EventKind,
    IdentityKind,
    Person,
    Tag,
)
from transfer.imports.rows import Reader


def _jsonable(value: Any) -> Any:
    """A value as JobChunk.undo stores it (decimals as exact text)."""
    return json.loads(json.dumps(value, default=str))


def snapshot(ids: list[int], reader: Reader) -> dict[int, dict[str, Any]]:
    """The people the chunk updates as they are before it: locked (FOR UPDATE, id order),
    their mapped standard and custom attributes, tags (ids, with each link's id) and
    identities. Four statements."""
    if not ids:
        return {}
    standard = [
        (vendor, model)
        for vendor, (model, _) in STANDARD_FIELDS.items()
        if vendor in reader.header_of or vendor == "externalId"
    ]
    people = (
        Person.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values("pk", *[model for _, model in standard])
    )
    before: dict[int, dict[str, Any]] = {}
    for person in people:
        before[person["pk"]] = {
            "fields": {vendor: _jsonable(person[model]) for vendor, model in standard},
            "attrs": {name: None for name in reader.definitions},
            "tags": {},
            "phones": [],
            "emails": [],
        }
    Link = Person.tags.through
    for link_id, person_id, tag_id in Link.objects.filter(person_id__in=ids).values_list(
        "pk", "person_id", "tag_id"
    ):
        before[person_id]["tags"][tag_id] = link_id
    for person_id, kind, value in ContactIdentity.objects.filter(person_id__in=ids).values_list(
        "person_id", "kind", "value"
    ):
        before[person_id]["phones" if kind == IdentityKind.PHONE else "emails"].append(value)
    by_definition = {d.pk: name for name, d in reader.definitions.items()}
    if by_definition:
        for value in AttributeValue.objects.filter(
            person_id__in=ids, definition_id__in=list(by_definition)
        ).select_related("definition"):
            definition = value.definition
            before[value.person_id]["attrs"][by_definition[definition.pk]] = _jsonable(
                attribute_types.serialize_value(
                    definition, attribute_types.from_row(definition, value)
                )
            )
    return before


def undo_records(job: JobContext, outcomes: list[RowOutcome], before) -> None:
    """Each changed person's undo record on its first changed row: its version after the
    chunk (``v``), its latest event of this job (``e``), and for an update what it was."""
    changed = {o.person_id for o in outcomes if o.changed and not o.error_code}
    if not changed:
        return
    versions = dict(Person.objects.filter(pk__in=changed).values_list("pk", "version"))
    events = dict(
        Event.objects.filter(job_id=job.id, person_id__in=changed)
        .values("person_id")
        .annotate(latest=Max("pk"))
        .values_list("person_id", "latest")
        .order_by()
    )
    seen: set[int] = set()
    for outcome in outcomes:
        pk = outcome.person_id
        if pk not in changed or pk in seen or pk not in versions:
            continue
        seen.add(pk)
        record: dict[str, Any] = {"v": versions[pk], "e": events.get(pk, 0)}
        if outcome.created:
            record["created"] = True
        else:
            snapshot = before[pk]
            record.update(snapshot, tags=sorted(snapshot["tags"]))
        outcome.undo = record


def lock_references(records: dict[int, dict[str, Any]]) -> None:
    """The definitions and tags putting these people back writes, locked FOR SHARE before any
    person is: the order of attribute_definition_delete and tag_delete (the definition or
    the tag, then its people), so that an undo and a delete wait for each other instead of
    deadlocking."""
    names = {name for record in records.values() for name in record["attrs"]}
    definitions = attribute_definitions_named(names)
    _lock_for_share(AttributeDefinition, sorted(d.pk for d in definitions.values()))
    _lock_for_share(Tag, sorted({tag for record in records.values() for tag in record["tags"]}))


def put_back(actor: Actor, records: dict[int, dict[str, Any]]) -> None:
    """People the import updated, as they were: their attributes through person_update_batch
    (its rules and events), then tags and identities the import added taken off."""
    names = {name for r in records.values() for name in r["attrs"]}
    definitions = attribute_definitions_named(names)
    items = []
    for pk, record in records.items():
        attrs = {
            name: None
            if value is None
            else attribute_types.read_value_text(definitions[name], value)
            for name, value in record["attrs"].items()
            if name in definitions
        }
        items.append((pk, {"fields": record["fields"], "custom_attributes": attrs}))
    person_update_batch(actor=actor, items=items)
    ids = list(records)
    Link = Person.tags.through
    links = list(Link.objects.filter(person_id__in=ids).values_list("pk", "person_id", "tag_id"))
    had = {pk: set(r["tags"]) for pk, r in records.items()}
    involved = {tag_id for _, _, tag_id in links} | {t for ts in had.values() for t in ts}
    tag_names = dict(Tag.objects.filter(pk__in=involved).values_list("pk", "name"))
    diffs: dict[int, dict[str, Any]] = {}

    def note(pk: int, area: str, side: str, value: str) -> None:
        diff = diffs.setdefault(pk, {}).setdefault(area, {"added": [], "removed": []})
        diff[side].append(value)

    extra = []
    for link_id, pk, tag_id in links:
        if tag_id not in had[pk]:
            extra.append(link_id)
            note(pk, "tags", "removed", tag_names.get(tag_id, str(tag_id)))
    having = {(pk, tag_id) for _, pk, tag_id in links}
    missing = []
    for pk, tag_ids in had.items():
        for tag_id in sorted(tag_ids):
            # A tag deleted since cannot come back.
            if (pk, tag_id) not in having and tag_id in tag_names:
                missing.append(Link(person_id=pk, tag_id=tag_id))
                note(pk, "tags", "added", tag_names[tag_id])
    added = []
    for identity_id, pk, kind, value in ContactIdentity.objects.filter(
        person_id__in=ids
    ).values_list("pk", "person_id", "kind", "value"):
        area = "phones" if kind == IdentityKind.PHONE else "emails"
        if value not in records[pk][area]:
            added.append(identity_id)
            note(pk, area, "removed", value)
    if extra:
        Link.objects.filter(pk__in=extra).delete()
    if missing:
        Link.objects.bulk_create(missing, batch_size=ROWS_PER_STATEMENT)
    if added:
        ContactIdentity.objects.filter(pk__in=added).delete()
    if diffs:
        Person.objects.filter(pk__in=list(diffs)).update(
            version=F("version") + 1, modified_at=timezone.now()
        )
        Event.objects.bulk_create(
            [
                event_row(
                    person=Person(pk=pk),
                    kind=_kind(diff),
                    actor=actor,
                    changes=diff,
                )
                for pk, diff in sorted(diffs.items())
            ],
            batch_size=ROWS_PER_STATEMENT,
        )


def _kind(diff: dict[str, Any]) -> str:
    """The event of tags put back, of contacts taken off, or of both."""
    if set(diff) == {"tags"}:
        return EventKind.TAGS_CHANGED
    return EventKind.PERSON_UPDATED if "tags" in diff else EventKind.CONTACTS_CHANGED
