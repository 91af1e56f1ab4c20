"""Set one custom attribute on everyone a query finds, or remove it (``attribute.set``,
``attribute.remove``).

The value is read and checked by the attribute's definition as the person page's editor reads
it (people.custom_attributes: ``read_value_text``, then ``parse_custom_attributes``), so a job
takes what one edit takes and refuses it with the same message; it is kept in the job's
parameters as the API shows it (a date-time to the millisecond) and read again the same way
for every chunk. The definition is
locked FOR SHARE before the people (people.apply's order; attribute_definition_delete waits).
A person whose value is that already (or, removing, who has none) is unchanged.

Undo puts back each person's stored columns as they were (``before``; none: no value), so a
value comes back exactly, to the last digit of a decimal and the microsecond of a date-time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Prefetch

from core.errors import DomainError, ErrorCode
from jobs.actions import PreviewRow, RowOutcome, register
from people import custom_attributes as attribute_types
from people.apply import _jsonable, _lock_for_share
from people.batches import ROWS_PER_STATEMENT, VALUE_COLUMNS, attribute_diff
from people.changes import attribute_definitions_named, parse_custom_attributes
from people.history_lines import value_text
from people.models import AttributeDefinition, AttributeValue, EventKind, Person
from people.services import _definition_locked_for_share
from populations.actions.base import (
    NOTHING,
    Change,
    PersonAction,
    gone_row,
    parameters,
    preview_people,
    sample,
)

T = TypeVar("T")


def _at(field: str, call: Callable[[], T]) -> T:
    """``call``'s answer; its DomainError said of the job's parameter ``field``."""
    try:
        return call()
    except DomainError as error:
        raise DomainError(error.code, error.message, field, error.details) from None


def definition_named(name: Any) -> AttributeDefinition:
    """The definition of ``name`` (alike by name_key), or the one-record edit's error."""
    if not isinstance(name, str) or not name.strip():
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "name must be a custom attribute's name.", "name"
        )
    definitions = attribute_definitions_named([name])
    if name not in definitions:
        raise undefined(name)
    return definitions[name]


def undefined(name: str) -> DomainError:
    """The one-record edit's error for a name no definition has, said of ``name``."""
    try:
        parse_custom_attributes({name: None}, definitions={})
    except DomainError as error:
        return DomainError(error.code, error.message, "name", error.details)
    raise AssertionError("an attribute without definition was accepted")


def parsed_value(definition: AttributeDefinition, raw: Any) -> Any:
    """``raw`` (a form's text or the API's JSON value) as the definition's type."""
    values = _at(
        "value",
        lambda: parse_custom_attributes(
            {definition.name: attribute_types.read_value_text(definition, raw)},
            definitions={definition.name: definition},
        ),
    )
    return values[definition]


def shown(definition: AttributeDefinition, value: Any) -> str:
    """A value as the history spells it."""
    if value is None:
        return NOTHING
    return value_text(_jsonable(attribute_types.serialize_value(definition, value)))


# ---------------------------------------------------------------------------------------------
# A value's stored columns, kept as JSON in the undo record


def columns_of(row: AttributeValue) -> dict[str, Any]:
    number, day, moment = row.value_number, row.value_date, row.value_datetime
    return {
        "value_text": row.value_text,
        "value_number": None if number is None else str(number),
        "value_bool": row.value_bool,
        "value_date": None if day is None else day.isoformat(),
        "value_datetime": None if moment is None else moment.isoformat(),
        "value_json": row.value_json,
    }


def row_of(person_id: int, definition: AttributeDefinition, columns: dict[str, Any]):
    number, day, moment = columns["value_number"], columns["value_date"], columns["value_datetime"]
    return AttributeValue(
        person_id=person_id,
        definition=definition,
        value_text=columns["value_text"],
        value_number=None if number is None else Decimal(number),
        value_bool=columns["value_bool"],
        value_date=None if day is None else dt.date.fromisoformat(day),
        value_datetime=None if moment is None else dt.datetime.fromisoformat(moment),
        value_json=columns["value_json"],
    )


def values_of(definition: AttributeDefinition, person_ids: list[int]) -> dict[int, AttributeValue]:
    rows = AttributeValue.objects.filter(person_id__in=person_ids, definition=definition)
    return {row.person_id: row for row in rows.order_by()}


def write_values(
    definition: AttributeDefinition, rows: list[AttributeValue], removed: list[int]
) -> None:
    """``removed``' values deleted, ``rows`` upserted on (person, definition): a statement each
    (people.batches._write_values)."""
    if removed:
        AttributeValue.objects.filter(person_id__in=removed, definition=definition).delete()
    if rows:
        AttributeValue.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["person", "definition"],
            update_fields=VALUE_COLUMNS,
            batch_size=ROWS_PER_STATEMENT,
        )


def _by_definition(definitions: dict[int, AttributeDefinition], records: dict[int, Any]):
    """Each definition with the undo records of its values."""
    for definition in definitions.values():
        mine = {pk: r for pk, r in records.items() if r["d"] == definition.pk}
        if mine:
            yield definition, mine


