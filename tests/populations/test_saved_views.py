"""Saved views: saving the search shown, names unique per owner in any casing, who opens a
view (owner, roles and operators it is shared with, Administrators; others get a 404), who
changes it (owner or Administrator; others 403), the Views menu, the built-in views, and the
statements each page takes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from core import roles
from core.errors import DomainError
from directory.search import SearchQuery
from populations import saved_views
from populations.builtin_views import BUILTIN_VIEWS
from populations.models import SavedView
from tests.conftest import make_operator
from tests.factories import InstallationFactory, PersonFactory
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def a_view(owner: User, name: str = "VIPs", **query) -> SavedView:
    return saved_views.saved_view_create(
        owner=owner, name=name, query=SearchQuery(**(query or {"tags": ["VIP"]}))
    )


# ---------------------------------------------------------------------------------------------
# Saving


def test_saving_keeps_the_search_its_sort_and_page_size_but_not_its_position(editor_client):
    params = {"q": "", "type": "CUSTOMER", "push": "no", "sort": "-updated", "size": "50"}
    response = editor_client.post(
        reverse("populations:save"), {"name": "Push off customers", **params}, **HTMX
    )

    view = SavedView.objects.get()
    assert response.headers["HX-Redirect"] == reverse("populations:open", args=[view.pk])
    assert view.query == {
        "type": "CUSTOMER",
        "push_enabled": False,
        "sort": "-updated",
        "page_size": 50,
    }
    assert view.name == "Push off customers"


def test_saving_without_javascript_reads_the_search_of_the_page(editor_client):
    response = editor_client.post(
        reverse("populations:save"),
        {"name": "Stale", "search_url": "/?stale_days=30&several_no_primary=on&after=99"},
    )

    view = SavedView.objects.get()
    assert response.status_code == 302
    assert view.query == {"stale_days": 30, "several_no_primary": True}


def test_a_view_needs_a_name_unique_for_its_owner_in_any_casing(editor, viewer):
    a_view(editor, "Straße")
    with pytest.raises(DomainError) as taken:
        a_view(editor, "STRASSE")
    assert (taken.value.code, taken.value.field) == ("CONFLICT", "name")
    with pytest.raises(DomainError) as empty:
        a_view(editor, "   ")
    assert empty.value.field == "name"
    assert a_view(viewer, "strasse").owner == viewer


def test_the_save_form_shows_its_refusal_in_place(editor_client, editor):
    a_view(editor, "Mine")

    response = editor_client.post(reverse("populations:save"), {"name": "mine", "q": ""}, **HTMX)

    assert response.status_code == 200
    assert 'id="save-view-error"' in response.text and "already" in response.text
    assert SavedView.objects.count() == 1


def test_a_search_that_does_not_read_is_not_saved(editor_client):
    response = editor_client.post(
        reverse("populations:save"), {"name": "Broken", "q": "", "stale_days": "0"}, **HTMX
    )

    assert "Fix the search before saving it." in response.text
    assert not SavedView.objects.exists()


def test_a_saved_view_reads_its_query_back_whole(editor):
    query = SearchQuery(q="ana", tags=["VIP"], stale_days=30, duplicate_devices=True, sort="name")
    view = a_view(editor, "Everything", **query.to_dict())

    assert saved_views.query_of(view) == query


# ---------------------------------------------------------------------------------------------
# Opening


def test_opening_a_view_shows_the_search_page_with_its_query_and_name(editor_client, editor):
    vip = PersonFactory(first_name="Vida")
    other = PersonFactory(first_name="Otto")
    view = a_view(editor, "Android people", platform="Android")
    InstallationFactory(person=vip, os="Android")
    InstallationFactory(person=other, os="iOS")

    html = editor_client.get(reverse("populations:open", args=[view.pk])).text

    assert "<title>Android people · Search · People Portal</title>" in html
    assert f"/person/{vip.pk}/" in html and f"/person/{other.pk}/" not in html
    assert '<option value="Android" selected' in html


def test_who_may_open_a_view(editor, viewer, administrator):
    view = a_view(editor)
    stranger = make_operator("sam.stranger", roles.VIEWER)
    named = make_operator("nina.named", roles.VIEWER)
    url = reverse("populations:open", args=[view.pk])

    assert client_of(viewer).get(url).status_code == 404
    assert client_of(administrator).get(url).status_code == 200

    saved_views.saved_view_share(view=view, user=editor, roles_shared=["viewer"], users=[named])
    assert client_of(viewer).get(url).status_code == 200
    assert client_of(named).get(url).status_code == 200

    saved_views.saved_view_share(view=view, user=editor, roles_shared=[], users=[named])
    assert client_of(stranger).get(url).status_code == 404
    assert client_of(viewer).get(url).status_code == 404
    assert client_of(named).get(url).status_code == 200


def test_only_the_owner_or_an_administrator_changes_a_view(editor, viewer, administrator):
    view = a_view(editor)
    saved_views.saved_view_share(view=view, user=editor, roles_shared=["Viewer"], users=[])
    shared_with = client_of(viewer)

    for name, data in [
        ("populations:edit", {"name": "Hijacked"}),
        ("populations:share", {"roles": ["Editor"]}),
        ("populations:delete", {}),
    ]:
        assert shared_with.post(reverse(name, args=[view.pk]), data).status_code == 403
    view.refresh_from_db()
    assert view.name == "VIPs"

    admin = client_of(administrator)
    admin.post(reverse("populations:edit", args=[view.pk]), {"name": "Renamed"})
    view.refresh_from_db()
    assert view.name == "Renamed"
    client_of(editor).post(reverse("populations:delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_sharing_names_roles_only(editor):
    view = a_view(editor)
    with pytest.raises(DomainError) as refused:
        saved_views.saved_view_share(view=view, user=editor, roles_shared=["staff"], users=[])
    assert refused.value.field == "roles"


def test_the_views_menu_lists_builtins_mine_and_shared_with_me(editor, viewer):
    mine = a_view(viewer, "Mine")
    theirs = a_view(editor, "Team view")
    saved_views.saved_view_share(view=theirs, user=editor, roles_shared=["Viewer"], users=[])
    a_view(editor, "Private")

    html = (
        client_of(viewer)
        .get(reverse("populations:views_menu"), {"current": str(theirs.pk)}, **HTMX)
        .text
    )

    for builtin in BUILTIN_VIEWS:
        assert reverse("populations:hygiene", args=[builtin.key]) in html
    assert "Mine" in html and "Team view" in html and "Private" not in html
    current = f'href="{reverse("populations:open", args=[theirs.pk])}" aria-current="page"'
    assert current in html
    assert f'href="{reverse("populations:open", args=[mine.pk])}" aria-current' not in html


def test_the_views_menu_takes_a_fixed_number_of_statements(editor, django_assert_num_queries):
    client = client_of(editor)
    for number in range(5):
        view = a_view(make_operator(f"owner{number}", roles.EDITOR), f"View {number}")
        saved_views.saved_view_share(view=view, user=view.owner, roles_shared=["Editor"], users=[])
    client.get(reverse("populations:views_menu"))
    # Session, user, its groups, the views (with their owners).
    with django_assert_num_queries(4):
        html = client.get(reverse("populations:views_menu")).text
    assert html.count("by owner") == 5


def test_the_views_page_takes_a_fixed_number_of_statements(editor, django_assert_num_queries):
    client = client_of(editor)
    for number in range(4):
        view = a_view(editor, f"View {number}")
        saved_views.saved_view_share(view=view, user=editor, roles_shared=["Viewer"], users=[])
    client.get(reverse("populations:views"))
    # Session, user, its groups, the views, their roles, their operators, the page's
    # permissions (two: the menu of base.html), the operators.
    with django_assert_num_queries(9):
        html = client.get(reverse("populations:views")).text
    assert html.count("Save sharing") == 4


def test_a_builtin_view_opens_for_anyone_with_its_name(viewer):
    wanted = PersonFactory()
    InstallationFactory(person=wanted, registration_enabled=False, notifications_enabled=True)
    InstallationFactory(registration_enabled=True)

    html = client_of(viewer).get(reverse("populations:hygiene", args=["push-off-notifying"])).text

    assert "<h1>Push off, notifications on</h1>" in html
    assert f"/person/{wanted.pk}/" in html
    assert html.count('class="result-row') in (0, 1)
    assert client_of(viewer).get("/views/hygiene/nothing/").status_code == 404


STATEMENTS = {"postgresql": 9, "sqlite": 12}


def test_opening_a_saved_view_takes_two_statements_more_than_its_search(
    editor, django_assert_num_queries
):
    client = client_of(editor)
    view = a_view(editor, "Android", platform="Android")
    for _ in range(3):
        InstallationFactory(os="Android")
    url = reverse("populations:open", args=[view.pk])
    client.get(url)
    # The search page's (tests/search/test_hygiene.py), the operator's role (its groups) and
    # the view.
    with django_assert_num_queries(STATEMENTS[connection.vendor]):
        client.get(url)
