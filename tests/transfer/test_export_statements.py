"""An export reads a batch of people in a fixed number of statements, whatever its size: the
people, then their identities, tags, custom attribute values and installations, one statement
each."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people import services
from people.history import Actor
from tests.factories import ApplicationFactory, InstallationFactory
from transfer import exports

pytestmark = pytest.mark.django_db
# The people; their identities, tags, values and installations.
PER_BATCH = 5


@pytest.fixture
def people():
    actor = Actor.system("tests")
    services.attribute_definition_create(name="Score", data_type="INTEGER")
    app = ApplicationFactory()
    ids = []
    for n in range(30):
        person = services.person_create(
            actor=actor,
            fields={"firstName": f"P{n}", "externalId": f"x-{n}"},
            phones=[f"+38591{n:07d}"],
            emails=[f"p{n}@example.com"],
            tags=["vip", f"t{n % 3}"],
            custom_attributes={"Score": n},
        )
        InstallationFactory(person=person, application=app, is_primary=True)
        ids.append(person.pk)
    return ids


def statements(function, *args):
    with CaptureQueriesContext(connection) as queries:
        result = function(*args)
    return len(queries), result


@pytest.mark.parametrize("size", [10, 30])
def test_a_batch_of_any_size_takes_the_same_statements(people, size):
    rows = exports.Rows(exports.choose_columns(None), masked=False)
    count, lines = statements(lambda: rows.of_people(rows.people(people[:size])))
    assert count == PER_BATCH
    assert len(lines) == size
    assert all(line[-3:] == ["1", "Android", line[-1]] and line[-1] for line in lines)


def test_a_walk_takes_the_statements_of_its_batches_and_one_more(people):
    rows = exports.Rows(exports.choose_columns(None), masked=True)
    count, batches = statements(lambda: list(rows.batches({}, size=10)))
    assert [len(batch) for batch in batches] == [10, 10, 10]
    # The last full batch does not say it is the last: one more read finds nobody.
    assert count == 3 * PER_BATCH + 1


def test_columns_that_need_no_related_rows_read_only_the_people(people):
    rows = exports.Rows(exports.choose_columns(["id", "firstName", "birthDate"]), masked=True)
    count, lines = statements(lambda: rows.of_people(rows.people(people)))
    assert count == 1
    assert lines[0][1] == "P0"


def test_a_selection_is_read_a_batch_of_its_ids_at_a_time(people):
    rows = exports.Rows(exports.choose_columns(None), masked=True)
    query = {"ids": list(reversed(people))}
    count, batches = statements(lambda: list(rows.batches(query, size=10)))
    assert [len(batch) for batch in batches] == [10, 10, 10]
    assert [int(line[0]) for batch in batches for line in batch] == people
    assert count == 3 * PER_BATCH


@pytest.mark.parametrize("size", [10, 30])
def test_a_chunk_of_an_export_job_takes_the_same_statements_at_any_size(people, editor, size):
    """The definitions (the job's columns), then the batch's five."""
    from jobs import actions
    from tests.populations.conftest import start

    context = start("export", {}, editor)
    count, outcomes = statements(actions.get("export").apply, context, people[:size])
    assert count == 1 + PER_BATCH
    assert len(outcomes) == size
