"""Add tags to everyone a query finds, or take them off (``tags.add``, ``tags.remove``).

The names follow the one-record edit's rules (people.changes.parse_tag_names: at most 256
characters, alike by people.name_keys, duplicates collapsing); a name that no tag has yet
makes the tag, as adding it to one person does (people.apply._tags_by_name), and the tags are
locked FOR SHARE before the people, the order of people.services and of tag_delete. A person
who has all the tags already (or, removing, none of them) is unchanged: no event, no version.

On PostgreSQL the person's ``tag_ids`` follow the links by PersonTag's statement triggers,
whoever writes them. A chunk sets them itself in the people's one UPDATE (``TagIds``), as the
triggers would, before it writes the links: the triggers, still run by that INSERT or DELETE,
then find every row right already, and no person's row is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from core.errors import DomainError, ErrorCode
from jobs.actions import PreviewRow, register
from people.batches import ROWS_PER_STATEMENT, tags_for
from people.changes import parse_tag_names
from people.models import EventKind, Person, PersonTag, Tag
from people.name_keys import name_key
from populations.actions.base import (
    Change,
    PersonAction,
    gone_row,
    listed,
    parameters,
    preview_people,
    sample,
)


def clean_tags(params: dict[str, Any]) -> dict[str, Any]:
    names = parse_tag_names(parameters(params).get("tags"), field_name="tags")
    if not names:
        raise DomainError(ErrorCode.BAD_REQUEST, "Give at least one tag name.", "tags")
    return {"tags": names}


ADD_TAG_IDS = "ARRAY(SELECT DISTINCT t FROM unnest(tag_ids || %s::bigint[]) AS t ORDER BY t)"
REMOVE_TAG_IDS = (
    "ARRAY(SELECT t FROM unnest(tag_ids) AS t WHERE t <> ALL (%s::bigint[]) ORDER BY t)"
)


def links_of(person_ids: Sequence[int], tag_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(person id, tag id) of these people and tags, in one statement."""
    return set(
        PersonTag.objects.filter(person_id__in=list(person_ids), tag_id__in=list(tag_ids))
        .values_list("person_id", "tag_id")
        .order_by()
    )


class TagIds:
    """On PostgreSQL, ``tag_ids`` as the links' triggers leave them once tags are added (or
    removed: ``add`` False), as people.models' _ADD_TAG_IDS and _REMOVE_TAG_IDS compute them,
    for the people's one UPDATE: the triggers then find each person's tag ids right already
    and leave its row alone. People given the same tags share one expression (the UPDATE has
    a branch per set of tags). Elsewhere nothing keeps tag ids, and nothing is set."""

    def __init__(self, *, add: bool) -> None:
        self.add = add
        self.kept = connection.vendor == "postgresql"
        self.expressions: dict[tuple[int, ...], RawSQL] = {}

    def column(self, tag_ids: Iterable[int]) -> dict[str, RawSQL]:
        if not self.kept:
            return {}
        ids = tuple(sorted(set(tag_ids)))
        if ids not in self.expressions:
            self.expressions[ids] = RawSQL(
                ADD_TAG_IDS if self.add else REMOVE_TAG_IDS,
                (list(ids),),
                output_field=Person._meta.get_field("tag_ids"),
            )
        return {"tag_ids": self.expressions[ids]}


def tags_diff(added: list[str], removed: list[str]) -> dict[str, Any]:
    """The one-record edit's tag change (people.apply._apply_tags): sorted names."""
    return {"tags": {"added": sorted(added), "removed": sorted(removed)}}


def _existing(names: list[str]) -> list[Tag]:
    """The tags that have these names (by name_key), in the names' order; no lock."""
    by_key = {tag.name_key: tag for tag in Tag.objects.filter(name_key__in=map(name_key, names))}
    return [by_key[key] for key in map(name_key, names) if key in by_key]


def _preview(params: dict[str, Any], person_ids: Sequence[int], *, add: bool) -> list[PreviewRow]:
    ids = sample(person_ids)
    people = preview_people(ids, Person.objects.prefetch_related("tags"))
    existing = {tag.name_key: tag.name for tag in _existing(params["tags"])}
    # A name no tag has yet: the tag the job makes is named as given.
    names = {name_key(name): existing.get(name_key(name), name) for name in params["tags"]}
    rows = []
    for pk in ids:
        person = people.get(pk)
        if person is None:
            rows.append(gone_row(pk))
            continue
        have = {tag.name_key: tag.name for tag in person.tags.all()}
        after = {**have, **names} if add else {k: v for k, v in have.items() if k not in names}
        rows.append(
            PreviewRow(
                pk,
                person.display_name,
                before={"Tags": listed(have.values())},
                after={"Tags": listed(after.values())},
            )
        )
    return rows


