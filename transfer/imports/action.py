"""The import as a job ("people.import", registered with jobs.actions): its targets are the
file's row numbers, so a chunk holds rows, not people.

Planning reads the whole file once (``targets``): an identifier (externalId, phone, email)
that two rows claim for two different people (rows with different match values) is an error
on the later row, kept as an ImportConflict, since a chunk sees only its own rows.

A chunk (``apply``) reads its rows in one statement, parses each with the rules of a
one-record edit (people.changes.merge_changes), matches them to people in one statement, then
writes them through people.batches (person_create_batch, person_update_batch), which check
uniqueness against the database and within the chunk: a few statements per chunk, not per
row. A row that fails is reported with its row number, column and cell, and the others stand.

Undo: people the import created are deleted, people it updated put back (standard
attributes and custom attributes of the mapped columns, tags, phones and emails as they were
before), unless changed since (CHANGED_SINCE).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from core import roles
from core.errors import DomainError, ErrorCode
from installations.depersonalize import person_delete_batch
from jobs.actions import JobContext, PreviewRow, RowOutcome
from people.batch_checks import (
    claim_error,
    claims_of,
    limit_error,
    lock_definitions,
    owners_of,
)
from people.batches import (
    ROWS_PER_STATEMENT,
    person_create_batch,
    person_update_batch,
    tags_for,
)
from people.changes import MAX_CONTACTS_PER_KIND
from people.history import Actor, event_row
from people.models import (
    ContactIdentity,
    Event,
    EventKind,
    IdentityKind,
    Person,
    Source,
    Tag,
)
from populations.actions.base import changed_since, lock_people
from transfer import columns
from transfer.imports import mapping
from transfer.imports import undo as undoing
from transfer.imports.rows import Reader, Row, RowError, reading_key
from transfer.models import ImportConflict, ImportFile, ImportRow

KIND = "people.import"
# A dry run's "would be created" (no id: nothing is written).
DRY = 0
# Rows read per statement while planning.
PLANNING_BATCH = 5000


def import_actor(job: JobContext) -> Actor:
    """The operator (or key) who started the import, acting from its job: events show
    "Import" as their source and name the job."""
    user = get_user_model()(pk=job.actor_user_id) if job.actor_user_id else None
    return Actor(job.actor_kind, job.actor_label, Source.IMPORT, user, job_id=job.id)


def import_query(options: dict[str, Any]) -> dict[str, Any]:
    """The job's query: the file's rows, read under the mapping and match key (planning's
    pass over the file needs them; ``targets`` sees only the query)."""
    return {"import": options["file"], "mapping": options["mapping"], "match": options["match"]}


class ImportAction:
    kind = KIND
    label = "Import people"
    role = roles.EDITOR
    undoable = True
    # Its chunks hold row numbers: the job pages show rows created and updated, and each
    # error's row, column and value (populations.views.jobs.on_rows).
    targets_rows = True

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return mapping.clean_options(params)

    # Planning --------------------------------------------------------------------------------

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        return self._plan(query)

    def _plan(self, query: dict[str, Any]) -> Iterator[int]:
        file = ImportFile.objects.get(pk=query["import"])
        options = {**mapping.DEFAULTS, **query, "file": file.pk}
        reader = Reader(options, file.headers)
        reading = reading_key(options)
        ImportConflict.objects.filter(file=file, reading=reading).delete()
        holders: dict[tuple[str, str], tuple[int, str | None]] = {}
        found: list[ImportConflict] = []
        rows = ImportRow.objects.filter(file=file).order_by("number").values_list("number", "cells")
        for number, cells in rows.iterator(chunk_size=PLANNING_BATCH):
            match, identifiers = reader.keys(cells)
            for target, value in identifiers:
                key = (target, value)
                holder = holders.get(key)
                if holder is None:
                    holders[key] = (number, match)
                elif holder[0] != number and (holder[1] is None or holder[1] != match):
                    found.append(
                        self._conflict(file, reading, reader, number, cells, target, holder)
                    )
                    break
            if len(found) >= ROWS_PER_STATEMENT:
                ImportConflict.objects.bulk_create(found)
                found = []
            yield number
        ImportConflict.objects.bulk_create(found)

    def _conflict(self, file, reading, reader, number, cells, target, holder) -> ImportConflict:
        header = reader.header_of[target]
        what = {"externalId": "externalId", "phones": "phone", "emails": "email"}[target]
        return ImportConflict(
            file=file,
            reading=reading,
            row=number,
            column=header,
            value=reader.cell(cells, header),
            message=(
                f"Row {holder[0]} of the file has this {what} for another person; "
                "an identifier belongs to one person."
            ),
        )

    # A chunk ---------------------------------------------------------------------------------

    def apply(self, job: JobContext, row_numbers: Sequence[int]) -> list[RowOutcome]:
        options = job.params
        file = ImportFile.objects.only("headers").get(pk=options["file"])
        reader = Reader(options, file.headers)
        stored = dict(
            ImportRow.objects.filter(file=file, number__in=list(row_numbers)).values_list(
                "number", "cells"
            )
        )
        conflicts = {
            c.row: c
            for c in ImportConflict.objects.filter(
                file=file, reading=reading_key(options), row__in=list(row_numbers)
            )
        }
        rows = []
        for number in row_numbers:
            row = reader.read(number, stored.get(number, []))
            if row.error is None and number in conflicts:
                c = conflicts[number]
                row.error = RowError(ErrorCode.USER_MERGE_INTERRUPTED, c.message, c.column, c.value)
            rows.append(row)
        plan = _Plan(options, reader, rows)
        plan.match()
        return plan.write(job)

    # Undo ------------------------------------------------------------------------------------

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        records = {int(pk): record for pk, record in rows if record}
        ids = [int(pk) for pk, _ in rows]
        actor = import_actor(job)
        undoing.lock_references({pk: r for pk, r in records.items() if not r.get("created")})
        people = lock_people(records)
        conflicts = changed_since(records, people)
        restorable = {pk: r for pk, r in records.items() if pk not in conflicts}
        created = [pk for pk, r in restorable.items() if r.get("created")]
        updated = {pk: r for pk, r in restorable.items() if not r.get("created")}
        if created:
            person_delete_batch(actor=actor, person_ids=created)
        if updated:
            undoing.put_back(actor, updated)
        return [
            conflicts[pk] if pk in conflicts else RowOutcome(pk, changed=pk in restorable)
            for pk in ids
        ]

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        return []


class _Plan:
    """What a chunk's rows do: create, update (which person), or fail."""

    def __init__(self, options: dict[str, Any], reader: Reader, rows: list[Row]) -> None:
        self.options = options
        self.reader = reader
        self.rows = rows
        self.creates: list[Row] = []
        self.updates: list[tuple[Row, int | Row]] = []  # the person's id, or the row creating it

    def match(self) -> None:
        key = self.options["match"]
        mode = self.options["mode"]
        values = {row.match for row in self.rows if row.error is None and row.match}
        owners = _owners(key, values)
        header = self.reader.header_of[key]
        first_of: dict[str, Row] = {}
        for row in self.rows:
            if row.error is not None:
                continue
            owner = owners.get(row.match) if row.match else None
            if owner is not None:
                if mode == "create":
                    row.error = RowError(
                        ErrorCode.CONFLICT,
                        f"Person {owner} has this {key} already; the import creates only.",
                        header,
                        row.match or "",
                    )
                else:
                    self.updates.append((row, owner))
            elif row.match and row.match in first_of:
                # The same person twice in the chunk: the later row updates the new person.
                self.updates.append((row, first_of[row.match]))
            elif mode == "update":
                row.error = RowError(
                    ErrorCode.NOT_FOUND,
                    f"No person has this {key}; the import updates only."
                    if row.match
                    else f"The row has no {key} to find its person by; the import updates only.",
                    header,
                    row.match or "",
                )
            else:
                self.creates.append(row)
                if row.match:
                    first_of[row.match] = row

    def write(self, job: JobContext) -> list[RowOutcome]:
        actor = import_actor(job)
        results: dict[int, RowOutcome] = {}
        for row in self.rows:
            if row.error is not None:
                results[row.number] = _failed(row, row.error)
        replace_tags = self.options["tags"] == "replace"
        # The definitions and tags FOR SHARE, then the people FOR UPDATE (people.batches'
        # order), before anything is read for the undo.
        writing = self.creates + [row for row, _ in self.updates]
        lock_definitions(
            {index: row.changes for index, row in enumerate(writing) if row.changes},
            [None] * len(writing),
        )
        tags = tags_for(name for row in writing for name in _tags(row))
        existing = sorted({pk for _, pk in self.updates if isinstance(pk, int)})
        before = {} if job.dry_run else undoing.snapshot(existing, self.reader)

        created: dict[int, int] = {}  # row number -> person id
        if self.creates:
            answers = (
                self._check_creates()
                if job.dry_run
                else person_create_batch(actor=actor, items=[r.changes for r in self.creates])
            )
            for row, answer in zip(self.creates, answers, strict=True):
                if isinstance(answer, Exception):
                    results[row.number] = _failed(row, self._error(row, answer))
                else:
                    pk = answer if isinstance(answer, int) else answer.pk
                    created[row.number] = pk
                    results[row.number] = RowOutcome(
                        pk or None, row=row.number, changed=True, created=True
                    )
        items, targets = [], []
        for row, target in self.updates:
            pk = target if isinstance(target, int) else created.get(target.number)
            if pk == DRY:
                # A dry run created nobody: the row would update the row's new person.
                results[row.number] = RowOutcome(None, row=row.number, changed=True)
                continue
            if pk is None:
                results[row.number] = _failed(
                    row,
                    RowError(
                        ErrorCode.NOT_FOUND,
                        f"Row {target.number}, which creates this person, failed.",
                        self.reader.header_of[self.options["match"]],
                        row.match or "",
                    ),
                )
                continue
            items.append((pk, row.changes))
            targets.append((row, pk))
        if items:
            answers = person_update_batch(actor=actor, items=items)
            for (row, pk), answer in zip(targets, answers, strict=True):
                if isinstance(answer, Exception):
                    results[row.number] = _failed(row, self._error(row, answer))
                else:
                    results[row.number] = RowOutcome(pk, row=row.number, changed=bool(answer))
        if replace_tags:
            for pk in _replace_tags(actor, targets, results, tags, before):
                for row, person in targets:
                    if person == pk and not results[row.number].error_code:
                        results[row.number].changed = True
        outcomes = [results[row.number] for row in self.rows]
        if not job.dry_run:
            undoing.undo_records(job, outcomes, before)
        return outcomes

    def _check_creates(self) -> list[int | Exception]:
        """A dry run's new people, checked as person_create_batch checks them (the same
        functions: unique identifiers against the database, erased ones, within the chunk,
        contact limits) without writing them: DRY for each that would be created."""
        claims = [claims_of(row.changes) for row in self.creates]
        owners = owners_of({claim.key for item in claims for claim in item})
        claimed_by: dict[tuple[str, str], Row] = {}
        answers: list[int | Exception] = []
        for row, row_claims in zip(self.creates, claims, strict=True):
            error: DomainError | None = None
            counts = {IdentityKind.PHONE: 0, IdentityKind.EMAIL: 0}
            for claim in row_claims:
                kind = claim.key[0]
                if kind in counts:
                    counts[kind] += 1
                    if counts[kind] > MAX_CONTACTS_PER_KIND:
                        error = limit_error(kind)
                        break
                if claim.key in owners:
                    error = claim_error(claim, owners[claim.key])
                    break
                if claim.key in claimed_by:
                    error = DomainError(
                        ErrorCode.USER_MERGE_INTERRUPTED,
                        f"The {claim.what} is the new person's of row "
                        f"{claimed_by[claim.key].number}.",
                        claim.field,
                    )
                    break
            if error is None:
                claimed_by.update({claim.key: row for claim in row_claims})
            answers.append(error or DRY)
        return answers

    def _error(self, row: Row, error: Exception) -> RowError:
        if not isinstance(error, DomainError):
            raise error
        header = self.reader.column_of_field.get(error.field or "", "")
        if not header and error.code == ErrorCode.USER_MERGE_INTERRUPTED:
            header = self.reader.header_of.get(self.options["match"], "")
        value = _cell(self.reader, row, header)
        return RowError(error.code, error.message, header, value)


