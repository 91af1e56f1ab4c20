"""type.change on a population: LEAD or CUSTOMER by the standard attribute's rule, recorded as
a one-record edit records it, undone person by person."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError, ErrorCode
from jobs import actions
from people import services
from people.history import Actor
from people.models import Event, EventKind, Person, PersonType
from tests.factories import PersonFactory
from tests.populations.conftest import (
    assert_event_names_job,
    by_person,
    events_of,
    run,
    snapshot,
    start,
    undo,
)


@pytest.fixture
def mixed(db) -> list[Person]:
    kinds = [PersonType.LEAD, PersonType.CUSTOMER, PersonType.LEAD, PersonType.CUSTOMER]
    return [PersonFactory(type=kind) for kind in kinds]


def types(people: list[Person]) -> list[str]:
    return [Person.objects.get(pk=p.pk).type for p in people]


def test_change_sets_the_type_of_who_has_the_other_one(mixed, editor):
    job = start("type.change", {"type": "lead"}, editor)
    assert job.params == {"type": "LEAD"}

    outcomes = by_person(run(job, [p.pk for p in mixed]))

    assert types(mixed) == [PersonType.LEAD] * 4
    assert [outcomes[p.pk].changed for p in mixed] == [False, True, False, True]
    events = list(events_of(job))
    assert [e.person_id for e in events] == [mixed[1].pk, mixed[3].pk]
    assert_event_names_job(events[0], job, editor)
    assert events[0].kind == EventKind.ATTRIBUTES_CHANGED
    assert events[0].changes == {"type": {"before": "CUSTOMER", "after": "LEAD"}}
    assert [Person.objects.get(pk=p.pk).version for p in mixed] == [1, 2, 1, 2]
    assert outcomes[mixed[1].pk].undo == {"v": 2, "e": events[0].pk, "type": "CUSTOMER"}


@pytest.mark.parametrize("value", ["PARTNER", "", None, 3])
def test_a_type_that_is_neither_is_refused(db, value):
    with pytest.raises(DomainError) as caught:
        actions.get("type.change").clean_params({"type": value})
    assert caught.value.field == "type"


def test_undo_puts_each_type_back_unless_changed_since(mixed, editor):
    before = {p.pk: snapshot(p) for p in mixed}
    to_customer = start("type.change", {"type": "CUSTOMER"}, editor)
    outcomes = run(to_customer, [p.pk for p in mixed])
    services.person_set_fields(
        person=mixed[2], actor=Actor.operator(editor), fields={"firstName": "Renamed"}
    )

    undoing, result = undo(to_customer, outcomes, editor)

    result = by_person(result)
    assert result[mixed[0].pk].changed and snapshot(mixed[0]) == before[mixed[0].pk]
    assert result[mixed[2].pk].error_code == ErrorCode.CHANGED_SINCE
    assert "version 3, the job left version 2" in result[mixed[2].pk].message
    assert types(mixed) == [PersonType.LEAD, PersonType.CUSTOMER, PersonType.CUSTOMER] + [
        PersonType.CUSTOMER
    ]
    (event,) = events_of(undoing)
    assert event.changes == {"type": {"before": "CUSTOMER", "after": "LEAD"}}
    assert event.reverts_id == Event.objects.get(job_id=to_customer.id, person=mixed[0]).pk


def test_preview_shows_the_types_and_writes_nothing(mixed):
    with CaptureQueriesContext(connection) as queries:
        rows = actions.get("type.change").preview({"type": "CUSTOMER"}, [mixed[0].pk])
    assert len(queries) == 1
    assert (rows[0].before, rows[0].after) == ({"Type": "Lead"}, {"Type": "Customer"})
    assert rows[0].label == mixed[0].display_name


def test_changed_since_names_each_kind_of_later_change_once(mixed, editor):
    job = start("type.change", {"type": "LEAD"}, editor)
    outcomes = run(job, [mixed[1].pk])
    operator = Actor.operator(editor)
    for city in ("Split", "Rijeka", "Osijek"):
        services.person_set_fields(person=mixed[1], actor=operator, fields={"city": city})
    services.person_add_tags(person=mixed[1], actor=operator, names=["x"])
    services.person_add_tags(person=mixed[1], actor=Actor.system("sync"), names=["y"])
    services.person_set_custom_attributes(person=mixed[1], actor=operator, values={})
    services.person_add_email(person=mixed[1], actor=operator, address="m@example.com")

    _undoing, (result,) = undo(job, outcomes, editor)

    assert result.error_code == ErrorCode.CHANGED_SINCE
    assert result.message == (
        f"Person {mixed[1].pk} changed since the job (version 8, the job left version 2):"
        " Attributes changed by eddie.editor; Tags changed by eddie.editor; Tags changed by"
        " sync; and 1 more; left as it is."
    )
