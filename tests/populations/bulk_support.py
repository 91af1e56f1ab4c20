"""Bulk actions for the tests of the bulk pages: each keeps the protocol of jobs.actions
(clean_params with a DomainError naming the field, preview of a sample) and is registered
only for the test that asks for it (``register_test_actions``), in place of any action of
its kind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from core import roles
from core.errors import DomainError, ErrorCode
from jobs import actions
from jobs.actions import JobContext, PreviewRow, RowOutcome
from people.models import Person
from populations import population

# What the test actions refuse in clean_params, at the field they name.
REFUSED_TAG = "forbidden"


@dataclass
class SampleAction:
    """Its preview reads the sample in two statements (the people, their tags)."""

    kind: str
    label: str
    role: str = roles.EDITOR
    undoable: bool = True

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        tags = params.get("tags")
        if self.kind.startswith("tags."):
            if not isinstance(tags, list) or not tags:
                raise DomainError(ErrorCode.BAD_REQUEST, "Give at least one tag.", field="tags")
            if REFUSED_TAG in tags:
                raise DomainError(
                    ErrorCode.BAD_REQUEST, f"The tag {REFUSED_TAG} is refused.", field="tags"
                )
            return {"tags": sorted(set(tags))}
        return dict(params)

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        return population.person_ids(query)

    def apply(self, job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
        return [RowOutcome(person_id=pk) for pk in person_ids]

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        return [RowOutcome(person_id=pk) for pk, _ in rows]

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        people = Person.objects.filter(pk__in=person_ids).prefetch_related("tags").order_by("pk")
        rows = []
        for person in people:
            tags = sorted(tag.name for tag in person.tags.all())
            after = sorted(set(tags) | set(params.get("tags", [])))
            rows.append(
                PreviewRow(
                    person_id=person.pk,
                    label=person.display_name,
                    before={"tags": ", ".join(tags)},
                    after={"tags": ", ".join(after)},
                )
            )
        return rows


TEST_ACTIONS = [
    SampleAction("tags.add", "Add tags"),
    SampleAction("attribute.set", "Set a custom attribute"),
    SampleAction("push.set", "Turn push on or off"),
    SampleAction("people.delete", "Delete people", role=roles.ADMINISTRATOR, undoable=False),
]


def register_test_actions(monkeypatch: pytest.MonkeyPatch) -> dict[str, SampleAction]:
    """The test actions, registered for this test only (monkeypatch puts the registry back as
    it was, with any action of the same kind)."""
    for action in TEST_ACTIONS:
        monkeypatch.setitem(actions._REGISTRY, action.kind, action)
    return {action.kind: action for action in TEST_ACTIONS}
