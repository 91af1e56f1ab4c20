"""Every write endpoint of the UI, the API and admin, enforced by role.

The endpoints are the URLconf's routes (tests/core/routes.py) tried with every write method,
so routes added later are covered too. A Viewer (and a read API key) is refused with 403, or
the method is not allowed at all (405), and nothing in the database changes. An Editor is
let through (whatever the answer to the test's generic body) except on administrator-only
operations, where an Administrator's identical request is let through; and whatever an
Editor was let through did not do anything only an Administrator may do. Django admin refuses
everyone but Administrators.
"""

import json
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from core import roles
from core.models import ApiKey
from installations.models import Application
from people.models import AttributeDefinition, ContactIdentity, Person, Tag
from tests.core.conftest import snapshot, world_operator
from tests.core.routes import ANONYMOUS_ALLOWED, WRITE_METHODS, Route, iter_routes

pytestmark = pytest.mark.django_db


# The shared world's operators (tests/core/conftest.py), in place of tests/conftest.py's own.
@pytest.fixture
def viewer(db, shared_world) -> User:
    return world_operator(shared_world, roles.VIEWER)


@pytest.fixture
def editor(db, shared_world) -> User:
    return world_operator(shared_world, roles.EDITOR)


@pytest.fixture
def administrator(db, shared_world) -> User:
    return world_operator(shared_world, roles.ADMINISTRATOR)


# Routes that write nothing however they are called: signing out, and reads sent as POST
# (a search with a body); an operator's own display preference (the time zone), which
# every role sets for itself and which is no person's data; and revealing one masked value,
# a read that a Viewer may make (recorded: tests/privacy/test_masking.py); an operator's own
# saved views (a name and a query, no person's data: tests/populations/test_saved_views.py
# has who may change which); an export, a read of people every role may make, sent as POST
# (its columns and query in the body; a large one is a job that changes nobody:
# tests/transfer/test_export_*.py has who may start and download which).
NOT_WRITES = {
    "logout",
    "admin:logout",
    "api-persons-match",
    "preferences",
    "people:reveal",
    "populations:save",
    "populations:edit",
    "populations:share",
    "populations:delete",
    "transfer:export",
    "api-exports",
}

FORM_BODY = {
    "first_name": "Changed",
    "last_name": "Changed",
    "kind": "phone",
    "value": "+385 91 234 5678",
    "tag": "Changed",
    "tags": "Changed",
    "name": "Changed",
    "is_primary": "true",
    "enabled": "false",
    "additional_data": '{"changed": 1}',
    "confirm": "yes",
}
JSON_BODY = {
    "firstName": "Changed",
    "tags": ["Changed"],
    "name": "Created",
    "dataType": "STRING",
    "isPrimary": True,
    "systemData": {"registrationEnabled": False},
    "identity": {"externalId": "crm-1001"},
    "contactInformation": {"email": [{"address": "changed@example.com"}]},
}

ROUTES = [r for r in iter_routes() if r.name not in ANONYMOUS_ALLOWED | NOT_WRITES]
UI_AND_API = [(r, m) for r in ROUTES if not r.is_admin for m in WRITE_METHODS]
API = [(r, m) for r in ROUTES if r.is_api for m in WRITE_METHODS]
OPERATOR_ENDPOINTS = [(r, m) for r, m in UI_AND_API if not r.is_device_api]
ADMIN = [r for r in ROUTES if r.is_admin]


def ids(cases) -> list[str]:
    return [f"{method.upper()} {route.label}" for route, method in cases]


def concrete(route: Route, world) -> Route:
    """The same route with its path parameters naming the world's rows."""
    return next(r for r in iter_routes(world.value) if r.pattern == route.pattern)


def send(client, route: Route, method: str, world, key: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"App {key}"} if key else {}
    if route.is_api:
        path = route.path + "?externalId=" + (world.person.external_id or "")
        return getattr(client, method)(
            path, json.dumps(JSON_BODY), content_type="application/json", **headers
        )
    if method == "post":
        return client.post(route.path, FORM_BODY, **headers)
    return getattr(client, method)(route.path, **headers)


