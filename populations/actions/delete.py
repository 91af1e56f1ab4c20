"""Delete everyone a query finds (``people.delete``): an Administrator's action, as deleting
one person is.

Each person goes the way of a one-person delete (installations.depersonalize: its identities,
custom attribute values and history with it, its installations to fresh anonymous profiles
with a Depersonalize event there naming the job, the deletion in the audit log), through that
delete's batch form for the chunk's people at once (``person_delete_batch``, the API's batch
delete). Not undoable: the history goes with the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count

from core import roles
from core.errors import DomainError, ErrorCode
from installations.depersonalize import person_delete_batch
from jobs.actions import JobContext, PreviewRow, RowOutcome, register
from people.models import Person
from populations.actions.base import (
    gone_row,
    job_actor,
    lock_people,
    missing,
    parameters,
    person_ids,
    preview_people,
    sample,
    unique,
)


class DeletePeople:
    kind = "people.delete"
    label = "Delete people (cannot be undone)"
    role = roles.ADMINISTRATOR
    undoable = False

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        parameters(params)
        return {}

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        return person_ids(query)

    def apply(self, job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
        ids = unique(person_ids)
        if job.dry_run:
            # The engine rolls a dry run back, but not the audit log's "person deleted"
            # lines: a dry run only finds who is there to delete.
            people = lock_people(ids)
            return [RowOutcome(pk, changed=True) if pk in people else missing(pk) for pk in ids]
        answers = person_delete_batch(actor=job_actor(job), person_ids=ids)
        return [
            RowOutcome(pk, error_code=answer.code, message=answer.message)
            if isinstance(answer, DomainError)
            else RowOutcome(pk, changed=True)
            for pk, answer in zip(ids, answers, strict=True)
        ]

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        raise DomainError(
            ErrorCode.NOT_REVERTIBLE, "Deleted people cannot be brought back.", "kind"
        )

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        params = self.clean_params(params)  # as given, or as the job keeps them
        ids = sample(person_ids)
        people = preview_people(ids, Person.objects.annotate(devices=Count("installations")))
        rows = []
        for pk in ids:
            person = people.get(pk)
            if person is None:
                rows.append(gone_row(pk))
                continue
            before = {"Person": person.display_name}
            after = {"Person": "deleted, with its history"}
            if person.devices:
                before["Installations"] = str(person.devices)
                after["Installations"] = f"{person.devices} moved to new anonymous profiles"
            rows.append(PreviewRow(pk, person.display_name, before=before, after=after))
        return rows


register(DeletePeople())
