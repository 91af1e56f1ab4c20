"""The admin person and installation lists run a fixed number of queries per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people import services
from people.history import Actor
from tests.factories import ApplicationFactory, InstallationFactory

pytestmark = pytest.mark.django_db

# Session, user, role, permissions (2), the filter choices (tags, applications), the tag
# filter's id-and-frequency lookup (directory.search: the planner gets tag ids as values), the
# exact lookups, the capped count, the page and its two prefetches.
MAX_QUERIES = 13


def make_people(count: int, start: int = 0) -> None:
    application = ApplicationFactory()
    for n in range(start, start + count):
        person = services.person_create(
            actor=Actor.system(),
            fields={"firstName": f"Person{n}", "lastName": "Listed"},
            phones=[f"+3859123{n:05d}"],
            emails=[f"person{n}@example.com"],
            tags=["VIP", f"tag-{n}"],
        )
        InstallationFactory(person=person, application=application, is_primary=True)
        InstallationFactory(person=person, application=application, os="iOS")


def queries_for(client, url_name: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(url_name), params or {})
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("admin:people_person_changelist", {}),
        ("admin:people_person_changelist", {"q": "listed", "platform": "iOS", "tag": "VIP"}),
        ("admin:installations_installation_changelist", {}),
        ("admin:installations_installation_changelist", {"q": "listed"}),
    ],
)
def test_a_list_page_runs_as_many_queries_for_50_rows_as_for_5(
    admin_client, django_assert_max_num_queries, url_name, params
):
    make_people(5)
    queries_for(admin_client, url_name, params)  # warm the per-process caches (content types)
    few, response = queries_for(admin_client, url_name, params)
    assert len(response.context["cl"].result_list) == 5 * (2 if "installation" in url_name else 1)
    make_people(45, start=5)
    with django_assert_max_num_queries(MAX_QUERIES):
        many, response = queries_for(admin_client, url_name, params)
    assert len(response.context["cl"].result_list) in (50, 100)
    assert many == few