def _cell(reader: Reader, row: Row, header: str) -> str:
    """The cell of ``header`` as the item holds it (for an error after parsing)."""
    if not header:
        return ""
    target = reader.options["mapping"].get(header, "")
    item = row.item
    if target in columns.IDENTIFIER_COLUMNS or target == "tags":
        key = "tags" if target == "tags" else target
        return columns.join_cell([str(v) for v in item.get(key) or []])
    if target.startswith(columns.CUSTOM_PREFIX):
        value = (item.get("custom_attributes") or {}).get(target[len(columns.CUSTOM_PREFIX) :])
        return "" if value is None else str(value)
    return str((item.get("fields") or {}).get(target, ""))


def _tags(row: Row) -> list[str]:
    return list(row.item.get("tags") or [])


def _failed(row: Row, error: RowError) -> RowOutcome:
    return RowOutcome(
        None,
        row=row.number,
        error_code=error.code,
        message=error.message,
        column=error.column,
        value=error.value,
    )


def _owners(key: str, values: set[str]) -> dict[str, int]:
    """match value -> the person holding it, in one statement."""
    if not values:
        return {}
    if key == "externalId":
        rows = Person.objects.filter(external_id__in=values).values_list("external_id", "pk")
    else:
        kind = IdentityKind.PHONE if key == "phones" else IdentityKind.EMAIL
        rows = ContactIdentity.objects.filter(kind=kind, value__in=values).values_list(
            "value", "person_id"
        )
    return dict(rows)


