"""On PostgreSQL each sort of the search page's lists walks an index of (column, id) in order,
on a few thousand generated people: no sort of the matching rows, no OFFSET, the first page
and a page after a cursor alike (EXPLAIN of the statements the page runs)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.search import SORTS, SearchQuery, search_people
from tests.search.test_explain import plan_nodes, plan_of

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db, pytest.mark.slow]

# The index each sort walks (compiler.SORT_COLUMNS).
SORT_INDEXES = {
    "name": "person_search_name_c_idx",
    "updated": "person_modified_idx",
    "created": "person_created_idx",
}


@pytest.fixture
def thousands(db):
    call_command("generate_people", persons=3000, seed=7, no_vacuum=True, stdout=None)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_person")


def id_statement(query: SearchQuery, after: int | None = None) -> str:
    """The statement that reads the ids of the page (the first one the list runs on
    people_person with an ORDER BY)."""
    with CaptureQueriesContext(connection) as captured:
        search_people(query, after=after)
    statements = [q["sql"] for q in captured if "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]]
    return statements[0]


@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_walks_its_index_without_sorting_the_rows(thousands, sort):
    first = search_people(SearchQuery(sort=sort))
    assert first.next_cursor is not None
    for after in (None, first.next_cursor):
        sql = id_statement(SearchQuery(sort=sort), after)
        assert "OFFSET" not in sql
        nodes = list(plan_nodes(plan_of(sql)))
        kinds = {node["Node Type"] for node in nodes}
        indexes = {node.get("Index Name") for node in nodes}
        assert SORT_INDEXES[sort.lstrip("-")] in indexes, (sql, kinds, indexes)
        assert "Sort" not in kinds and "Incremental Sort" not in kinds, kinds
        assert "Seq Scan" not in kinds
