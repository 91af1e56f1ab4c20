"""The API's views (/people/2/views): an API key sees the built-in views and the views shared
with a role, never a private one; the people of a view come as the People API's list does
(the same body, pages, order and masking)."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import ApiKey
from directory.search import SearchQuery
from populations import saved_views
from populations.builtin_views import BUILTIN_VIEWS
from tests.factories import InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def views(editor):
    team = saved_views.saved_view_create(
        owner=editor, name="Android team", query=SearchQuery(platform="Android")
    )
    saved_views.saved_view_share(view=team, user=editor, roles_shared=["Viewer"], users=[])
    private = saved_views.saved_view_create(
        owner=editor, name="Private", query=SearchQuery(platform="iOS")
    )
    return team, private


def test_a_key_lists_the_builtin_views_and_those_shared_with_a_role(read_client, views):
    team, private = views

    body = read_client.get("/people/2/views").json()

    ids = [view["id"] for view in body["views"]]
    assert ids == [builtin.api_id for builtin in BUILTIN_VIEWS] + [str(team.pk)]
    (shared,) = [view for view in body["views"] if not view["builtIn"]]
    assert shared == {
        "id": str(team.pk),
        "name": "Android team",
        "description": "",
        "builtIn": False,
        "owner": "eddie.editor",
        "query": {"platform": "Android"},
        "sharedWithRoles": ["Viewer"],
    }


def test_an_operator_lists_the_views_the_menu_shows(editor, viewer, views):
    client = APIClient()
    client.force_authenticate(viewer)
    names = [view["name"] for view in client.get("/people/2/views").json()["views"]]
    assert "Android team" in names and "Private" not in names

    client.force_authenticate(editor)
    names = [view["name"] for view in client.get("/people/2/views").json()["views"]]
    assert "Private" in names


def test_the_people_of_a_view_come_as_the_list_of_people(read_client, views):
    team, private = views
    android = [PersonFactory(external_id=f"crm-{n}") for n in range(3)]
    for person in android:
        InstallationFactory(person=person, os="Android")
    InstallationFactory(os="iOS")

    body = read_client.get(
        f"/people/2/views/{team.pk}/persons", {"limit": 2, "includeTotalCount": "true"}
    ).json()
    listed = read_client.get(
        "/people/2/persons", {"limit": 2, "includeTotalCount": "true", "filter": ""}
    ).json()

    assert set(body) == set(listed)
    assert body["totalCount"] == 3 and body["limit"] == 2 and body["page"] == 1
    assert [p["externalId"] for p in body["persons"]] == ["crm-2", "crm-1"]
    second = read_client.get(f"/people/2/views/{team.pk}/persons", {"limit": 2, "page": 2})
    assert [p["externalId"] for p in second.json()["persons"]] == ["crm-0"]


def test_a_private_or_unknown_view_is_not_found(read_client, views):
    _, private = views
    for view_id in (str(private.pk), "999999", "hygiene-nothing", "x" * 300):
        response = read_client.get(f"/people/2/views/{view_id}/persons")
        assert response.status_code == 404, view_id


def test_a_builtin_view_runs_for_a_key_and_masks_for_a_masked_key(read_client):
    wanted = PersonFactory(external_id="crm-wanted")
    InstallationFactory(person=wanted, registration_enabled=False, notifications_enabled=True)
    InstallationFactory(registration_enabled=False, notifications_enabled=False)

    body = read_client.get("/people/2/views/hygiene-push-off-notifying/persons").json()
    assert [p["externalId"] for p in body["persons"]] == ["crm-wanted"]

    ApiKey.objects.update(personal_data=False)
    masked = read_client.get("/people/2/views/hygiene-push-off-notifying/persons").json()
    assert masked["persons"][0]["externalId"] != "crm-wanted"


STATEMENTS = {"postgresql": 5, "sqlite": 9}


def test_the_list_of_a_view_takes_a_fixed_number_of_statements(
    read_client, views, django_assert_num_queries
):
    team, _ = views
    for _ in range(5):
        InstallationFactory(person=PersonFactory(), os="Android")
    read_client.get(f"/people/2/views/{team.pk}/persons")
    # The key (read, and its last use), the view, the page's ids, then their profiles: one
    # statement on PostgreSQL, five elsewhere (people.profiles).
    with django_assert_num_queries(STATEMENTS[connection.vendor]):
        response = read_client.get(f"/people/2/views/{team.pk}/persons")
    assert len(response.json()["persons"]) == 5