# ---------------------------------------------------------------------------------------------
# The actions


class AttributeAction(PersonAction):
    """Set (``value_for`` a value) or remove (None) one definition's value."""

    def value_for(self, definition: AttributeDefinition, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def prepare(self, params: dict[str, Any]) -> tuple[AttributeDefinition, Any]:
        definition = _definition_locked_for_share(params["name"])
        if definition is None:  # deleted since the job started
            raise undefined(params["name"])
        return definition, self.value_for(definition, params)

    def plan(self, context: tuple[AttributeDefinition, Any], people) -> dict[int, Change]:
        definition, value = context
        rows = values_of(definition, list(people))
        changes = {}
        for pk in people:
            row = rows.get(pk)
            before = attribute_types.from_row(definition, row) if row is not None else None
            if before != value:
                diff = attribute_diff(definition, before, value)
                changes[pk] = Change(
                    EventKind.CUSTOM_ATTRIBUTES_CHANGED,
                    {"customAttributes": {definition.name: diff}},
                    undo={"d": definition.pk, "before": columns_of(row) if row else None},
                )
        return changes

    def write(self, context: tuple[AttributeDefinition, Any], changes: dict[int, Change]) -> None:
        definition, value = context
        if value is None:
            write_values(definition, [], list(changes))
            return
        columns = attribute_types.to_columns(definition, value)
        rows = [AttributeValue(person_id=pk, definition=definition, **columns) for pk in changes]
        write_values(definition, rows, [])

    def prepare_undo(self, records) -> dict[int, AttributeDefinition]:
        """id -> definition, of the definitions the job wrote, locked FOR SHARE."""
        wanted = sorted({record["d"] for record in records.values()})
        existing = _lock_for_share(AttributeDefinition, wanted)
        return {d.pk: d for d in AttributeDefinition.objects.filter(pk__in=existing)}

    def unrestorable(self, definitions, records, conflicts) -> dict[int, RowOutcome]:
        # The job removed the last values and the definition went since: nothing to put back.
        return {
            pk: RowOutcome(
                pk,
                error_code=ErrorCode.CHANGED_SINCE,
                message="The custom attribute was deleted since the job; nothing to put back.",
            )
            for pk, record in records.items()
            if pk not in conflicts and record["d"] not in definitions
        }

    def restore(self, definitions, records, people) -> dict[int, Change]:
        changes: dict[int, Change] = {}
        for definition, mine in _by_definition(definitions, records):
            now = values_of(definition, list(mine))
            for pk, record in mine.items():
                after = now.get(pk)
                row = row_of(pk, definition, record["before"]) if record["before"] else None
                diff = attribute_diff(
                    definition,
                    attribute_types.from_row(definition, after) if after else None,
                    attribute_types.from_row(definition, row) if row else None,
                )
                changes[pk] = Change(
                    EventKind.CUSTOM_ATTRIBUTES_CHANGED,
                    {"customAttributes": {definition.name: diff}},
                )
        return changes

    def put_back(self, definitions, records) -> None:
        for definition, mine in _by_definition(definitions, records):
            rows = [
                row_of(pk, definition, record["before"])
                for pk, record in mine.items()
                if record["before"]
            ]
            removed = [pk for pk, record in mine.items() if not record["before"]]
            write_values(definition, rows, removed)

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        params = self.clean_params(params)  # as given, or as the job keeps them
        ids = sample(person_ids)
        definition = definition_named(params["name"])
        value = self.value_for(definition, params)
        values = AttributeValue.objects.filter(definition=definition)
        people = preview_people(
            ids, Person.objects.prefetch_related(Prefetch("attribute_values", queryset=values))
        )
        rows = []
        for pk in ids:
            person = people.get(pk)
            if person is None:
                rows.append(gone_row(pk))
                continue
            stored = next(iter(person.attribute_values.all()), None)
            before = attribute_types.from_row(definition, stored) if stored else None
            rows.append(
                PreviewRow(
                    pk,
                    person.display_name,
                    before={definition.name: shown(definition, before)},
                    after={definition.name: shown(definition, value)},
                )
            )
        return rows


class SetAttribute(AttributeAction):
    kind = "attribute.set"
    label = "Set a custom attribute"

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        definition = definition_named(parameters(params).get("name"))
        if params.get("value") is None:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"Give the value of {definition.name} (removing it is attribute.remove).",
                "value",
            )
        value = parsed_value(definition, params["value"])
        stored = _jsonable(attribute_types.serialize_value(definition, value))
        return {"name": definition.name, "value": stored}

    def value_for(self, definition: AttributeDefinition, params: dict[str, Any]) -> Any:
        return parsed_value(definition, params["value"])


class RemoveAttribute(AttributeAction):
    kind = "attribute.remove"
    label = "Remove a custom attribute"

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"name": definition_named(parameters(params).get("name")).name}

    def value_for(self, definition: AttributeDefinition, params: dict[str, Any]) -> Any:
        return None


register(SetAttribute())
register(RemoveAttribute())
