"""Make everyone a query finds a lead or a customer (``type.change``).

The type is read by the standard attribute's rule (people.fields.clean_standard_field: LEAD
or CUSTOMER, in any case) and recorded as the one-record edit records it, an Attributes
changed event with the type's before and after. The type is set by the chunk's one UPDATE of
the changed people's versions; undo sets each person's type back the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobs.actions import PreviewRow, register
from people.fields import clean_standard_field
from people.models import EventKind, PersonType
from populations.actions.base import (
    Change,
    PersonAction,
    gone_row,
    parameters,
    preview_people,
    sample,
)


def type_label(value: str) -> str:
    return PersonType(value).label if value in PersonType.values else value


def type_change(before: str, after: str) -> Change:
    return Change(
        EventKind.ATTRIBUTES_CHANGED,
        {"type": {"before": before, "after": after}},
        undo={"type": before},
        columns={"type": after},
    )


class ChangeType(PersonAction):
    kind = "type.change"
    label = "Change the type (lead or customer)"
    person_fields = ("type",)

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"type": clean_standard_field("type", parameters(params).get("type"))}

    def plan(self, params: dict[str, Any], people) -> dict[int, Change]:
        wanted = params["type"]
        return {
            pk: type_change(row["type"], wanted)
            for pk, row in people.items()
            if row["type"] != wanted
        }

    def restore(self, context, records, people) -> dict[int, Change]:
        return {
            pk: type_change(people[pk]["type"], record["type"]) for pk, record in records.items()
        }

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        params = self.clean_params(params)  # as given, or as the job keeps them
        ids = sample(person_ids)
        people = preview_people(ids)
        rows = []
        for pk in ids:
            person = people.get(pk)
            if person is None:
                rows.append(gone_row(pk))
                continue
            rows.append(
                PreviewRow(
                    pk,
                    person.display_name,
                    before={"Type": type_label(person.type)},
                    after={"Type": type_label(params["type"])},
                )
            )
        return rows


register(ChangeType())
