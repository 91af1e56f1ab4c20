"""Every state-changing request made with an operator's session needs a CSRF token.

The endpoints are the URLconf's routes, enumerated when the tests run (tests/core/routes.py),
so a page, htmx endpoint or admin view added later is covered without being listed here. Each
is sent every write method by a signed-in Administrator whose browser holds the CSRF cookie but
whose request carries no token (what a forged cross-site form sends): 403, and nothing in the
database changes. The positive control sends the same request with the token: not 403.

The API under /people/2/ authenticates with keys, which a forged request cannot carry; an
operator's session is also accepted there, and then the token is required as well. The device
API under /mobile/1/ takes application codes only, never a session.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils.crypto import get_random_string

from core import roles
from tests.core import conftest as access
from tests.core.conftest import World, snapshot, world_operator
from tests.core.routes import Route, iter_routes

# The access tests' rows (a person with identities, tags, attributes, two installations, keys).
world = access.world

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


WRITE_METHODS = ("post", "put", "patch", "delete")
# Signing in is a write too (login CSRF), made before there is a session.
SIGN_IN = {"login", "admin:login"}
# Answered by DRF (the API and its schema): a session there is checked by DRF itself.
DRF_PREFIXES = ("/people/2/", "/peopleevents/2/", "/mobile/1/", "/api/")

ROUTES = list(iter_routes())
UI_ROUTES = [r for r in ROUTES if not r.path.startswith(DRF_PREFIXES) and r.name != "health"]
SESSION_API_ROUTES = [r for r in ROUTES if r.path.startswith(("/people/2/", "/peopleevents/2/"))]
DOCUMENT_ROUTES = [r for r in ROUTES if r.path.startswith("/api/")]
DEVICE_ROUTES = [r for r in ROUTES if r.path.startswith("/mobile/1/")]

FORM_BODY = {
    "first_name": "Forged",
    "kind": "phone",
    "value": "+385 91 234 5678",
    "name": "Forged",
    "is_primary": "true",
    "enabled": "false",
    "additional_data": '{"forged": 1}',
    "confirm": "yes",
    "username": "ada.admin",
    "password": "correct-horse-battery",
}
JSON_BODY = {"firstName": "Forged", "tags": ["Forged"], "name": "Forged", "dataType": "STRING"}

CSRF_SECRET = get_random_string(32)


def concrete(route: Route, world: World) -> Route:
    """The same route with its path parameters naming the world's rows."""
    return next(r for r in iter_routes(world.value) if r.pattern == route.pattern)


def browser(user=None) -> Client:
    """A client like a browser: CSRF checks on, the CSRF cookie set, maybe signed in."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    return client


def current_token(client: Client) -> str:
    """The browser's CSRF cookie, which signing in rotates."""
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def send(client: Client, route: Route, method: str, *, token: str | None, world: World):
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
    if route.path.startswith(DRF_PREFIXES):
        path = route.path + f"?externalId={world.person.external_id}"
        body = json.dumps(JSON_BODY)
        return getattr(client, method)(path, body, content_type="application/json", **headers)
    if method == "post":
        return client.post(route.path, FORM_BODY, **headers)
    return getattr(client, method)(route.path, **headers)


def is_csrf_refusal(response) -> bool:
    return response.status_code == 403 and b"CSRF verification failed" in response.content


def ids(routes: list[Route]) -> list[str]:
    return [r.label for r in routes]


