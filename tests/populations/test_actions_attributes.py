"""attribute.set and attribute.remove on a population: the value typed and checked by its
definition as the person page's editor checks it, one event per changed person, an exact
undo."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError, ErrorCode
from jobs import actions
from people import custom_attributes as attribute_types
from people import services
from people.apply import custom_attribute_values
from people.history import Actor
from people.models import AttributeValue, DataType, Event, EventKind, Person
from tests.populations.conftest import (
    assert_event_names_job,
    by_person,
    events_of,
    run,
    snapshot,
    start,
    undo,
)

SYSTEM = Actor.system("tests")
COLUMNS = ["value_text", "value_number", "value_bool", "value_date", "value_datetime", "value_json"]


@pytest.fixture
def definitions(db):
    specs = {
        "Visits": (DataType.INTEGER, None),
        "Balance": (DataType.DECIMAL, None),
        "Nickname": (DataType.STRING, None),
        "Newsletter": (DataType.BOOLEAN, None),
        "Anniversary": (DataType.DATE, None),
        "LastSeen": (DataType.DATE_TIME, None),
        "Orders": (DataType.LIST_OF_OBJECTS, {"sku": "STRING", "qty": "INTEGER"}),
    }
    return {
        name: services.attribute_definition_create(name=name, data_type=t, object_schema=s)
        for name, (t, s) in specs.items()
    }


def set_values(person: Person, **values) -> None:
    services.person_set_custom_attributes(person=person, actor=SYSTEM, values=values)


def values(person: Person) -> dict:
    return custom_attribute_values(Person.objects.get(pk=person.pk))


def stored_columns(person: Person) -> dict:
    return {
        row["definition__name"]: {c: row[c] for c in COLUMNS}
        for row in AttributeValue.objects.filter(person=person).values("definition__name", *COLUMNS)
    }


def test_set_writes_the_typed_value_with_one_event_per_changed_person(people, definitions, editor):
    set_values(people[0], Visits=42)
    set_values(people[1], Visits=7)
    job = start("attribute.set", {"name": "visits", "value": "42"}, editor)
    assert job.params == {"name": "Visits", "value": 42}

    outcomes = by_person(run(job, [p.pk for p in people]))

    assert [outcomes[p.pk].changed for p in people] == [False, True, True, True, True]
    assert all(values(p)["Visits"] == 42 for p in people)
    events = list(events_of(job))
    assert [e.person_id for e in events] == [p.pk for p in people[1:]]
    assert_event_names_job(events[0], job, editor)
    assert events[0].kind == EventKind.CUSTOM_ATTRIBUTES_CHANGED
    assert events[0].changes == {"customAttributes": {"Visits": {"before": 7, "after": 42}}}
    assert events[1].changes == {"customAttributes": {"Visits": {"before": None, "after": 42}}}
    assert Person.objects.get(pk=people[0].pk).version == 2  # created, then set
    assert Person.objects.get(pk=people[1].pk).version == 3


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("Balance", "12.50", Decimal("12.50")),
        ("Balance", 3.25, Decimal("3.25")),
        ("Newsletter", "yes", True),
        ("Anniversary", "2024-02-29", dt.date(2024, 2, 29)),
        (
            "LastSeen",
            "2024-05-01T10:00:00.123+02:00",
            dt.datetime(2024, 5, 1, 8, 0, 0, 123000, dt.UTC),
        ),
        ("Orders", [{"sku": "A-1", "qty": "2"}], [{"sku": "A-1", "qty": 2}]),
        ("Nickname", "12", "12"),
    ],
)
def test_every_type_is_read_as_the_editor_reads_it(
    people, definitions, editor, name, raw, expected
):
    job = start("attribute.set", {"name": name, "value": raw}, editor)
    run(job, [people[0].pk])
    assert values(people[0])[name] == expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("Visits", "abc"),
        ("Visits", "99999999999999999999"),
        ("Visits", True),
        ("Balance", "1.000000000000000000001"),
        ("Nickname", "x" * 4097),
        ("Nickname", 12),
        ("Anniversary", "2024-13-01"),
        ("LastSeen", "yesterday"),
        ("Newsletter", "maybe"),
        ("Orders", [{"colour": "red"}]),
        ("Orders", {"sku": "A-1"}),
    ],
)
def test_a_bad_value_is_refused_with_the_one_record_edits_message(people, definitions, name, raw):
    definition = definitions[name]
    with pytest.raises(DomainError) as one_record:
        set_values(people[0], **{name: attribute_types.read_value_text(definition, raw)})
    with pytest.raises(DomainError) as bulk:
        actions.get("attribute.set").clean_params({"name": name, "value": raw})
    assert (bulk.value.code, bulk.value.message) == (
        one_record.value.code,
        one_record.value.message,
    )
    assert bulk.value.field == "value"


def test_an_undefined_name_is_refused_as_the_one_record_edit_refuses_it(people, definitions):
    with pytest.raises(DomainError) as one_record:
        set_values(people[0], Nope=1)
    for kind, params in (("attribute.set", {"value": 1}), ("attribute.remove", {})):
        with pytest.raises(DomainError) as bulk:
            actions.get(kind).clean_params({"name": "Nope", **params})
        assert (bulk.value.code, bulk.value.message) == (
            one_record.value.code,
            one_record.value.message,
        )
        assert bulk.value.field == "name"


@pytest.mark.parametrize("params", [{"name": "Visits"}, {"name": "Visits", "value": None}, {}])
def test_set_needs_a_name_and_a_value(definitions, params):
    with pytest.raises(DomainError) as caught:
        actions.get("attribute.set").clean_params(params)
    assert caught.value.field == ("name" if "name" not in params else "value")


def test_undo_of_set_puts_back_every_value_exactly(people, definitions, editor):
    moment = dt.datetime(2024, 5, 1, 8, 0, 0, 123456, dt.UTC)
    set_values(people[0], Balance=Decimal("12.50"))
    set_values(people[1], Balance=Decimal("0.10000000000000000001"))
    set_values(people[3], LastSeen=moment)
    columns = {p.pk: stored_columns(p) for p in people}
    before = {p.pk: snapshot(p) for p in people}
    balance = start("attribute.set", {"name": "Balance", "value": "99"}, editor)
    seen = start("attribute.set", {"name": "LastSeen", "value": "2025-01-01T00:00:00Z"}, editor)
    balance_outcomes = run(balance, [p.pk for p in people[:3]])
    seen_outcomes = run(seen, [p.pk for p in people[3:]])

    _undoing, result = undo(balance, balance_outcomes, editor)
    _undoing_seen, seen_result = undo(seen, seen_outcomes, editor)

    assert all(o.changed and not o.error_code for o in result + seen_result)
    for person in people:
        assert snapshot(person) == before[person.pk]
        assert stored_columns(person) == columns[person.pk]
    assert values(people[3])["LastSeen"] == moment
    event = Event.objects.filter(person=people[1], job_id=_undoing.id).get()
    assert event.changes == {
        "customAttributes": {"Balance": {"before": "99", "after": "0.10000000000000000001"}}
    }


def test_undo_of_an_earlier_job_is_refused_once_a_later_job_changed_the_person(
    people, definitions, editor
):
    """The version tells that the person changed since, not that a later job's undo put back
    what the earlier job left: the earlier job's undo leaves that person as it is."""
    first = start("attribute.set", {"name": "Visits", "value": 1}, editor)
    second = start("attribute.set", {"name": "Balance", "value": 2}, editor)
    first_outcomes = run(first, [people[0].pk, people[1].pk])
    second_outcomes = run(second, [people[0].pk])
    undo(second, second_outcomes, editor)

    _undoing, result = undo(first, first_outcomes, editor)

    assert result[0].error_code == ErrorCode.CHANGED_SINCE
    assert "Custom attributes changed by eddie.editor" in result[0].message
    assert values(people[0]) == {"Visits": 1}
    assert result[1].changed and values(people[1]) == {}


