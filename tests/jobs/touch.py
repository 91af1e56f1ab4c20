"""The tests' bulk action, "test.touch": sets each person's first name, and puts it back on
undo unless it changed since. A person whose last name is "Refuse" fails (BAD_REQUEST), one
gone since planning fails (NOT_FOUND); ``sleep`` seconds per chunk make a job slow enough to
kill its worker mid-way; ``explode`` in the first name makes every chunk raise."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction

from core import roles
from core.errors import DomainError, ErrorCode
from jobs import actions
from jobs.actions import JobContext, RowOutcome
from people.history import Actor, diff, record_event
from people.models import EventKind, Person, Source
from populations.population import person_ids

KIND = "test.touch"
ADMIN_KIND = "test.touch_admin"


class Touch:
    kind = KIND
    label = "Touch first names"
    role = roles.EDITOR
    undoable = True

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("firstName")
        if not isinstance(name, str) or not name.strip():
            raise DomainError(ErrorCode.BAD_REQUEST, "firstName: a name is needed.", "firstName")
        return {"firstName": name.strip(), "sleep": float(params.get("sleep") or 0)}

    def targets(self, query: dict[str, Any]):
        return person_ids(query)

    def apply(self, job: JobContext, ids) -> list[RowOutcome]:
        time.sleep(job.params["sleep"])
        if job.params["firstName"] == "explode":
            raise RuntimeError("the chunk exploded")
        actor = Actor(job.actor_kind, job.actor_label, Source.JOB, job_id=job.id)
        people = Person.objects.select_for_update().in_bulk(list(ids))
        return [self._touch(people.get(pk), pk, job.params["firstName"], actor) for pk in ids]

    def _touch(self, person, pk: int, name: str, actor: Actor) -> RowOutcome:
        if person is None:
            return RowOutcome(pk, error_code=ErrorCode.NOT_FOUND, message="No such person.")
        if person.last_name == "Refuse":
            return RowOutcome(pk, error_code=ErrorCode.BAD_REQUEST, message="Refused.")
        if person.first_name == name:
            return RowOutcome(pk)
        before = person.first_name
        with transaction.atomic():
            Person.objects.filter(pk=pk).update(first_name=name)
            changes = {"firstName": diff(before, name)}
            record_event(
                person=person, kind=EventKind.ATTRIBUTES_CHANGED, actor=actor, changes=changes
            )
        return RowOutcome(pk, changed=True, undo=before)

    def undo(self, job: JobContext, rows) -> list[RowOutcome]:
        actor = Actor(job.actor_kind, job.actor_label, Source.JOB, job_id=job.id)
        people = Person.objects.select_for_update().in_bulk([pk for pk, _ in rows])
        outcomes = []
        for pk, before in rows:
            person = people.get(pk)
            if person is None or person.first_name != job.params["firstName"]:
                outcomes.append(
                    RowOutcome(pk, error_code=ErrorCode.CHANGED_SINCE, message="Changed since.")
                )
                continue
            outcomes.append(self._touch(person, pk, before, actor))
        return outcomes

    def preview(self, params, ids):
        return []


class TouchByAdministrators(Touch):
    kind = ADMIN_KIND
    label = "Touch first names (administrators)"
    role = roles.ADMINISTRATOR


def register() -> None:
    actions.register(Touch())
    actions.register(TouchByAdministrators())
