"""Turn push on or off on the installations of everyone a query finds (``push.set``), of one
application or of all, or on the installations given (``installations``: Django admin's
selected rows; the job's people are those who hold them).

Each installation changed records what a one-installation change records
(installations.services.installation_set_push_enabled): a Push changed event on its person,
naming the installation, with registrationEnabled's before and after; the directory's revert
can revert it alone. A person with two devices switched has two events. Like that change, it
does not move the person's version: whether an installation changed since the job is read
from the installation itself (still the job's value, still the person's). The people are
locked before their installations (installations.locks' order); a chunk is a fixed number of
statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from core import roles
from core.errors import DomainError, ErrorCode
from installations.models import Installation
from jobs.actions import JobContext, PreviewRow, RowOutcome, register
from people.batches import ROWS_PER_STATEMENT
from people.history import event_row
from people.models import Event, EventKind, Person
from populations.actions.base import (
    application_id,
    clean_application,
    gone_row,
    installation_label,
    installations_prefetch,
    job_actor,
    lock_installations,
    lock_people,
    missing,
    outcomes_of_errors,
    parameters,
    person_ids,
    preview_people,
    restricted,
    sample,
    unique,
)

FIELD = "registrationEnabled"


def on_off(enabled: bool) -> str:
    return "on" if enabled else "off"


def push_events(actor, switched: list[tuple[Installation, bool, int | None]]) -> list[Event]:
    """One Push changed event per installation switched to its new value (``reverts``: the
    event an undo reverts), written in one statement."""
    events = []
    for installation, before, reverts in switched:
        event = event_row(
            person=Person(pk=installation.person_id),
            kind=EventKind.PUSH_CHANGED,
            actor=actor,
            push_registration_id=installation.push_registration_id,
            changes={FIELD: {"before": before, "after": not before}},
        )
        event.reverts_id = reverts
        events.append(event)
    Event.objects.bulk_create(events, batch_size=ROWS_PER_STATEMENT)
    return events


def switch(installations: Iterable[Installation]) -> None:
    """Each installation's push to the opposite of what it has, in one UPDATE."""
    ids = [installation.pk for installation in installations]
    if ids:
        Installation.objects.filter(pk__in=ids).update(
            registration_enabled=Case(
                When(registration_enabled=True, then=Value(False)), default=Value(True)
            ),
            modified_at=timezone.now(),
        )


class SetPush:
    kind = "push.set"
    label = "Turn push on or off"
    role = roles.EDITOR
    undoable = True

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        enabled = parameters(params).get("enabled")
        if not isinstance(enabled, bool):
            raise DomainError(
                ErrorCode.REQUEST_FORMAT_INVALID, "enabled must be true or false.", "enabled"
            )
        return restricted(params, {"enabled": enabled, "application": clean_application(params)})

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        return person_ids(query)

    def apply(self, job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
        ids = unique(person_ids)
        enabled = job.params["enabled"]
        try:
            with transaction.atomic():
                application = application_id(job.params.get("application"))
                people = lock_people(ids)
                switched = [
                    installation
                    for installation in lock_installations(
                        people, application, job.params.get("installations")
                    )
                    if installation.registration_enabled != enabled
                ]
                switch(switched)
                events = push_events(
                    job_actor(job), [(i, i.registration_enabled, None) for i in switched]
                )
        except DomainError as error:
            return outcomes_of_errors(ids, error)
        # Per installation switched: its id, pushRegistrationId, value before, event.
        undo: dict[int, list] = {}
        for installation, event in zip(switched, events, strict=True):
            undo.setdefault(installation.person_id, []).append(
                [installation.pk, installation.push_registration_id, not enabled, event.pk]
            )
        result = []
        for pk in ids:
            if pk not in people:
                result.append(missing(pk))
            elif pk in undo:
                result.append(RowOutcome(pk, changed=True, undo={"installations": undo[pk]}))
            else:
                result.append(RowOutcome(pk))
        return result

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        records = {int(pk): record["installations"] for pk, record in rows}
        with transaction.atomic():
            lock_people(records)
            wanted = [item[0] for items in records.values() for item in items]
            locked = Installation.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
            now = {installation.pk: installation for installation in locked}
            conflicts = {}
            switched = []
            for pk, items in records.items():
                problems = [_changed(pk, item, now.get(item[0])) for item in items]
                problems = [problem for problem in problems if problem]
                if problems:
                    conflicts[pk] = RowOutcome(
                        pk, error_code=ErrorCode.CHANGED_SINCE, message=" ".join(problems)
                    )
                else:
                    # Each back to its value before the job (it has the job's now).
                    switched += [(now[item[0]], not item[2], item[3]) for item in items]
            switch(installation for installation, _, _ in switched)
            push_events(job_actor(job), switched)
        return [conflicts.get(pk) or RowOutcome(pk, changed=True) for pk in records]

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        params = self.clean_params(params)  # as given, or as the job keeps them
        ids = sample(person_ids)
        people = preview_people(
            ids,
            Person.objects.prefetch_related(
                installations_prefetch(params["application"], params.get("installations"))
            ),
        )
        rows = []
        for pk in ids:
            person = people.get(pk)
            if person is None:
                rows.append(gone_row(pk))
                continue
            installations = person.installations.all()
            rows.append(
                PreviewRow(
                    pk,
                    person.display_name,
                    before={
                        installation_label(i): f"push {on_off(i.registration_enabled)}"
                        for i in installations
                    },
                    after={
                        installation_label(i): f"push {on_off(params['enabled'])}"
                        for i in installations
                    },
                )
            )
        return rows


def _changed(person_id: int, item: list, installation: Installation | None) -> str:
    """What changed since the job on one installation it switched ("" when nothing)."""
    pk, push_id, before, _event = item
    if installation is None:
        return f"Installation {push_id} was deleted since the job; left as it is."
    if installation.person_id != person_id:
        return (
            f"Installation {push_id} belongs to person {installation.person_id} since the job;"
            " left as it is."
        )
    if installation.registration_enabled == before:
        return (
            f"Push of installation {push_id} was turned {on_off(before)} since the job;"
            " left as it is."
        )
    return ""


register(SetPush())