@pytest.mark.parametrize("route", UI_ROUTES, ids=ids(UI_ROUTES))
def test_every_write_to_a_ui_or_admin_route_without_a_token_is_refused_and_changes_nothing(
    route, world, administrator
):
    route = concrete(route, world)
    client = browser(None if route.name in SIGN_IN else administrator)
    before = snapshot()
    for method in WRITE_METHODS:
        response = send(client, route, method, token=None, world=world)
        assert is_csrf_refusal(response), (method, route.path, response.status_code)
        wrong = send(client, route, method, token=get_random_string(32), world=world)
        assert is_csrf_refusal(wrong), (method, route.path, wrong.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("route", UI_ROUTES, ids=ids(UI_ROUTES))
def test_the_same_write_with_the_token_gets_past_the_csrf_check(route, world, administrator):
    route = concrete(route, world)
    client = browser(None if route.name in SIGN_IN else administrator)
    for method in WRITE_METHODS:
        response = send(client, route, method, token=current_token(client), world=world)
        assert not is_csrf_refusal(response), (method, route.path)
        if not route.is_admin:
            # Admin answers 403 for what no one may do there (adding history events, say).
            assert response.status_code != 403, (method, route.path, response.status_code)


def test_the_routes_walked_include_every_kind_of_ui_write(world, editor):
    """The walk is not vacuous: the htmx endpoints, the pages with forms and admin are in it,
    and with the token an Editor's htmx writes really happen."""
    names = {r.name for r in UI_ROUTES}
    assert {
        "login",
        "logout",
        "people:create",
        "people:overview",
        "people:identity_add",
        "people:tags_add",
        "people:attribute_set",
        "people:delete",
        "installations:set_primary",
        "installations:set_push",
        "installations:set_additional_data",
        "installations:depersonalize",
        "admin:people_person_change",
        "admin:people_person_delete",
        "admin:installations_installation_changelist",
    } <= names
    client = browser(editor)
    tags_add = concrete(next(r for r in UI_ROUTES if r.name == "people:tags_add"), world)
    forged = client.post(tags_add.path, {"name": "Forged"}, HTTP_HX_REQUEST="true")
    assert is_csrf_refusal(forged)
    assert not world.person.tags.filter(name="Forged").exists()
    sent = client.post(
        tags_add.path, {"name": "Forged"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=CSRF_SECRET
    )
    assert sent.status_code == 200
    assert world.person.tags.filter(name="Forged").exists()


def is_api_csrf_refusal(response) -> bool:
    """DRF's refusal, in the vendor's error body."""
    return response.status_code == 403 and b"CSRF Failed" in response.content


@pytest.mark.parametrize("route", SESSION_API_ROUTES, ids=ids(SESSION_API_ROUTES))
def test_an_api_write_with_an_operators_session_needs_the_token(route, world, administrator):
    route = concrete(route, world)
    client = browser(administrator)
    before = snapshot()
    for method in WRITE_METHODS:
        response = send(client, route, method, token=None, world=world)
        assert is_api_csrf_refusal(response), (method, route.path, response.status_code)
    assert snapshot() == before
    for method in WRITE_METHODS:
        response = send(client, route, method, token=current_token(client), world=world)
        assert response.status_code != 403, (method, route.path, response.content)


def test_an_api_key_needs_no_token_because_a_forged_request_cannot_carry_it(world):
    client = Client(enforce_csrf_checks=True)
    response = client.patch(
        f"/people/2/persons?externalId={world.person.external_id}",
        json.dumps({"firstName": "Scripted"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"App {world.manage_key}",
    )
    assert response.status_code == 200
    world.person.refresh_from_db()
    assert world.person.first_name == "Scripted"


@pytest.mark.parametrize("route", DEVICE_ROUTES, ids=ids(DEVICE_ROUTES))
def test_the_device_api_does_not_accept_an_operators_session(route, world, administrator):
    route = concrete(route, world)
    client = browser(administrator)
    before = snapshot()
    for method in WRITE_METHODS:
        response = send(client, route, method, token=current_token(client), world=world)
        assert response.status_code in (401, 405), (method, route.path, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("route", DOCUMENT_ROUTES, ids=ids(DOCUMENT_ROUTES))
def test_the_api_document_pages_accept_no_write(route, world, administrator):
    client = browser(administrator)
    for method in WRITE_METHODS:
        response = send(client, route, method, token=current_token(client), world=world)
        assert response.status_code == 405, (method, route.path, response.status_code)
