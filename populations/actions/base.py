"""What the bulk actions share: the actor their events name, the people of a chunk locked in id
order, one event per changed person with one UPDATE of their versions, and the undo's check
that a person is still as the job left it.

An action works on a chunk of at most 1,000 people inside the chunk's transaction (jobs.engine
opens it, and rolls it back on a dry run), set-based: the rows it attaches (tags, definitions)
locked FOR SHARE first, then the people FOR UPDATE in ascending id order, as every writer of
several people locks them (people.batches, installations.locks), then what it changes read
in one statement and written in one. A chunk takes the same number of statements for 10
people as for 1,000 (tests/populations/test_actions_statements.py: nine for tags.add), where
people.services.person_add_tags takes fourteen for each person.

What ``apply`` reports for a changed person (``RowOutcome.undo``) is what its undo needs: the
person's version after the change (``v``: an undo of a person changed since is refused with
CHANGED_SINCE), the id of the event it recorded (``e``: the undo's event reverts it) and the
values before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, F, Max, Prefetch, Value, When
from django.utils import timezone

from core import roles
from core.errors import DomainError, ErrorCode
from installations.models import Application, Installation
from jobs.actions import SELECTION_LIMIT, JobContext, PreviewRow, RowOutcome
from people.batches import ROWS_PER_STATEMENT
from people.history import Actor, event_row
from people.models import Event, EventKind, Person, Source
from populations.population import person_ids

# How many of a changed person's later events a CHANGED_SINCE message names.
NAMED_CHANGES = 3
# The preview's value of nothing (no tags, no value).
NOTHING = "—"


def parameters(params: Any) -> dict[str, Any]:
    """A job's parameters as given, which must be an object (name -> value)."""
    if not isinstance(params, dict):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "The parameters must be an object.", "params"
        )
    return params


def job_actor(job: JobContext) -> Actor:
    """The operator (or key) who started the job, acting from the job: its events show the
    operator as their actor, "Bulk job" as their source, and name the job (Event.job)."""
    user = get_user_model()(pk=job.actor_user_id) if job.actor_user_id else None
    return Actor(job.actor_kind, job.actor_label, Source.JOB, user, job_id=job.id)


def missing(person_id: int) -> RowOutcome:
    """A person of the chunk deleted since the job found it."""
    return RowOutcome(
        person_id, error_code=ErrorCode.NOT_FOUND, message=f"Person {person_id} does not exist."
    )


def outcomes_of_errors(ids: Sequence[int], error: DomainError) -> list[RowOutcome]:
    """What every person of the chunk needs is gone (a definition or an application deleted
    since the job started): each of them fails with its error, and nothing is written."""
    return [RowOutcome(pk, error_code=error.code, message=error.message) for pk in ids]


def lock_people(ids: Iterable[int], *fields: str) -> dict[int, dict[str, Any]]:
    """The people of ``ids`` that still exist, locked FOR UPDATE in ascending id order, each
    with its ``version`` and ``fields``: two jobs (or a job and a one-person edit) on the
    same people wait for each other in one order, never in a circle."""
    rows = (
        Person.objects.select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
        .values("pk", "version", *fields)
    )
    return {row["pk"]: row for row in rows}


def unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(pk) for pk in ids))


@dataclass
class Change:
    """One person's change by an action: its history event, what its undo needs, the person's
    columns it sets (besides version and modified_at: a value, or an expression of the stored
    row) and the event it reverts (an undo)."""

    kind: str
    changes: dict[str, Any]
    undo: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    reverts: int | None = None


def record_changes(actor: Actor, changes: dict[int, Change]) -> dict[int, int]:
    """One UPDATE of the changed people (version + 1, modified_at, each change's columns)
    and one INSERT of their events; answers person id -> the id of its event."""
    if not changes:
        return {}
    columns: dict[str, dict[Any, list[int]]] = {}
    for pk, change in changes.items():
        for column, value in change.columns.items():
            columns.setdefault(column, {}).setdefault(value, []).append(pk)
    Person.objects.filter(pk__in=list(changes)).update(
        version=F("version") + 1,
        modified_at=timezone.now(),
        **{
            column: Case(
                *(When(pk__in=pks, then=_expression(value)) for value, pks in values.items()),
                default=F(column),
            )
            for column, values in columns.items()
        },
    )
    events = []
    for pk, change in changes.items():
        event = event_row(
            person=Person(pk=pk), kind=change.kind, actor=actor, changes=change.changes
        )
        event.reverts_id = change.reverts
        events.append(event)
    Event.objects.bulk_create(events, batch_size=ROWS_PER_STATEMENT)
    return {event.person_id: event.pk for event in events}


def _expression(value: Any):
    """A column's new value as the UPDATE writes it: an expression as it is (tag ids computed
    from the stored ones), a plain value as a parameter."""
    return value if hasattr(value, "resolve_expression") else Value(value)