class AddTags(PersonAction):
    kind = "tags.add"
    label = "Add tags"

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return clean_tags(params)

    def prepare(self, params: dict[str, Any]) -> list[Tag]:
        return list({tag.pk: tag for tag in tags_for(params["tags"]).values()}.values())

    def plan(self, tags: list[Tag], people: dict[int, dict[str, Any]]) -> dict[int, Change]:
        have = links_of(list(people), [tag.pk for tag in tags])
        tag_ids = TagIds(add=True)
        changes = {}
        for pk in people:
            new = [tag for tag in tags if (pk, tag.pk) not in have]
            if new:
                changes[pk] = Change(
                    EventKind.TAGS_CHANGED,
                    tags_diff([tag.name for tag in new], []),
                    undo={"tags": [tag.pk for tag in new]},
                    columns=tag_ids.column(tag.pk for tag in new),
                )
        return changes

    def write(self, tags: list[Tag], changes: dict[int, Change]) -> None:
        PersonTag.objects.bulk_create(
            [
                PersonTag(person_id=pk, tag_id=tag_id)
                for pk, change in changes.items()
                for tag_id in change.undo["tags"]
            ],
            batch_size=ROWS_PER_STATEMENT,
        )

    def prepare_undo(self, records: dict[int, dict[str, Any]]) -> dict[int, str]:
        """tag id -> name, of the tags the job added (its undo takes them off)."""
        ids = {tag_id for record in records.values() for tag_id in record["tags"]}
        return dict(Tag.objects.filter(pk__in=ids).values_list("pk", "name"))

    def restore(
        self,
        names: dict[int, str],
        records: dict[int, dict[str, Any]],
        people: dict[int, dict[str, Any]],
    ) -> dict[int, Change]:
        tag_ids = TagIds(add=False)
        return {
            pk: Change(
                EventKind.TAGS_CHANGED,
                tags_diff([], [names[tag_id] for tag_id in record["tags"] if tag_id in names]),
                columns=tag_ids.column(record["tags"]),
            )
            for pk, record in records.items()
        }

    def put_back(self, names: dict[int, str], records: dict[int, dict[str, Any]]) -> None:
        # The person is at the job's version, so it has the links the job added: each tag's
        # people, one DELETE for all of them.
        by_tag: dict[int, list[int]] = {}
        for pk, record in records.items():
            for tag_id in record["tags"]:
                by_tag.setdefault(tag_id, []).append(pk)
        condition = Q()
        for tag_id, pks in by_tag.items():
            condition |= Q(tag_id=tag_id, person_id__in=pks)
        if by_tag:
            PersonTag.objects.filter(condition).delete()

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        params = self.clean_params(params)  # as given, or as the job keeps them
        return _preview(params, person_ids, add=True)


class RemoveTags(PersonAction):
    kind = "tags.remove"
    label = "Remove tags"

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return clean_tags(params)

    def prepare(self, params: dict[str, Any]) -> list[Tag]:
        # Taking a link off needs no lock on its tag (a one-record removal takes none).
        return _existing(params["tags"])

    def plan(self, tags: list[Tag], people: dict[int, dict[str, Any]]) -> dict[int, Change]:
        if not tags:
            return {}
        have = links_of(list(people), [tag.pk for tag in tags])
        tag_ids = TagIds(add=False)
        changes = {}
        for pk in people:
            gone = [tag for tag in tags if (pk, tag.pk) in have]
            if gone:
                names = [tag.name for tag in gone]
                changes[pk] = Change(
                    EventKind.TAGS_CHANGED,
                    tags_diff([], names),
                    undo={"tags": names},
                    columns=tag_ids.column(tag.pk for tag in gone),
                )
        return changes

    def write(self, tags: list[Tag], changes: dict[int, Change]) -> None:
        PersonTag.objects.filter(
            person_id__in=list(changes), tag_id__in=[tag.pk for tag in tags]
        ).delete()

    def prepare_undo(self, records: dict[int, dict[str, Any]]) -> dict[str, Tag]:
        """name -> its tag, made again if it was deleted since, locked FOR SHARE before the
        people (the order of a one-record add)."""
        return tags_for(name for record in records.values() for name in record["tags"])

    def restore(
        self,
        tags: dict[str, Tag],
        records: dict[int, dict[str, Any]],
        people: dict[int, dict[str, Any]],
    ) -> dict[int, Change]:
        tag_ids = TagIds(add=True)
        return {
            pk: Change(
                EventKind.TAGS_CHANGED,
                tags_diff([tags[name].name for name in record["tags"]], []),
                columns=tag_ids.column(tags[name].pk for name in record["tags"]),
            )
            for pk, record in records.items()
        }

    def put_back(self, tags: dict[str, Tag], records: dict[int, dict[str, Any]]) -> None:
        # At the job's version, the person has none of the tags the job took off.
        PersonTag.objects.bulk_create(
            [
                PersonTag(person_id=pk, tag_id=tags[name].pk)
                for pk, record in records.items()
                for name in record["tags"]
            ],
            batch_size=ROWS_PER_STATEMENT,
        )

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        params = self.clean_params(params)  # as given, or as the job keeps them
        return _preview(params, person_ids, add=False)


register(AddTags())
register(RemoveTags())
