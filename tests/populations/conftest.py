"""Running a bulk action as the job engine runs it: a Job row, its JobContext, one chunk in one
transaction, and the undo records stored as JSON (JobChunk.undo) on their way to the undo."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction

from jobs import actions
from jobs.actions import JobContext, RowOutcome
from jobs.models import Job
from people.apply import custom_attribute_values
from people.models import ActorKind, Event, Person, Source
from tests.factories import PersonFactory


def start(kind: str, params: dict[str, Any], user: User | None = None, undoes=None) -> JobContext:
    """A job of ``kind`` with its parameters cleaned by the action, as the engine stores it."""
    cleaned = actions.get(kind).clean_params(params) if undoes is None else undoes.params
    job = Job.objects.create(
        kind=kind,
        params=cleaned,
        actor_kind=ActorKind.OPERATOR if user else ActorKind.SYSTEM,
        actor_label=user.get_username() if user else "tests",
        actor_user=user,
        source=Source.UI,
        undoes_id=undoes.id if undoes is not None else None,
    )
    return JobContext(
        id=job.pk,
        kind=kind,
        params=cleaned,
        actor_kind=job.actor_kind,
        actor_label=job.actor_label,
        actor_user_id=user.pk if user else None,
        source=job.source,
    )


def run(job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
    """One chunk in its own transaction, as jobs.tasks runs it."""
    with transaction.atomic():
        return actions.get(job.kind).apply(job, list(person_ids))


def stored(outcomes: list[RowOutcome]) -> list[tuple[int, Any]]:
    """The chunk's undo records as JobChunk.undo keeps them (JSON), for ``undo``."""
    rows = [[o.person_id, o.undo] for o in outcomes if o.changed]
    return [tuple(row) for row in json.loads(json.dumps(rows))]


def undo(job: JobContext, outcomes: list[RowOutcome], user: User | None = None):
    """Undo the job's changes (an undo job of its own); answers the undo job and outcomes."""
    undoing = start(job.kind, {}, user, undoes=job)
    with transaction.atomic():
        result = actions.get(job.kind).undo(undoing, stored(outcomes))
    return undoing, result


def by_person(outcomes: list[RowOutcome]) -> dict[int, RowOutcome]:
    return {o.person_id: o for o in outcomes}


def events_of(job: JobContext):
    return Event.objects.filter(job_id=job.id).order_by("person_id", "pk")


def snapshot(person: Person | int) -> dict[str, Any]:
    """What the actions change, and the history length (not the version: an undo is a write)."""
    person = Person.objects.get(pk=person if isinstance(person, int) else person.pk)
    return {
        "type": person.type,
        "first_name": person.first_name,
        "tags": sorted(person.tags.values_list("name", flat=True)),
        "tag_ids": sorted(person.tag_ids) if connection.vendor == "postgresql" else None,
        "attributes": {k: repr(v) for k, v in custom_attribute_values(person).items()},
        "installations": sorted(
            person.installations.values_list(
                "push_registration_id", "registration_enabled", "is_primary"
            )
        ),
    }


def assert_event_names_job(event: Event, job: JobContext, user: User | None) -> None:
    assert event.job_id == job.id
    assert event.source == Source.JOB
    assert event.actor_label == job.actor_label
    assert event.actor_user_id == (user.pk if user else None)


@pytest.fixture
def people(db) -> list[Person]:
    return [PersonFactory(first_name=f"P{i}") for i in range(5)]