def outcomes(
    ids: Sequence[int],
    people: dict[int, dict[str, Any]],
    changes: dict[int, Change],
    events: dict[int, int],
) -> list[RowOutcome]:
    """A RowOutcome per person of the chunk: gone, changed (with its undo record) or as it
    was already."""
    result = []
    for pk in ids:
        if pk not in people:
            result.append(missing(pk))
        elif pk in changes:
            undo = {"v": people[pk]["version"] + 1, "e": events[pk], **changes[pk].undo}
            result.append(RowOutcome(pk, changed=True, undo=undo))
        else:
            result.append(RowOutcome(pk))
    return result


# ---------------------------------------------------------------------------------------------
# Undo: only people as the job left them


def changed_since(
    rows: dict[int, dict[str, Any]], people: dict[int, dict[str, Any]]
) -> dict[int, RowOutcome]:
    """The people of ``rows`` (person id -> apply's undo record) that are no longer as the job
    left them: gone, or at another version than the job's (``v``). Each is a CHANGED_SINCE
    outcome naming what changed since (the kinds of their later events, and who made them),
    read in one statement."""
    conflicts: dict[int, RowOutcome] = {}
    stale = []
    for pk, record in rows.items():
        if pk not in people:
            conflicts[pk] = RowOutcome(
                pk,
                error_code=ErrorCode.CHANGED_SINCE,
                message=f"Person {pk} was deleted since the job; nothing to put back.",
            )
        elif people[pk]["version"] != record["v"]:
            stale.append(pk)
    if not stale:
        return conflicts
    # Each kind of change by each actor once (its latest event), not every later event: a
    # person's app launches alone may be thousands.
    later: dict[int, list[tuple[int, str]]] = {pk: [] for pk in stale}
    kinds_since = (
        Event.objects.filter(person_id__in=stale, pk__gt=min(rows[pk]["e"] for pk in stale))
        .values("person_id", "kind", "actor_label")
        .annotate(latest=Max("pk"))
        .order_by()
    )
    for row in kinds_since:
        if row["latest"] > rows[row["person_id"]]["e"]:
            text = f"{_kind_label(row['kind'])} by {row['actor_label']}"
            later[row["person_id"]].append((row["latest"], text))
    for pk in stale:
        texts = [text for _, text in sorted(later[pk])]
        named = texts[:NAMED_CHANGES]
        more = len(texts) - len(named)
        what = "; ".join(named) + (f"; and {more} more" if more > 0 else "")
        conflicts[pk] = RowOutcome(
            pk,
            error_code=ErrorCode.CHANGED_SINCE,
            message=(
                f"Person {pk} changed since the job (version {people[pk]['version']}, the job"
                f" left version {rows[pk]['v']}){': ' + what if what else ''}; left as it is."
            ),
        )
    return conflicts


def _kind_label(kind: str) -> str:
    return EventKind(kind).label if kind in EventKind.values else kind


def undo_outcomes(
    ids: Sequence[int], conflicts: dict[int, RowOutcome], changes: dict[int, Change]
) -> list[RowOutcome]:
    return [
        conflicts[pk] if pk in conflicts else RowOutcome(pk, changed=pk in changes) for pk in ids
    ]


# ---------------------------------------------------------------------------------------------
# The actions on a person's own data