def _replace_tags(actor, targets, results, tags: dict[str, Tag], before) -> set[int]:
    """Tags replaced: each updated person's tags not in its (last) row are taken off, with an
    event each. The people whose tags were taken off."""
    wanted: dict[int, set[int]] = {}
    for row, pk in targets:
        if "tags" in row.item and not results[row.number].error_code:
            wanted[pk] = {tags[name].pk for name in row.item["tags"]}
    if not wanted:
        return set()
    Link = Person.tags.through
    links = Link.objects.filter(person_id__in=list(wanted)).values_list("pk", "person_id", "tag_id")
    gone: dict[int, list[int]] = {}
    link_ids = []
    for link_id, person_id, tag_id in links:
        if tag_id not in wanted[person_id]:
            gone.setdefault(person_id, []).append(tag_id)
            link_ids.append(link_id)
    if not link_ids:
        return set()
    names = dict(
        Tag.objects.filter(pk__in={t for ts in gone.values() for t in ts}).values_list("pk", "name")
    )
    Link.objects.filter(pk__in=link_ids).delete()
    Person.objects.filter(pk__in=list(gone)).update(
        version=F("version") + 1, modified_at=timezone.now()
    )
    Event.objects.bulk_create(
        [
            event_row(
                person=Person(pk=pk),
                kind=EventKind.TAGS_CHANGED,
                actor=actor,
                changes={"tags": {"added": [], "removed": sorted(names[t] for t in tag_ids)}},
            )
            for pk, tag_ids in gone.items()
        ],
        batch_size=ROWS_PER_STATEMENT,
    )
    return set(gone)
