"""A chunk of any action takes a fixed number of statements, whatever its size: 10 people and
50 take the same, so 1,000 take the same again (the rows of one statement grow, not the
statements; on PostgreSQL an INSERT takes up to people.batches.ROWS_PER_STATEMENT rows)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from installations.models import Installation
from jobs import actions
from people import services
from people.history import Actor
from people.models import Person, PersonTag, Tag
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory
from tests.populations.conftest import run, start, stored

SYSTEM = Actor.system("tests")

# Statements of a chunk's apply and undo (None: not undoable), each with its SAVEPOINT and
# RELEASE. tags.add: the tags read and locked FOR SHARE, the people locked FOR UPDATE, their
# links to the tags, the INSERT of links, the UPDATE of versions, the INSERT of events.
STATEMENTS = {
    "tags.add": (9, 7),
    "tags.remove": (8, 8),
    "attribute.set": (9, 10),
    "attribute.remove": (9, 9),
    "type.change": (5, 5),
    "push.set": (6, 6),
    "installations.logout": (8, None),
    # person_delete_batch: the people, their installations, the new profiles, the move, the
    # events, then Django's delete of the people with what cascades (identities, links,
    # values, events, duplicate pairs).
    "people.delete": (18, None),
}
PARAMS = {
    "tags.add": {"tags": ["vip", "gold"]},
    "tags.remove": {"tags": ["vip", "gold"]},
    "attribute.set": {"name": "Balance", "value": "12.5"},
    "attribute.remove": {"name": "Balance"},
    "type.change": {"type": "LEAD"},
    "push.set": {"enabled": False},
    "installations.logout": {},
    "people.delete": {},
}


def population(size: int) -> list[int]:
    """``size`` people, every other one with a tag, a value, a type and a device of its own,
    so that each action changes some of them and leaves others."""
    app = ApplicationFactory()
    vip = Tag.objects.get_or_create(name="vip")[0]
    Tag.objects.get_or_create(name="gold")
    ids = []
    for index in range(size):
        person = PersonFactory(external_id=f"p-{size}-{index}", type="CUSTOMER")
        if index % 2:
            PersonTag.objects.create(person=person, tag=vip)
            services.person_set_custom_attributes(
                person=person, actor=SYSTEM, values={"Balance": Decimal("1.5")}
            )
            person.type = "LEAD"
            person.save(update_fields=["type"])
        InstallationFactory(person=person, application=app)
        ids.append(person.pk)
    return ids


def sizes() -> tuple[int, int]:
    """10 and 50 people; on SQLite 10 and 40: Django splits an INSERT there at 999 parameters,
    which the new anonymous profiles of 50 people's devices pass (a logout, a delete)."""
    return (10, 50) if connection.vendor == "postgresql" else (10, 40)


def counted(call, *args):
    """How many statements ``call(*args)`` took, and its answer."""
    with CaptureQueriesContext(connection) as queries:
        answer = call(*args)
    return len(queries), answer


@pytest.fixture
def balance(db):
    return services.attribute_definition_create(name="Balance", data_type="DECIMAL")


@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_a_chunk_takes_as_many_statements_for_50_people_as_for_10(balance, editor, kind):
    action = actions.get(kind)
    applied_counts, undo_counts = [], []
    for size in sizes():
        ids = population(size)
        job = start(kind, PARAMS[kind], editor)
        count, applied = counted(run, job, ids)
        applied_counts.append(count)
        assert sum(o.changed for o in applied) >= size // 2
        if action.undoable:
            undoing = start(kind, {}, editor, undoes=job)
            count, undone = counted(action.undo, undoing, stored(applied))
            undo_counts.append(count)
            assert all(o.changed for o in undone)
    # run()'s own SAVEPOINT and RELEASE are not the action's.
    measured = (applied_counts[0] - 2, undo_counts[0] if undo_counts else None)
    assert applied_counts[0] == applied_counts[1], applied_counts
    assert undo_counts[:1] == undo_counts[1:], undo_counts
    assert measured == STATEMENTS[kind]


@pytest.mark.postgres_only
def test_a_full_chunk_of_tags_add_takes_the_same_statements(db, editor):
    """1,000 people and two tags: 2,000 links and 1,000 events, each one INSERT."""
    people = Person.objects.bulk_create(Person(external_id=f"full-{n}") for n in range(1000))
    Tag.objects.create(name="vip")
    Tag.objects.create(name="gold")
    job = start("tags.add", {"tags": ["vip", "gold"]}, editor)

    count, outcomes = counted(run, job, [p.pk for p in people])

    assert all(o.changed for o in outcomes)
    assert count - 2 == STATEMENTS["tags.add"][0]
    assert PersonTag.objects.filter(person__in=people).count() == 2000


@pytest.mark.parametrize("kind", ["push.set", "installations.logout"])
def test_restricted_to_the_installations_given_a_chunk_takes_the_same_statements(
    balance, editor, kind
):
    """Django admin's selected rows (``installations``) narrow the statement that locks the
    installations: no statement more."""
    counts = []
    for size in sizes():
        ids = population(size)
        given = list(Installation.objects.filter(person_id__in=ids).values_list("pk", flat=True))
        job = start(kind, {**PARAMS[kind], "installations": given}, editor)
        count, applied = counted(run, job, ids)
        counts.append(count)
        assert all(o.changed for o in applied)
    assert counts[0] == counts[1], counts
    assert counts[0] - 2 == STATEMENTS[kind][0]