class PersonAction:
    """An action on people's own data (tags, custom attributes, type), as a template: per
    chunk, ``prepare`` locks what it attaches (before the people: people.apply's order),
    the people are locked, ``plan`` reads what each would change (a Change per changed
    person), one UPDATE of their versions and one INSERT of an event each
    (``record_changes``), then ``write`` writes the rows beside them. Undo alike:
    ``prepare_undo``, the people locked, those changed since refused (``changed_since``,
    ``unrestorable``), ``restore`` plans the others, their UPDATE and events, then
    ``put_back`` writes the rows.

    The people's UPDATE comes before the rows: on PostgreSQL it sets the tag ids that the
    links' triggers would set after them (populations.actions.tags.TagIds), and the triggers
    then find nothing to update. Each person's row is written once rather than twice (a
    chunk of tags.add on 1,000 people: 1.5 s of statements before, 0.5 s after, measured on
    a busy machine)."""

    kind = ""
    label = ""
    role = roles.EDITOR
    undoable = True
    # The person columns ``plan`` and ``restore`` read from the locked rows.
    person_fields: tuple[str, ...] = ()

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        return person_ids(query)

    def apply(self, job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
        ids = unique(person_ids)
        try:
            with transaction.atomic():
                context = self.prepare(job.params)
                people = lock_people(ids, *self.person_fields)
                changes = self.plan(context, people) if people else {}
                events = record_changes(job_actor(job), changes)
                if changes:
                    self.write(context, changes)
        except DomainError as error:
            return outcomes_of_errors(ids, error)
        return outcomes(ids, people, changes, events)

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        records = {int(pk): record for pk, record in rows}
        ids = list(records)
        with transaction.atomic():
            context = self.prepare_undo(records)
            people = lock_people(ids, *self.person_fields)
            conflicts = changed_since(records, people)
            conflicts.update(self.unrestorable(context, records, conflicts))
            restorable = {pk: r for pk, r in records.items() if pk not in conflicts}
            changes = self.restore(context, restorable, people) if restorable else {}
            for pk, change in changes.items():
                change.reverts = records[pk]["e"]
            record_changes(job_actor(job), changes)
            if changes:
                self.put_back(context, restorable)
        return undo_outcomes(ids, conflicts, changes)

    # What each action says

    def prepare(self, params: dict[str, Any]) -> Any:
        """What the chunk attaches, locked before the people (and created where missing)."""
        return params

    def plan(self, context: Any, people: dict[int, dict[str, Any]]) -> dict[int, Change]:
        raise NotImplementedError

    def write(self, context: Any, changes: dict[int, Change]) -> None:
        """The rows beside the person (links, values), written after the people's UPDATE
        (person columns are Change.columns)."""

    def prepare_undo(self, records: dict[int, dict[str, Any]]) -> Any:
        return records

    def unrestorable(
        self, context: Any, records: dict[int, dict[str, Any]], conflicts: dict[int, RowOutcome]
    ) -> dict[int, RowOutcome]:
        """People as the job left them whose change cannot be put back all the same."""
        return {}

    def restore(
        self, context: Any, records: dict[int, dict[str, Any]], people: dict[int, dict[str, Any]]
    ) -> dict[int, Change]:
        """The Change (the undo's event, the person's columns) of each person of ``records``,
        all as the job left them; nothing written yet."""
        raise NotImplementedError

    def put_back(self, context: Any, records: dict[int, dict[str, Any]]) -> None:
        """The rows beside the person as ``records`` had them before the job, written after
        the people's UPDATE."""

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Preview


PREVIEW_SIZE = 10


def sample(person_ids: Sequence[int]) -> list[int]:
    return unique(person_ids)[:PREVIEW_SIZE]


def preview_people(ids: Sequence[int], queryset=None) -> dict[int, Person]:
    """The sample's people (``queryset``: with what the preview shows prefetched)."""
    queryset = Person.objects.all() if queryset is None else queryset
    return {person.pk: person for person in queryset.filter(pk__in=list(ids))}


def gone_row(pk: int) -> PreviewRow:
    return PreviewRow(pk, f"Person {pk}", error=f"Person {pk} does not exist.")


def listed(names: Iterable[str]) -> str:
    shown = ", ".join(sorted(names, key=str.casefold))
    return shown or NOTHING


# ---------------------------------------------------------------------------------------------
# Installations (push, remote logout)


def clean_application(params: dict[str, Any]) -> str | None:
    """The optional ``application`` parameter: the code of an application that exists."""
    code = params.get("application")
    if code is None or code == "":
        return None
    if not isinstance(code, str):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID,
            "application must be an application's code.",
            "application",
        )
    if not Application.objects.filter(code=code).exists():
        raise DomainError(ErrorCode.NOT_FOUND, f"No application has code {code!r}.", "application")
    return code


def application_id(code: str | None) -> int | None:
    """The id of the application of ``code`` (None: every application); NOT_FOUND when it was
    deleted since the job started."""
    if code is None:
        return None
    found = Application.objects.filter(code=code).values_list("pk", flat=True).first()
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No application has code {code!r}.", "application")
    return found


def clean_installations(params: dict[str, Any]) -> list[int] | None:
    """The optional ``installations`` parameter: the ids of the installations the action is
    restricted to (Django admin's selected rows), at most SELECTION_LIMIT; the job's people
    are those who hold them. None: every installation of the people."""
    ids = params.get("installations")
    if ids is None:
        return None
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(pk, int) and not isinstance(pk, bool) and pk > 0 for pk in ids)
    ):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID,
            "installations must be a list of installation ids.",
            "installations",
        )
    ids = sorted(set(ids))
    if len(ids) > SELECTION_LIMIT:
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"At most {SELECTION_LIMIT:,} installations can be selected for one job.",
            "installations",
        )
    return ids


def restricted(params: dict[str, Any], cleaned: dict[str, Any]) -> dict[str, Any]:
    """``cleaned`` with the installations the parameters restrict the action to, when they
    do: a job without them keeps the parameters it always had."""
    installations = clean_installations(params)
    return cleaned if installations is None else {**cleaned, "installations": installations}


def lock_installations(
    person_ids: Iterable[int],
    application: int | None = None,
    installations: Sequence[int] | None = None,
) -> list:
    """The installations of these (locked) people, of one application or all, and of those
    ``installations`` only when given, locked FOR UPDATE in id order: after the people,
    installations.locks' order."""
    queryset = Installation.objects.select_for_update().filter(person_id__in=list(person_ids))
    if application is not None:
        queryset = queryset.filter(application_id=application)
    if installations is not None:
        queryset = queryset.filter(pk__in=list(installations))
    return list(queryset.order_by("pk"))


def installation_label(installation: Installation) -> str:
    """An installation in a preview: its application and its pushRegistrationId."""
    return f"{installation.application.name} {installation.push_registration_id}"


def installations_prefetch(
    application: str | None, installations: Sequence[int] | None = None
) -> Prefetch:
    queryset = Installation.objects.select_related("application").order_by("pk")
    if application is not None:
        queryset = queryset.filter(application__code=application)
    if installations is not None:
        queryset = queryset.filter(pk__in=list(installations))
    return Prefetch("installations", queryset=queryset)
