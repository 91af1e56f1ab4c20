"""Starting a bulk action from the search page: the selection each role sees, the bulk page's
population and parameter form, the preview (counts and a sample, in pinned statements),
parameters validated per action, roles checked on every request, and the population a job
is given (the page's own query, or the ids selected)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory.forms import SearchForm
from directory.search import totals
from jobs import actions
from people import services
from populations.forms import MAX_SELECTED, PopulationForm
from populations.views import bulk as bulk_views
from tests.factories import InstallationFactory
from tests.populations.bulk_support import REFUSED_TAG, register_test_actions
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db

BULK = reverse("populations:bulk")
PREVIEW = reverse("populations:bulk_preview")
START = reverse("populations:bulk_start")


@pytest.fixture
def bulk_actions(monkeypatch):
    return register_test_actions(monkeypatch)


@pytest.fixture
def vips(profile, system_actor):
    """Ana (the profile: tags vip, newsletter; two devices) and two more people tagged vip, one
    of them with a device; and one without the tag."""
    people = [profile.person] + [
        services.person_create(
            actor=system_actor, fields={"firstName": first, "lastName": "Kovač"}, tags=["vip"]
        )
        for first in ("Iva", "Marko")
    ]
    InstallationFactory(person=people[1], application=profile.app)
    services.person_create(actor=system_actor, fields={"firstName": "Nela", "lastName": "Novak"})
    return people


def html_of(response) -> str:
    return response.content.decode()


def hidden_inputs(html: str, form_id: str) -> list[tuple[str, str]]:
    form = re.search(rf'<form id="{form_id}".*?</form>', html, re.S)
    assert form, form_id
    return [
        (unescape(name), unescape(value))
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]*)" value="([^"]*)"', form.group(0)
        )
    ]


def preview(client, data: dict, **extra):
    return client.post(PREVIEW, data, **HTMX, **extra)


# ---------------------------------------------------------------------------------------------
# The search page's selection, by role


def test_a_viewer_sees_no_checkboxes_and_no_actions(viewer_client, vips, bulk_actions):
    html = html_of(viewer_client.get(reverse("home"), {"tags": "vip"}))

    assert "Kovač" in html
    assert "bulk-row" not in html
    assert "bulk-select-page" not in html
    assert "bulk-selection" not in html


def test_an_editor_selects_rows_and_sees_the_actions_of_an_editor(
    editor_client, vips, bulk_actions
):
    html = html_of(editor_client.get(reverse("home"), {"tags": "vip"}))

    boxes = re.findall(r'class="bulk-row" name="ids" value="(\d+)" form="bulk-selection"', html)
    assert sorted(map(int, boxes)) == sorted(p.pk for p in vips)
    assert 'id="bulk-select-page"' in html and "Select all on this page" in html
    assert 'id="bulk-selection"' in html and "Select all <span data-bulk-total>" in html
    menu = re.findall(r'name="action" value="([^"]+)"', html)
    assert "tags.add" in menu and "push.set" in menu
    assert "people.delete" not in menu


def test_an_administrator_also_sees_the_actions_of_an_administrator(
    admin_client_, vips, bulk_actions
):
    html = html_of(admin_client_.get(reverse("home"), {"tags": "vip"}))

    menu = re.findall(r'name="action" value="([^"]+)"', html)
    assert {"tags.add", "people.delete"} <= set(menu)


def test_the_selection_carries_the_search_query_string_without_the_page_position(
    editor_client, vips, bulk_actions
):
    html = html_of(
        editor_client.get(
            reverse("home"), {"tags": "vip", "type": "CUSTOMER", "size": "25", "sort": "name"}
        )
    )

    pairs = hidden_inputs(html, "bulk-selection")
    assert ("tags", "vip") in pairs and ("type", "CUSTOMER") in pairs and ("sort", "name") in pairs
    assert ("all", "") in pairs
    assert not {name for name, _ in pairs} & {"after", "start", "go", "size"}


def test_the_search_results_partial_has_the_selection_too(editor_client, vips, bulk_actions):
    html = html_of(editor_client.get(reverse("home"), {"q": "Kovač"}, **HTMX))

    assert html.count('class="bulk-row"') == 2
    assert 'id="bulk-selection"' in html


# ---------------------------------------------------------------------------------------------
# The bulk page: the population and the action's form


def test_the_page_describes_a_selection_and_shows_the_actions_form(
    editor_client, vips, bulk_actions
):
    ids = [vips[1].pk, vips[2].pk]
    response = editor_client.get(BULK, {"tags": "vip", "ids": ids, "action": "tags.add"})

    html = html_of(response)
    assert response.status_code == 200
    assert "2 selected people" in html
    assert 'name="tags"' in html and 'list="bulk-tag-suggestions"' in html
    assert reverse("people:tag_suggestions") in html
    posted = hidden_inputs(html, "bulk-form")
    assert ("query", "tags=vip") in posted and ("action", "tags.add") in posted
    assert {int(value) for name, value in posted if name == "ids"} == set(ids)


def test_the_page_describes_everyone_matching_with_the_searchs_conditions(
    editor_client, vips, bulk_actions
):
    response = editor_client.get(
        BULK, {"tags": "vip", "platform": "Android", "all": "1", "action": "tags.add"}
    )

    html = unescape(html_of(response))
    assert "All 3 people matching: tag vip, platform Android" in html or (
        "matching: tag vip, platform Android" in html
    )
    assert ("all", "1") in hidden_inputs(html_of(response), "bulk-form")


def test_the_page_says_everyone_when_the_search_has_no_condition(editor_client, vips, bulk_actions):
    html = unescape(html_of(editor_client.get(BULK, {"all": "1", "action": "tags.add"})))

    assert "All 4 people (no search: everyone)" in html


def test_the_page_without_anyone_selected_says_so(editor_client, vips, bulk_actions):
    response = editor_client.get(BULK, {"tags": "vip", "action": "tags.add"})

    assert response.status_code == 422
    assert "Select people in the list, or all people matching the search." in html_of(response)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("attribute.set", ['<select name="name"', 'id="bulk-value-field"']),
        ("push.set", ['type="radio" name="enabled" value="on"', '<select name="application"']),
    ],
)
def test_each_action_has_its_own_typed_fields(editor_client, vips, bulk_actions, kind, fields):
    html = html_of(editor_client.get(BULK, {"ids": vips[0].pk, "action": kind}))

    for markup in fields:
        assert markup in html, markup


def test_the_attribute_value_input_follows_the_definitions_type(editor_client, profile):
    url = reverse("populations:bulk_value_field")

    assert 'type="date"' in html_of(editor_client.get(url, {"name": "Anniversary"}))
    assert 'inputmode="decimal"' in html_of(editor_client.get(url, {"name": "Visits"}))
    assert '<option value="true"' in html_of(editor_client.get(url, {"name": "Newsletter"}))
    assert "disabled" in html_of(editor_client.get(url, {"name": "Nobody"}))


def test_an_unknown_action_is_named_on_the_page(editor_client, vips, bulk_actions):
    response = editor_client.get(BULK, {"ids": vips[0].pk, "action": "tags.shred"})

    assert response.status_code == 422
    assert "There is no action &#x27;tags.shred&#x27;." in html_of(response)


# ---------------------------------------------------------------------------------------------
# Roles: checked on every request


def test_a_viewer_is_refused_the_page_the_preview_and_the_start(viewer_client, vips, bulk_actions):
    data = {"ids": vips[0].pk, "action": "tags.add", "tags": "gold"}

    assert viewer_client.get(BULK, data).status_code == 403
    assert viewer_client.post(PREVIEW, data).status_code == 403
    assert viewer_client.post(START, data).status_code == 403


def test_an_editor_is_refused_an_administrators_action(editor_client, vips, bulk_actions):
    data = {"ids": vips[0].pk, "action": "people.delete"}

    assert editor_client.get(BULK, data).status_code == 403
    assert editor_client.post(PREVIEW, data).status_code == 403
    assert editor_client.post(START, data).status_code == 403


def test_an_administrator_previews_an_administrators_action(admin_client_, vips, bulk_actions):
    response = preview(admin_client_, {"ids": vips[2].pk, "action": "people.delete"})

    assert response.status_code == 200
    assert 'data-testid="bulk-run"' in html_of(response)


def test_writes_are_post_only(editor_client, vips, bulk_actions):
    data = {"ids": vips[0].pk, "action": "tags.add", "tags": "gold"}

    assert editor_client.get(PREVIEW, data).status_code == 405
    assert editor_client.get(START, data).status_code == 405


# ---------------------------------------------------------------------------------------------
# The preview


def test_the_preview_counts_people_and_installations_and_shows_a_sample(
    editor_client, vips, bulk_actions
):
    response = preview(
        editor_client, {"query": "tags=vip", "all": "1", "action": "tags.add", "tags": "gold, vip"}
    )

    html = unescape(html_of(response))
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="bulk-editor"')
    assert re.search(r'data-testid="bulk-people">3 people<', html)
    assert re.search(r'data-testid="bulk-installations">3 installations<', html)
    assert "count-exactly" not in html  # exact already
    rows = re.findall(r'data-testid="bulk-sample-row">.*?</tr>', html, re.S)
    assert len(rows) == 3
    assert "Ana Horvat" in rows[0]
    assert "newsletter, vip" in rows[0] and "gold, newsletter, vip" in rows[0]


def test_the_start_form_repeats_what_was_previewed(editor_client, vips, bulk_actions):
    html = html_of(
        preview(editor_client, {"ids": [vips[1].pk], "action": "tags.add", "tags": "gold"})
    )

    form = re.search(r'<form method="post" action="' + START + '".*?</form>', html, re.S)
    assert form
    pairs = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', form.group(0))
    assert ("ids", str(vips[1].pk)) in pairs
    assert ("action", "tags.add") in pairs and ("tags", "gold") in pairs
    assert 'name="dry_run" value="1"' in form.group(0)
    assert 'name="dry_run" value="0"' in form.group(0)


def test_the_sample_is_the_first_ten_people_by_id(editor_client, system_actor, bulk_actions):
    people = [
        services.person_create(actor=system_actor, fields={"firstName": f"P{n:02}"}, tags=["t"])
        for n in range(12)
    ]

    html = html_of(
        preview(editor_client, {"query": "tags=t", "all": "1", "action": "tags.add", "tags": "x"})
    )

    rows = re.findall(r'href="/person/(\d+)/"', html)
    assert [int(pk) for pk in rows] == [p.pk for p in people[:10]]
    assert "12 people" in html


def test_a_large_population_is_estimated_until_the_operator_asks_for_an_exact_count(
    editor_client, vips, bulk_actions, monkeypatch
):
    monkeypatch.setattr(totals, "EXACT_COUNT_LIMIT", 2)
    data = {"query": "", "all": "1", "action": "tags.add", "tags": "gold"}

    estimated = unescape(html_of(preview(editor_client, data)))
    counted = unescape(html_of(preview(editor_client, {**data, "count": "exact"})))

    assert 'data-exact="estimate"' in estimated
    assert 'data-testid="count-exactly"' in estimated
    assert re.search(r'data-testid="bulk-people">4 people<', counted)
    assert "(counted exactly)" in counted and "count-exactly" not in counted


def expected_preview_statements(selection: bool) -> int:
    """A bounded count is one statement on SQLite; on PostgreSQL it runs in a savepoint with
    its own timeout (set_config): savepoint, set_config, savepoint, COUNT, release, release."""
    count = 1 if connection.vendor != "postgresql" else 6
    # The search's tag: its id, and whether it is common (remembered after).
    tag = 0 if selection else 2
    # The people's count, the installations' count, the sample's ids, the action's preview (2).
    return tag + count + count + 1 + 2


@pytest.mark.parametrize("selection", [True, False], ids=["selection", "all matching"])
def test_the_preview_reads_in_a_fixed_number_of_statements(
    vips, bulk_actions, django_assert_num_queries, selection
):
    query = SearchForm({"tags": "vip"})
    assert query.is_valid()
    population = (
        bulk_views.Population(None, [p.pk for p in vips])
        if selection
        else bulk_views.Population(query.to_query(), [], "tags=vip")
    )

    with django_assert_num_queries(expected_preview_statements(selection)):
        result = bulk_views.preview_of(population, bulk_actions["tags.add"], {"tags": ["gold"]})

    assert result.people.count == 3 and result.people.exact
    assert result.installations.count == 3
    assert [row.person_id for row in result.rows] == sorted(p.pk for p in vips)


def test_the_preview_request_stays_within_its_statements(
    editor_client, vips, bulk_actions, django_assert_max_num_queries
):
    data = {"query": "tags=vip", "all": "1", "action": "tags.add", "tags": "gold"}
    preview(editor_client, data)  # the session and permissions read once

    with django_assert_max_num_queries(expected_preview_statements(False) + 6):
        assert preview(editor_client, data).status_code == 200


# ---------------------------------------------------------------------------------------------
# Parameters validated per action, errors at their field


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"action": "tags.add", "tags": " , "}, "tags", "Give at least one tag."),
        ({"action": "tags.add", "tags": REFUSED_TAG}, "tags", f"The tag {REFUSED_TAG} is refused."),
        ({"action": "attribute.set", "name": "Visits", "value": "many"}, "value", "Visits"),
        ({"action": "attribute.set", "name": "Visits", "value": ""}, "value", "Give a value"),
        (
            {"action": "attribute.set", "name": "Nope", "value": "1"},
            "name",
            "Select a valid choice",
        ),
        ({"action": "attribute.set", "name": "Orders", "value": "1"}, "name", "list of objects"),
        ({"action": "push.set", "enabled": "maybe"}, "enabled", "Select a valid choice"),
        ({"action": "push.set", "enabled": "on", "application": "nope"}, "application", "valid"),
    ],
)
def test_bad_parameters_are_shown_at_their_field(
    editor_client, vips, bulk_actions, data, field, message
):
    response = preview(editor_client, {"ids": vips[0].pk, **data})

    html = unescape(html_of(response))
    assert response.status_code == 422
    error = re.search(rf'<p class="error" role="alert" id="id_{field}-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1), html[:3000]
    assert 'data-testid="bulk-preview"' not in html


def test_a_typed_value_reaches_the_action_as_the_definitions_type(
    editor_client, vips, bulk_actions, monkeypatch
):
    given = []
    action = bulk_actions["attribute.set"]
    monkeypatch.setattr(action, "clean_params", lambda params: given.append(params) or params)

    preview(
        editor_client,
        {"ids": vips[0].pk, "action": "attribute.set", "name": "Visits", "value": "12"},
    )
    preview(
        editor_client,
        {"ids": vips[0].pk, "action": "attribute.set", "name": "Newsletter", "value": "true"},
    )

    assert given == [{"name": "Visits", "value": 12}, {"name": "Newsletter", "value": True}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "tags.add", "tags": "gold"}, "Select people in the list"),
        ({"action": "tags.add", "tags": "gold", "ids": "x"}, "Not a person&#x27;s id"),
        (
            {"action": "tags.add", "tags": "gold", "all": "1", "query": "created_from=yesterday"},
            "The search is not valid",
        ),
        ({"action": "tags.shred", "ids": "1"}, "There is no action"),
        ({"tags": "gold", "ids": "1"}, "Choose an action."),
    ],
)
def test_a_bad_population_or_action_is_a_form_error_not_a_failure(
    editor_client, vips, bulk_actions, data, message
):
    for url in (PREVIEW, START):
        response = editor_client.post(url, data)
        assert response.status_code == 422, url
        assert message in html_of(response), url


def test_too_many_rows_selected_are_refused(editor_client, vips, bulk_actions):
    ids = [str(n) for n in range(1, MAX_SELECTED + 2)]

    response = preview(editor_client, {"ids": ids, "action": "tags.add", "tags": "gold"})

    assert response.status_code == 422
    assert "select all matching the search instead" in html_of(response)


# ---------------------------------------------------------------------------------------------
# The population a job is given


def test_all_matching_stores_the_search_pages_own_query(vips):
    page = QueryDict("tags=vip&type=CUSTOMER&primary=yes&sort=name&after=12&start=26")
    search = SearchForm(page)
    assert search.is_valid()

    form = PopulationForm.from_search_page(QueryDict(page.urlencode() + "&all=1&ids=3"))

    assert form.is_valid(), form.errors
    assert form.population.stored() == search.to_query().to_dict()
    assert form.population.stored()["tags"] == ["vip"]


def test_a_selection_stores_the_ids_selected(vips):
    form = PopulationForm.from_search_page(QueryDict("tags=vip&ids=9&ids=3&ids=9"))

    assert form.is_valid(), form.errors
    assert form.population.stored() == {"ids": [3, 9]}


def test_the_selection_costs_the_search_page_no_statement(
    editor_client, vips, monkeypatch, django_assert_num_queries
):
    """The actions offered are read from the registry and the permissions the page has
    read already: the page takes as many statements with the selection bar as without."""
    url = reverse("home") + "?tags=vip"
    # No action registered: no selection bar.
    monkeypatch.setattr(actions, "_REGISTRY", {})
    editor_client.get(url)  # the session and tag sizes read once
    with CaptureQueriesContext(connection) as without:
        html = html_of(editor_client.get(url))
    assert 'id="bulk-selection"' not in html
    register_test_actions(monkeypatch)

    with django_assert_num_queries(len(without.captured_queries)):
        html = html_of(editor_client.get(url))

    assert 'id="bulk-selection"' in html


def test_without_javascript_the_preview_is_the_whole_page(editor_client, vips, bulk_actions):
    data = {"ids": vips[1].pk, "action": "tags.add", "tags": "gold"}

    html = html_of(editor_client.post(PREVIEW, data))

    assert "<html" in html and 'data-testid="bulk-preview"' in html
    assert "1 selected person" in html


@pytest.mark.parametrize(
    ("params", "described"),
    [
        ({"q": "horv", "type": "LEAD"}, "“horv”, type Lead"),
        ({"tags": "vip, gold", "app": "shop-android"}, "tags vip, gold, application shop-android"),
        ({"primary": "no", "push": "yes"}, "without a primary device, push enabled"),
        ({"attribute": "Visits", "op": "gte", "value": "3"}, "Visits ≥ 3"),
        ({"attribute": "Nickname"}, "Nickname set"),
        ({"created_from": "2026-01-01"}, "created from 2026-01-01"),
        (
            {"created_from": "2026-01-01", "created_to": "2026-02-01"},
            "created 2026-01-01 to 2026-02-01",
        ),
    ],
)
def test_a_search_is_described_in_words(profile, params, described):
    form = SearchForm(params)
    assert form.is_valid(), form.errors

    assert bulk_views.describe(form.to_query()) == described
