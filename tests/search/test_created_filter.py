"""The created filter: the people created from one day to another (both included, days in the
operator's time zone), on the search page, in the one query (so the API's list and admin's
changelist take it too) and behind each day of the dashboard's people chart; a range of
person_created_idx (created_at, id), in a fixed number of statements."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from directory.forms import SearchForm
from directory.search import SearchQuery, count_people, people_of, search_people
from people import services
from people.models import Person
from portal.time_zones import BROWSER_COOKIE
from tests.factories import InstallationFactory
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db

ZAGREB = zoneinfo.ZoneInfo("Europe/Zagreb")


def person_created_at(actor, name: str, moment: dt.datetime) -> Person:
    person = services.person_create(actor=actor, fields={"firstName": "Iva", "lastName": name})
    Person.objects.filter(pk=person.pk).update(created_at=moment)
    return person


@pytest.fixture
def around_midnight(system_actor):
    """People created around midnight of 2 December 2026 in Zagreb (23:00 UTC on the 1st)."""
    utc = dt.UTC
    return {
        "early on the 1st": person_created_at(
            system_actor, "A", dt.datetime(2026, 12, 1, 0, 30, tzinfo=utc)
        ),
        "late on the 1st (UTC), the 2nd in Zagreb": person_created_at(
            system_actor, "B", dt.datetime(2026, 12, 1, 23, 30, tzinfo=utc)
        ),
        "on the 2nd": person_created_at(
            system_actor, "C", dt.datetime(2026, 12, 2, 12, 0, tzinfo=utc)
        ),
        "on the 3rd": person_created_at(
            system_actor, "D", dt.datetime(2026, 12, 3, 1, 0, tzinfo=utc)
        ),
    }


def names(people) -> list[str]:
    return sorted(person.last_name for person in people)


def found(query: SearchQuery) -> list[str]:
    return names(Person.objects.filter(pk__in=[row.pk for row in search_people(query).people]))


# ---------------------------------------------------------------------------------------------
# The query


def test_the_days_are_whole_days_of_the_current_time_zone(around_midnight):
    one_day = SearchQuery(created_from="2026-12-02", created_to="2026-12-02")
    assert found(one_day) == ["C"]
    with timezone.override(ZAGREB):
        assert found(one_day) == ["B", "C"]
    assert found(SearchQuery(created_from="2026-12-02")) == ["C", "D"]
    assert found(SearchQuery(created_to="2026-12-01")) == ["A", "B"]
    assert found(SearchQuery(created_from="2026-12-03", created_to="2026-12-01")) == []


def test_the_filter_narrows_a_name_search_and_is_the_populations_too(around_midnight):
    query = SearchQuery(q="Iva", created_from="2026-12-02", created_to="2026-12-02")
    assert found(query) == ["C"]
    assert names(people_of(query)) == ["C"]
    assert count_people(SearchQuery(created_to="2026-12-02")).count == 3


def test_a_created_list_pages_newest_first_through_its_days(system_actor):
    start = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    made = [
        person_created_at(system_actor, f"P{i}", start + dt.timedelta(minutes=i)).pk
        for i in range(7)
    ]
    person_created_at(system_actor, "Later", start + dt.timedelta(days=1))
    query = SearchQuery(created_from="2026-12-02", created_to="2026-12-02")
    seen, cursor = [], None
    while True:
        page = search_people(query, after=cursor, limit=3)
        seen += [row.pk for row in page.people]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == made[::-1]


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("createdFrom", "2026-13-01"),
        ("createdFrom", "1.12.2026"),
        ("createdTo", "20261201"),
        ("createdTo", "2026-02-30"),
    ],
)
def test_a_day_that_is_no_day_is_refused_naming_the_field(field, text):
    query = SearchQuery(**{"created_from" if field == "createdFrom" else "created_to": text})
    with pytest.raises(DomainError) as refused:
        search_people(query)
    assert refused.value.field == field
    label = "Created from" if field == "createdFrom" else "Created to"
    assert refused.value.message == f"{label}: “{text}” is not a day; write it as YYYY-MM-DD."


def test_a_day_out_of_range_is_refused_rather_than_overflowing():
    for text in ("0001-01-01", "9999-12-31"):
        with pytest.raises(DomainError) as refused:
            search_people(SearchQuery(created_to=text))
        assert refused.value.field == "createdTo"
        assert "must be a day from 1900-01-01 to 9998-12-31" in refused.value.message


# ---------------------------------------------------------------------------------------------
# The search page


def test_the_search_form_reads_the_days_into_the_query():
    form = SearchForm(
        {"created_from": "2026-12-01", "created_to": " 2026-12-02 "}, given_choices_only=True
    )
    assert form.is_valid(), form.errors
    assert form.to_query() == SearchQuery(created_from="2026-12-01", created_to="2026-12-02")
    assert form.to_query().has_filters


def test_the_search_form_refuses_a_wrong_day_and_a_reversed_range_at_the_field():
    form = SearchForm({"created_from": "2026-13-01"}, given_choices_only=True)
    assert not form.is_valid()
    assert form.errors["created_from"] == [
        "Created from: “2026-13-01” is not a day; write it as YYYY-MM-DD."
    ]
    form = SearchForm(
        {"created_from": "2026-12-02", "created_to": "2026-12-01"}, given_choices_only=True
    )
    assert not form.is_valid()
    assert form.errors["created_to"] == [
        "Created to (2026-12-01) is before created from (2026-12-02)."
    ]


def test_the_search_page_filters_by_the_days_and_says_what_is_wrong(editor_client, around_midnight):
    html = editor_client.get(reverse("home"), {"created_from": "2026-12-02"}).text
    assert re.search(r'<input type="date" name="created_from" id="id_created_from"', html)
    assert 'value="2026-12-02"' in html
    assert "rows 1–2" in html or "2 people" in html
    html = editor_client.get(
        reverse("home"), {"created_from": "2026-12-02", "created_to": "2026-12-02"}, **HTMX
    ).text
    assert html.count('class="row-link"') == 1
    html = editor_client.get(reverse("home"), {"created_to": "2026-12-32"}).text
    assert "Created to: “2026-12-32” is not a day; write it as YYYY-MM-DD." in html
    assert 'aria-invalid="true" aria-describedby="created_to-error"' in html
    # The box's answer says it too.
    html = editor_client.get(reverse("home"), {"created_to": "2026-12-32"}, **HTMX).text
    assert "Fix the search: Created to: “2026-12-32” is not a day" in html


def test_the_search_page_reads_the_days_in_the_operators_zone(editor_client, around_midnight):
    params = {"created_from": "2026-12-02", "created_to": "2026-12-02"}
    assert "Horvat" not in editor_client.get(reverse("home"), params, **HTMX).text
    html = editor_client.get(reverse("home"), params, **HTMX).text
    assert html.count('class="row-link"') == 1
    editor_client.cookies[BROWSER_COOKIE] = "Europe/Zagreb"
    html = editor_client.get(reverse("home"), params, **HTMX).text
    assert html.count('class="row-link"') == 2


# Session, user, permissions (two), the filters' applications and definitions (one; not for
# the box's htmx answer), then the list: the page's ids (a range of person_created_idx) and
# their rows, in one statement on PostgreSQL (elsewhere the people, then their phones, tags
# and devices: four).
STATEMENTS = {"postgresql": 7, "sqlite": 10}


def test_a_created_search_runs_a_fixed_number_of_statements(
    editor_client, system_actor, django_assert_num_queries
):
    start = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    for i in range(30):
        person = person_created_at(system_actor, f"P{i}", start + dt.timedelta(minutes=i))
        InstallationFactory(person=person)
    params = {"created_from": "2026-12-02", "created_to": "2026-12-02"}
    editor_client.get(reverse("home"), params)  # a first request of the session writes more
    expected = STATEMENTS[connection.vendor]
    with django_assert_num_queries(expected):
        html = editor_client.get(reverse("home"), params).text
    assert "rows 1–25" in html
    with django_assert_num_queries(expected - 1):
        editor_client.get(reverse("home"), params, **HTMX)


@pytest.mark.postgres_only
def test_a_created_list_walks_the_range_of_person_created_idx(system_actor):
    start = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    for i in range(40):
        person_created_at(system_actor, f"P{i}", start + dt.timedelta(hours=i))
    with CaptureQueriesContext(connection) as captured:
        search_people(SearchQuery(created_from="2026-12-02", created_to="2026-12-02"))
    (ids_statement, *_) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "people_person"."id"')
    ]
    # Forty rows: the planner may as well read the table, or a bitmap of the index (which
    # tables of earlier tests' statistics make it prefer); what is asked is that the index
    # serves the range in the page's order.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + ids_statement)
            (document,) = cursor.fetchone()
        finally:
            cursor.execute("SET enable_seqscan = on")
            cursor.execute("SET enable_bitmapscan = on")
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    scans = [node for node in nodes(plan) if node.get("Relation Name") == "people_person"]
    # An index-only scan, backward (newest first), bounded by the day.
    assert [node["Index Name"] for node in scans] == ["person_created_idx"], plan
    assert "created_at" in scans[0]["Index Cond"]
    # Walked in the page's order: no sort of the day's people.
    assert not any(node["Node Type"] == "Sort" for node in nodes(plan)), plan


# ---------------------------------------------------------------------------------------------
# The dashboard


def test_each_day_of_the_people_chart_links_to_the_search_of_that_day(editor_client, system_actor):
    today = timezone.localdate()
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    person_created_at(system_actor, "Today", noon)
    yesterday = person_created_at(system_actor, "Yesterday", noon - dt.timedelta(days=1))
    InstallationFactory(person=yesterday)
    html = editor_client.get(reverse("dashboard")).text
    people_chart, installations_chart = html.split('data-testid="chart-installations-per-day"')
    day = today.isoformat()
    link = f'href="/?created_from={day}&amp;created_to={day}"'
    # Over the column for the pointer, and in the table of days.
    assert people_chart.count(link) == 2
    assert people_chart.count('data-testid="day-link"') == 2
    # Installations are not linked: their creation has no index, and their days are sampled.
    assert "created_from" not in installations_chart.split('data-testid="chart-platforms"')[0]
    results = editor_client.get(f"/?created_from={day}&created_to={day}", **HTMX).text
    assert results.count('class="row-link"') == 1
    assert ">Iva Today<" in results


# ---------------------------------------------------------------------------------------------
# A device registered on given days (the dashboard's installations chart links here)


def registered_at(person: Person, moment: dt.datetime):
    installation = InstallationFactory(person=person)
    type(installation).objects.filter(pk=installation.pk).update(created_at=moment)
    return installation


def test_the_people_with_a_device_registered_on_a_day(system_actor, settings):
    settings.TIME_ZONE = "Europe/Zagreb"
    utc = dt.UTC
    a = person_created_at(system_actor, "A", dt.datetime(2026, 1, 1, tzinfo=utc))
    b = person_created_at(system_actor, "B", dt.datetime(2026, 1, 1, tzinfo=utc))
    c = person_created_at(system_actor, "C", dt.datetime(2026, 1, 1, tzinfo=utc))
    registered_at(a, dt.datetime(2026, 12, 1, 23, 30, tzinfo=utc))  # the 2nd in Zagreb
    registered_at(a, dt.datetime(2026, 12, 2, 10, 0, tzinfo=utc))  # a second one that day
    registered_at(b, dt.datetime(2026, 12, 3, 1, 0, tzinfo=utc))
    registered_at(c, dt.datetime(2026, 12, 1, 12, 0, tzinfo=utc))
    with timezone.override(ZAGREB):
        one_day = SearchQuery(installed_from="2026-12-02", installed_to="2026-12-02")
        assert found(one_day) == ["A"]  # once, though two of its devices are of that day
        assert count_people(one_day).count == 1
        assert names(people_of(one_day)) == ["A"]
        assert found(SearchQuery(installed_from="2026-12-02")) == ["A", "B"]
        assert found(SearchQuery(installed_to="2026-12-01")) == ["C"]
        # With the other conditions: and.
        both = SearchQuery(q="Iva", installed_from="2026-12-01", created_to="2026-01-01")
        assert found(both) == ["A", "B", "C"]


def test_a_registered_day_that_is_no_day_is_refused_naming_the_field():
    with pytest.raises(DomainError) as refused:
        search_people(SearchQuery(installed_from="2026-02-30"))
    assert refused.value.field == "installedFrom"
    assert refused.value.message == (
        "A device registered from: “2026-02-30” is not a day; write it as YYYY-MM-DD."
    )


def test_the_search_page_reads_the_registered_days_and_says_what_is_wrong(editor_client):
    page = editor_client.get("/", {"installed_from": "2026-12-03", "installed_to": "2026-12-01"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "A device registered to (2026-12-01) is before registered from (2026-12-03)." in html
    form = SearchForm({"installed_from": "2026-12-01", "installed_to": "2026-12-01"})
    assert form.is_valid()
    query = form.to_query()
    assert (query.installed_from, query.installed_to) == ("2026-12-01", "2026-12-01")
    assert SearchQuery.from_query_string(query.to_query_string()) == query