def refused_on_admin(response) -> bool:
    """The admin's own refusal (its sign-in page) or a 403."""
    if response.status_code == 403:
        return True
    return response.status_code == 302 and urlsplit(response["Location"]).path == reverse(
        "admin:login"
    )


# ---------------------------------------------------------------------------------------------
# Viewers and read keys


@pytest.mark.parametrize(("route", "method"), UI_AND_API, ids=ids(UI_AND_API))
def test_a_viewer_is_refused_every_write_and_nothing_changes(client, viewer, world, route, method):
    route = concrete(route, world)
    client.force_login(viewer)
    before = snapshot()
    response = send(client, route, method, world)
    allowed = {403, 405} | ({401} if route.is_device_api else set())
    assert response.status_code in allowed, (route.path, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize(("route", "method"), API, ids=ids(API))
def test_a_read_key_is_refused_every_api_write_and_nothing_changes(client, world, route, method):
    route = concrete(route, world)
    before = snapshot()
    response = send(client, route, method, world, key=world.read_key)
    allowed = {403, 405} | ({401} if route.is_device_api else set())
    assert response.status_code in allowed, (route.path, response.status_code)
    assert snapshot() == before


def test_viewers_are_refused_with_403_on_the_ui_and_api_writes_that_exist_today(
    client, viewer, world
):
    """The walk above is not vacuous: these are refused with 403, not 405."""
    client.force_login(viewer)
    refused = set()
    for route, method in OPERATOR_ENDPOINTS:
        if send(client, concrete(route, world), method, world).status_code == 403:
            refused.add(route.name)
    expected = {
        "people:create",
        "people:tags_add",
        "people:delete",
        "installations:set_primary",
        "installations:depersonalize",
        "people:not_duplicate",
        "api-persons",
        "api-custom-attributes",
    }
    present = {route.name for route, _ in OPERATOR_ENDPOINTS}
    assert expected & present <= refused
    assert len(refused) >= 10


# ---------------------------------------------------------------------------------------------
# Editors


def administrator_only_state() -> dict:
    """What only an Administrator may change: definitions, applications, keys, operators,
    tags (deleting one), and identified people (deleting one)."""
    identified = set(Person.objects.exclude(external_id=None).values_list("pk", flat=True)) | set(
        ContactIdentity.objects.values_list("person_id", flat=True)
    )
    return {
        "definitions": list(AttributeDefinition.objects.order_by("pk").values()),
        "applications": list(Application.objects.order_by("pk").values()),
        "keys": list(ApiKey.objects.order_by("pk").values("pk", "name", "role", "revoked_at")),
        "operators": list(User.objects.order_by("pk").values("pk", "username", "is_staff")),
        "groups": list(User.groups.through.objects.order_by("pk").values()),
        "tags": set(Tag.objects.values_list("pk", flat=True)),
        "identified people": identified,
    }


def did_only_editor_things(before: dict, after: dict) -> list[str]:
    broken = [
        name
        for name in ("definitions", "applications", "keys", "operators", "groups")
        if before[name] != after[name]
    ]
    if not before["tags"] <= after["tags"]:
        broken.append("tags deleted")
    surviving = Person.objects.filter(pk__in=before["identified people"]).count()
    if surviving != len(before["identified people"]):
        broken.append("a person deleted")
    return broken


@pytest.mark.parametrize(("route", "method"), OPERATOR_ENDPOINTS, ids=ids(OPERATOR_ENDPOINTS))
def test_an_editor_may_edit_but_not_do_what_only_an_administrator_may(
    client, editor, administrator, world, route, method
):
    route = concrete(route, world)
    client.force_login(editor)
    before_all = snapshot()
    before = administrator_only_state()
    response = send(client, route, method, world)
    assert response.status_code != 401, route.path
    if response.status_code == 403:
        assert snapshot() == before_all
        # Refused for the role, not for everyone: an Administrator may.
        client.force_login(administrator)
        again = send(client, route, method, world)
        assert again.status_code not in (401, 403), (route.path, again.status_code)
    else:
        assert did_only_editor_things(before, administrator_only_state()) == [], route.path


def test_an_editor_is_refused_deleting_a_person_and_defining_attributes(client, editor, world):
    client.force_login(editor)
    person = world.person
    assert client.post(reverse("people:delete", args=[person.pk])).status_code == 403
    api_delete = client.delete(f"/people/2/persons?externalId={person.external_id}")
    assert api_delete.status_code == 403
    create = client.post(
        reverse("api-custom-attributes"),
        {"name": "Plan", "dataType": "STRING"},
        content_type="application/json",
    )
    assert create.status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()
    assert not AttributeDefinition.objects.filter(name="Plan").exists()


def test_an_editor_makes_another_installation_primary_and_adds_a_tag(client, editor, world):
    client.force_login(editor)
    response = client.post(
        reverse("installations:set_primary", args=[world.other_installation.pk]),
        {"is_primary": "true"},
    )
    assert response.status_code in (200, 302)
    world.other_installation.refresh_from_db()
    assert world.other_installation.is_primary
    patch = client.patch(
        f"/people/2/persons?externalId={world.person.external_id}",
        json.dumps({"tags": ["Gold"]}),
        content_type="application/json",
    )
    assert patch.status_code == 200
    assert world.person.tags.filter(name="Gold").exists()


def test_a_manage_key_may_write_through_the_api(client, world):
    response = client.patch(
        f"/people/2/persons?externalId={world.person.external_id}",
        json.dumps({"firstName": "Managed"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"App {world.manage_key}",
    )
    assert response.status_code == 200
    world.person.refresh_from_db()
    assert world.person.first_name == "Managed"


# ---------------------------------------------------------------------------------------------
# Django admin: Administrators only


ADMIN_ROLES = ["viewer", "staff viewer", "staff editor"]
ADMIN_CASES = [(route, role) for route in ADMIN for role in ADMIN_ROLES]


def admin_body(world) -> dict:
    """A POST that would change a lot if admin accepted it: delete everything selected,
    or add and change with plausible fields."""
    return {
        "action": "delete_selected",
        "_selected_action": [world.person.pk, world.installation.pk],
        "post": "yes",
        "name": "Changed",
        "username": "intruder",
        "role": "administrator",
        "data_type": "STRING",
        "first_name": "Changed",
        "type": "CUSTOMER",
        "is_primary": "on",
        "password1": "a-long-enough-passphrase",
        "password2": "a-long-enough-passphrase",
    }


@pytest.mark.parametrize(
    ("route", "role"), ADMIN_CASES, ids=[f"{r.label} as {role}" for r, role in ADMIN_CASES]
)
def test_django_admin_refuses_every_write_of_a_viewer_or_editor(
    client, viewer, editor, world, route, role
):
    if route.name == "admin:login":
        pytest.skip("signing in is not a write")
    user = viewer if "viewer" in role else editor
    if role.startswith("staff"):
        # Staff status given by hand: the role still keeps them out.
        User.objects.filter(pk=user.pk).update(is_staff=True)
        user.refresh_from_db()
    route = concrete(route, world)
    client.force_login(user)
    before = snapshot()
    response = client.post(route.path, admin_body(world))
    assert refused_on_admin(response), (route.path, response.status_code)
    assert client.get(route.path).status_code in (302, 403, 405)
    assert snapshot() == before


def test_an_administrator_passes_the_admin_check_that_refuses_the_others(
    client, administrator, world
):
    client.force_login(administrator)
    assert client.get(reverse("admin:index")).status_code == 200
    url = reverse("admin:people_person_change", args=[world.person.pk])
    assert client.get(url).status_code == 200
