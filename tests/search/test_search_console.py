"""The search page as an operator console: its sorts and page sizes (carried by the one query),
the total over the results, what a phone or an externalId that finds nobody says, and the
fixed number of statements a page runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from directory.search import (
    EXACT_COUNT_LIMIT,
    PAGE_SIZES,
    SORTS,
    SearchQuery,
    Total,
    count_people,
    search_people,
)
from people import services
from people.models import Person
from tests.factories import InstallationFactory
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def search(client, htmx=False, **params):
    return client.get(reverse("home"), params, **(HTMX if htmx else {}))


def walk(query: SearchQuery, size: int) -> list[int]:
    """Every person of ``query``, page after keyset page."""
    seen: list[int] = []
    cursor = None
    while True:
        page = search_people(query, after=cursor, limit=size)
        seen += [row.pk for row in page.people]
        cursor = page.next_cursor
        if cursor is None:
            return seen


@pytest.fixture
def named(db, system_actor):
    """Seven people, created in an order that is neither their name order nor their update
    order; two share a name (ties go by id)."""
    people = [
        services.person_create(actor=system_actor, fields={"firstName": f, "lastName": last})
        for f, last in [
            ("Mia", "Kos"),
            ("Ana", "Zorić"),
            ("Ivo", "Babić"),
            ("Ana", "Zorić"),
            ("Lea", "Ćosić"),
            ("Tin", "Anić"),
            ("Eva", "Horvat"),
        ]
    ]
    # Updated in another order than created, two at the same moment (ties go by id).
    start = timezone.now()
    for minutes, person in zip((3, 0, 5, 1, 3, 6, 2), people, strict=True):
        Person.objects.filter(pk=person.pk).update(
            modified_at=start + dt.timedelta(minutes=minutes)
        )
    return people


# The query ---------------------------------------------------------------------------------


def test_a_query_carries_its_sort_and_page_size_through_dict_and_query_string():
    query = SearchQuery(q="horv", tags=["vip"], sort="-updated", page_size=50)
    assert query.to_dict() == {"q": "horv", "tags": ["vip"], "sort": "-updated", "page_size": 50}
    assert SearchQuery.from_dict(query.to_dict()) == query
    assert query.to_query_string() == "q=horv&tag=vip&sort=-updated&page_size=50"
    assert SearchQuery.from_query_string(query.to_query_string()) == query
    assert SearchQuery().to_dict() == {}


def test_an_unknown_sort_is_refused():
    with pytest.raises(ValueError, match="Not a sort"):
        search_people(SearchQuery(sort="city"))


# Sorts --------------------------------------------------------------------------------------


def expected_order(sort: str) -> list[int]:
    column = {"name": "search_name", "updated": "modified_at", "created": "created_at"}
    field = column[sort.lstrip("-")]
    rows = list(Person.objects.values_list(field, "id"))
    rows.sort(reverse=sort.startswith("-"))
    return [pk for _, pk in rows]


@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_lists_everyone_in_its_order_by_keyset_pages(named, sort):
    assert walk(SearchQuery(sort=sort), 2) == expected_order(sort)
    assert walk(SearchQuery(sort=sort), 3) == expected_order(sort)


def test_the_default_order_of_a_list_is_newest_first(named):
    assert walk(SearchQuery(), 3) == sorted((p.pk for p in named), reverse=True)


def test_identifier_matches_follow_the_sort_too(named, system_actor):
    Person.objects.filter(pk=named[3].pk).update(external_id="ext-1")
    page = search_people(SearchQuery(q="ext-1", sort="name"))
    assert [row.pk for row in page.people] == [named[3].pk] and page.exact


def test_the_sort_headers_link_each_order_and_say_the_current_one(editor_client, named):
    html = search(editor_client, sort="-updated").content.decode()
    assert 'aria-sort="descending"' in html
    assert html.count("aria-sort=") == 1
    assert 'href="/?sort=updated"' in html  # the sorted column's link turns the order
    assert 'href="/?sort=name"' in html and 'href="/?sort=-created"' in html
    rows = search_people(SearchQuery(sort="-updated")).people
    names = [row.display_name for row in rows]
    assert html.index(names[0]) < html.index(names[1]) < html.index(names[2])


def test_a_name_search_lists_in_name_order_with_no_sort_links(editor_client, named):
    html = search(editor_client, q="ana").content.decode()
    assert 'aria-sort="ascending"' in html
    assert "sort=" not in html.replace("aria-sort=", "")


def test_the_page_size_is_chosen_and_pages_say_their_rows(editor_client, named):
    html = search(editor_client, size="25").content.decode()
    assert "7 people" in html and "rows 1–7" in html
    query = SearchQuery(page_size=PAGE_SIZES[0])
    assert len(search_people(query).people) == 7
    bad = search(editor_client, size="7").content.decode()
    assert "Select a valid choice" in bad


# The total ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "label", "noun"),
    [
        (Total(1), "1", "person"),
        (Total(1234), "1,234", "people"),
        (Total(1_234_567, exact=False), "about 1.2 million", "people"),
        (Total(345_678, exact=False), "about 350,000", "people"),
        (Total(EXACT_COUNT_LIMIT, exact=False, at_least=True), "more than 100,000", "people"),
    ],
)
def test_a_total_says_whether_it_is_exact(total, label, noun):
    assert (total.label, total.noun) == (label, noun)


def test_a_total_past_the_first_page_is_counted_later_over_at_most_the_limit(named):
    with CaptureQueriesContext(connection) as queries:
        page = search_people(SearchQuery(q="a"), limit=2, total=True)
    # The page itself counts nothing: it says "2+" and that the total can be counted.
    assert page.total is None and page.count_later
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    with CaptureQueriesContext(connection) as queries:
        total = count_people(SearchQuery(q="a"))
    # "Ana Zorić" twice, and "Tin Anić" by the last name.
    assert total == Total(3)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and f"LIMIT {EXACT_COUNT_LIMIT + 1}" in counts[0]
    second = search_people(SearchQuery(q="a"), after=page.next_cursor, limit=2, total=True)
    assert second.total is None and second.count_later and len(second.people) == 1


def test_the_results_ask_for_their_total_after_they_are_shown(editor_client, named):
    html = search(editor_client, q="a", size="25", sort="name").content.decode()
    # Three people on one page: the rows are the total, nothing to ask.
    assert 'data-testid="result-total">3 people<' in html and "search/total" not in html
    # A search of several pages asks search_total (tests/search/test_views.py), which counts.
    response = editor_client.get(reverse("people:search_total"), {"q": "a"})
    assert response.status_code == 200
    body = response.content.decode()
    assert ">3 people<" in body and 'data-total="exact"' in body
    invalid = editor_client.get(reverse("people:search_total"), {"size": "7"})
    assert invalid.status_code == 200 and 'data-total="unknown"' in invalid.content.decode()


def test_a_count_that_runs_too_long_gives_way_to_the_estimate(named, monkeypatch):
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from directory.search import totals

    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL cuts a statement short")
    monkeypatch.setattr(totals, "COUNT_TIMEOUT_MS", 50)
    slow = Person.objects.filter(
        RawSQL("pg_sleep(0.03) IS NOT NULL", [], output_field=BooleanField())
    )
    with CaptureQueriesContext(connection) as queries:
        total = totals.total_of(slow)
    assert not total.exact and total.label.startswith("about ")
    assert any("EXPLAIN" in q["sql"] for q in queries)
    # The transaction goes on after the cancelled count, with the web timeouts as they were.
    assert Person.objects.count() == 7
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] != "50ms"


def test_a_first_page_that_holds_everyone_is_its_own_total(named):
    with CaptureQueriesContext(connection) as queries:
        page = search_people(SearchQuery(tags=[]), total=True)
    assert page.total == Total(7)
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]


def test_the_whole_list_is_counted_exactly_while_small(editor_client, named):
    html = search(editor_client, size="25").content.decode()
    assert 'data-testid="result-total">7 people<' in html


# A phone or an externalId that finds nobody -------------------------------------------------


@pytest.fixture
def iva(db, system_actor):
    return services.person_create(
        actor=system_actor,
        fields={"firstName": "Iva", "lastName": "Kovač", "externalId": "crm-100101"},
        phones=["+385 91 449 4255"],
    )


@pytest.mark.parametrize(
    "typed",
    [
        "0385-91-449-4255",  # 00 written as 0, with punctuation
        "0385 91 449 4255",
        "0385914494255",
        "00385 91 449 4255",
        "+385 (0)91 449 4255",
        "+385.91.449.4255",
    ],
)
def test_a_phone_with_its_international_prefix_written_any_common_way_finds_the_person(iva, typed):
    page = search_people(SearchQuery(q=typed))
    assert [row.pk for row in page.people] == [iva.pk]
    assert [m.label for m in page.matches] == ["phone 385914494255"]


def test_a_national_number_stays_a_national_number(iva):
    page = search_people(SearchQuery(q="091 449 4255"))
    assert [row.pk for row in page.people] == [iva.pk]
    assert [m.kind for m in page.matches] == ["nationalPhone"]


@pytest.mark.parametrize("typed", ["0385-91-449", "12-34-56", "0099 123 456 789"])
def test_phone_looking_text_that_is_no_phone_says_so(editor_client, iva, typed):
    page = search_people(SearchQuery(q=typed))
    assert page.people == [] and page.unreadable_phone
    html = search(editor_client, q=typed).content.decode()
    assert "is not a phone number we can read: include the country code, e.g. +385 91" in html


def test_a_readable_phone_that_finds_nobody_is_not_called_unreadable(editor_client, iva):
    page = search_people(SearchQuery(q="+385 91 000 0000"))
    assert page.people == [] and not page.unreadable_phone


def test_an_external_id_in_another_case_finds_nobody_and_offers_the_one_there_is(
    editor_client, iva
):
    page = search_people(SearchQuery(q="CRM-100101"))
    assert page.people == []
    assert page.other_case_external_ids == ["crm-100101"]
    html = search(editor_client, q="CRM-100101").content.decode()
    assert "No externalId is exactly “CRM-100101” (externalIds are case-sensitive)" in html
    assert "name starting with" not in html
    assert 'href="/?q=crm-100101" data-testid="other-case">crm-100101</a>' in html
    # The exact one is found as before, and a miss with no other casing offers nothing.
    assert [row.pk for row in search_people(SearchQuery(q="crm-100101")).people] == [iva.pk]
    assert search_people(SearchQuery(q="CRM-999")).other_case_external_ids == []


def test_the_other_case_probe_keeps_the_filters_of_the_link(editor_client, iva):
    html = search(editor_client, q="CRM-100101", type="LEAD").content.decode()
    assert "among the people these filters keep" in html
    assert 'href="/?type=LEAD&amp;q=crm-100101"' in html


@pytest.mark.postgres_only
def test_the_other_case_probe_uses_its_index(iva):
    from django.db.models import Value
    from django.db.models.functions import Upper

    plan = (
        Person.objects.alias(u=Upper("external_id")).filter(u=Upper(Value("CRM-100101"))).explain()
    )
    assert "person_external_id_upper_idx" in plan


# Enter ----------------------------------------------------------------------------------------


def test_enter_on_a_list_redirects_to_the_canonical_url(editor_client, named):
    params = {"q": "ana", "type": "", "tags": "", "app": "", "platform": "", "primary": ""}
    response = search(editor_client, go="1", op="eq", attribute="", value="", size="", **params)
    assert response.status_code == 302
    assert response.url == "/?q=ana"


def test_enter_on_one_exact_identifier_still_opens_the_profile(editor_client, iva):
    response = search(editor_client, go="1", q="crm-100101", type="", sort="")
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[iva.pk])


# Statements -----------------------------------------------------------------------------------


@pytest.fixture
def many(db, system_actor):
    """More people called Horvat than the largest page, each with a phone, a tag and a
    device."""
    for i in range(max(PAGE_SIZES) + 5):
        person = services.person_create(
            actor=system_actor,
            fields={"firstName": "Iva", "lastName": f"Horvat{i:03d}"},
            phones=[f"+385 91 555 {i:04d}"],
            tags=["vip"],
        )
        InstallationFactory(person=person, os="iOS", is_primary=bool(i % 2))


# Session, user, permissions (two), the filters' applications and definitions (one; not for
# the box's htmx answer), then the search: a name page tests the identifiers' lookup in its
# own statement, an identifier page reads the people its lookup finds with their rows, a list
# reads the tag's id (its size remembered) and then the page's ids; the rows come in one
# statement on PostgreSQL (elsewhere the people, then their phones, tags and devices: four);
# a list longer than the page is not counted: its results ask for the total afterwards
# (search_total).
STATEMENTS = {
    "postgresql": {"name": 6, "identifier": 6, "list": 8},
    "sqlite": {"name": 9, "identifier": 9, "list": 11},
}


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("name", {"q": "horv"}),
        ("identifier", {"q": "+385 91 555 0007"}),
        ("list", {"tags": "vip", "platform": "iOS"}),
    ],
)
def test_the_search_page_runs_a_fixed_number_of_statements_whatever_the_page_size(
    editor_client, many, django_assert_num_queries, kind, params
):
    expected = STATEMENTS[connection.vendor][kind]
    search(editor_client, **params)  # the tag's size is remembered after the first
    for size in PAGE_SIZES:
        with django_assert_num_queries(expected):
            html = search(editor_client, size=str(size), **params).content.decode()
        assert "row 1<" in html if kind == "identifier" else f"rows 1–{size}" in html
        with django_assert_num_queries(expected - 1):
            search(editor_client, htmx=True, size=str(size), **params)


def test_past_the_limit_a_total_is_the_planners_estimate_or_a_lower_bound(
    named, monkeypatch, editor_client
):
    from directory.search import totals

    monkeypatch.setattr(totals, "EXACT_COUNT_LIMIT", 3)
    with CaptureQueriesContext(connection) as queries:
        total = totals.total_of(Person.objects.filter(type="CUSTOMER"))
    statements = [q["sql"] for q in queries]
    count = next(i for i, sql in enumerate(statements) if "COUNT(" in sql.upper())
    assert "LIMIT 4" in statements[count]
    if connection.vendor == "postgresql":
        assert not total.exact and total.count >= 4 and total.label.startswith("about ")
        assert any("EXPLAIN" in sql for sql in statements[count + 1 :])
    else:
        assert total == Total(3, exact=False, at_least=True)
        assert total.label == "more than 3"
    html = search(editor_client, type="CUSTOMER", size="25").content.decode()
    assert "rows 1–7" in html  # a first page that holds everyone is counted by its rows
    html = search(editor_client, tags="", sort="name", size="25").content.decode()
    assert "7 people" in html
