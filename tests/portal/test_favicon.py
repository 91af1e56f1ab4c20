"""Every page names its icon, and /favicon.ico (asked for by browsers and tools whatever the
page says) answers with one instead of a 404."""

import pytest
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_ico_answers_at_the_root_without_signing_in():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


@pytest.mark.parametrize("url", [reverse("login"), reverse("home"), reverse("dashboard")])
def test_every_page_links_the_svg_icon_and_it_is_served(editor, url):
    client = Client()
    if url != reverse("login"):
        client.force_login(editor)
    html = client.get(url).content.decode()
    icon = static("img/favicon.svg")
    assert f'<link rel="icon" href="{icon}" type="image/svg+xml">' in html
    response = client.get(icon)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