def test_undo_is_refused_for_a_person_whose_value_changed_since(people, definitions, editor):
    job = start("attribute.set", {"name": "Visits", "value": 5}, editor)
    outcomes = run(job, [people[0].pk, people[1].pk])
    set_values(people[0], Visits=6)

    _undoing, result = undo(job, outcomes, editor)

    assert result[0].error_code == ErrorCode.CHANGED_SINCE
    assert "Custom attributes changed by tests" in result[0].message
    assert values(people[0]) == {"Visits": 6}
    assert result[1].changed and values(people[1]) == {}


def test_remove_takes_the_value_off_and_undo_writes_it_again(people, definitions, editor):
    set_values(people[0], Orders=[{"sku": "A-1", "qty": 2}], Visits=3)
    set_values(people[1], Orders=[])
    before = {p.pk: snapshot(p) for p in people}
    columns = {p.pk: stored_columns(p) for p in people}
    job = start("attribute.remove", {"name": "orders"}, editor)

    outcomes = by_person(run(job, [p.pk for p in people]))

    assert [outcomes[p.pk].changed for p in people] == [True, True, False, False, False]
    assert values(people[0]) == {"Visits": 3}
    assert values(people[1]) == {}
    assert events_of(job).first().changes == {
        "customAttributes": {"Orders": {"before": [{"sku": "A-1", "qty": 2}], "after": None}}
    }

    _undoing, result = undo(job, list(outcomes.values()), editor)

    assert all(o.changed for o in result)
    for person in people:
        assert snapshot(person) == before[person.pk]
        assert stored_columns(person) == columns[person.pk]


def test_a_definition_deleted_after_the_job_started_fails_every_person(people, definitions, editor):
    job = start("attribute.set", {"name": "Nickname", "value": "Annie"}, editor)
    services.attribute_definition_delete(definition=definitions["Nickname"])

    outcomes = run(job, [p.pk for p in people])

    assert {(o.error_code, o.changed) for o in outcomes} == {(ErrorCode.BAD_REQUEST, False)}
    assert "No custom attribute named 'Nickname'" in outcomes[0].message
    assert not events_of(job).exists()


def test_preview_shows_the_values_and_writes_nothing(people, definitions, editor):
    set_values(people[0], Balance=Decimal("12.50"))
    params = actions.get("attribute.set").clean_params({"name": "Balance", "value": "7.5"})
    count = AttributeValue.objects.count()

    with CaptureQueriesContext(connection) as queries:
        rows = actions.get("attribute.set").preview(params, [p.pk for p in people[:2]])
        removal = actions.get("attribute.remove").preview({"name": "Balance"}, [people[0].pk])

    assert not [q for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert AttributeValue.objects.count() == count
    assert (rows[0].before, rows[0].after) == ({"Balance": "12.50"}, {"Balance": "7.5"})
    assert (rows[1].before, rows[1].after) == ({"Balance": "—"}, {"Balance": "7.5"})
    assert (removal[0].before, removal[0].after) == ({"Balance": "12.50"}, {"Balance": "—"})
