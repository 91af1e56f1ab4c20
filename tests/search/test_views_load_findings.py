"""Bugs that `make loadtest` found, each pinned by the request that showed it."""

import pytest

from people import services
from people.history import Actor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["Hor", "ana@example.com"])
def test_a_name_search_with_a_tag_nobody_has_answers_an_empty_list(client, editor, typed):
    """A name page compiled its index ranges by hand; a tag filter no row can meet made
    Django refuse to compile one (EmptyResultSet), a 500."""
    services.person_create(
        actor=Actor.system("tests"), fields={"firstName": "Ana", "lastName": "Horvat"}, tags=["vip"]
    )
    client.force_login(editor)
    response = client.get("/", {"q": typed, "tags": "no-such-tag"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "No people found" in response.content.decode()
    found = client.get("/", {"q": "Hor", "tags": "vip"}, HTTP_HX_REQUEST="true")
    assert "Ana Horvat" in found.content.decode()
