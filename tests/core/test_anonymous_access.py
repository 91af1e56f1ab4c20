"""An anonymous visitor is sent to sign in (pages) or gets 401 (API) on every route.

The routes are enumerated from the URLconf when the test runs, so a route added later is
covered without being listed here. Only the sign-in pages, the health check and the OpenAPI
document answer anonymously (static files are served by WhiteNoise, outside the URLconf).
"""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.core.routes import ANONYMOUS_ALLOWED, Route, iter_routes

pytestmark = pytest.mark.django_db

ROUTES = list(iter_routes())


def sign_in_paths() -> set[str]:
    return {reverse("login"), reverse("admin:login")}


def request(client: Client, route: Route):
    """GET, or the first write method the route accepts when it refuses GET (405)."""
    response = client.get(route.path)
    for method in ("post", "put", "patch", "delete"):
        if response.status_code != 405:
            break
        response = getattr(client, method)(route.path)
    return response


def ends_at_sign_in(client: Client, response) -> bool:
    """Follows redirects (a slash appended, the admin's index) until a sign-in page."""
    for _ in range(4):
        if response.status_code not in (301, 302, 303, 307, 308):
            return False
        target = urlsplit(response["Location"]).path
        if target in sign_in_paths():
            return True
        response = client.get(target)
    return False


@pytest.mark.parametrize("route", ROUTES, ids=[r.label for r in ROUTES])
def test_an_anonymous_request_is_refused(client, route):
    response = request(client, route)
    if route.name in ANONYMOUS_ALLOWED:
        assert response.status_code < 500
    elif route.is_api:
        assert response.status_code == 401, (route.path, response.status_code)
    else:
        assert ends_at_sign_in(client, response), (route.path, response.status_code)


def test_the_walk_covers_the_operator_ui_the_api_and_admin():
    paths = [route.path for route in ROUTES]
    assert any(route.is_admin for route in ROUTES)
    assert "/people/2/" in " ".join(paths) or "/mobile/1/" in " ".join(paths)
    assert reverse("home") in paths
    assert len(ROUTES) > 30


def test_the_sign_in_page_health_and_openapi_document_answer_anonymously(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("health")).status_code == 200
    assert client.get(reverse("api-schema")).status_code == 200
    assert client.get(reverse("api-docs")).status_code == 200
