"""The start of a bulk job from the bulk page: the job is given the search page's own query
(everyone matching) or the ids selected, the action's cleaned parameters, the operator, and
whether it is a dry run; the browser goes to the job's page."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.urls import reverse

from directory.forms import SearchForm
from jobs.models import Job  # noqa: E402
from people import services
from tests.populations.bulk_support import register_test_actions

pytestmark = pytest.mark.django_db

START = reverse("populations:bulk_start")


@pytest.fixture
def bulk_actions(monkeypatch):
    return register_test_actions(monkeypatch)


@pytest.fixture
def vips(profile, system_actor):
    return [profile.person] + [
        services.person_create(
            actor=system_actor, fields={"firstName": first, "lastName": "Kovač"}, tags=["vip"]
        )
        for first in ("Iva", "Marko")
    ]


def started(response) -> Job:
    job = Job.objects.latest("id")
    assert response.status_code == 302, response.content[:2000]
    assert response.url == reverse("populations:job_detail", kwargs={"pk": job.pk})
    return job


def test_a_dry_run_of_everyone_matching_stores_the_search_pages_own_query(
    editor_client, editor, vips, bulk_actions
):
    page = "tags=vip&type=CUSTOMER&sort=name"
    search = SearchForm(QueryDict(page))
    assert search.is_valid()

    response = editor_client.post(
        START,
        {
            "query": page,
            "all": "1",
            "action": "tags.add",
            "tags": "gold, Gold, silver",
            "dry_run": "1",
        },
    )

    job = started(response)
    assert job.query == search.to_query().to_dict()
    assert job.kind == "tags.add"
    assert job.params == {"tags": ["Gold", "gold", "silver"]}
    assert job.dry_run is True
    assert job.actor_user_id == editor.pk


def test_a_run_of_a_selection_stores_the_ids_selected(editor_client, vips, bulk_actions):
    ids = [vips[2].pk, vips[1].pk]

    response = editor_client.post(
        START,
        {
            "query": "tags=vip",
            "ids": ids,
            "all": "",
            "action": "tags.add",
            "tags": "gold",
            "dry_run": "0",
        },
    )

    job = started(response)
    assert job.query == {"ids": sorted(ids)}
    assert job.dry_run is False


def test_an_htmx_start_sends_the_browser_to_the_jobs_page(editor_client, vips, bulk_actions):
    response = editor_client.post(
        START,
        {"ids": vips[0].pk, "action": "tags.add", "tags": "gold", "dry_run": "1"},
        HTTP_HX_REQUEST="true",
    )

    job = Job.objects.latest("id")
    assert response["HX-Redirect"] == reverse("populations:job_detail", kwargs={"pk": job.pk})


def test_an_administrator_starts_an_administrators_action(admin_client_, vips, bulk_actions):
    response = admin_client_.post(
        START, {"ids": vips[2].pk, "action": "people.delete", "dry_run": "1"}
    )

    assert started(response).kind == "people.delete"


def test_a_refused_start_starts_no_job(editor_client, vips, bulk_actions):
    before = Job.objects.count()

    assert (
        editor_client.post(START, {"ids": vips[2].pk, "action": "people.delete"}).status_code == 403
    )
    assert (
        editor_client.post(START, {"ids": vips[2].pk, "action": "tags.add", "tags": ""}).status_code
        == 422
    )
    assert Job.objects.count() == before
