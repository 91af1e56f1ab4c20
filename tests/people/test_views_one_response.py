"""An in-place action on the person page answers with everything it changed in one response.

The section it was made in, and out of band the person header and the first page of history
(with the action's own event on top): the browser fetches nothing more. No answer sends an
event that would make the page fetch the header or the history again.
"""

import re

import pytest
from django.urls import reverse

from people.models import Event
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def actions(profile):
    person = profile.person.pk
    visits = profile.definitions["Visits"].pk
    nickname = profile.definitions["Nickname"].pk
    primary, second = profile.primary.pk, profile.second.pk
    return {
        "make primary": (
            reverse("installations:set_primary", args=[second]),
            {"is_primary": "true"},
            f'id="installation-{second}"',
        ),
        "push off": (
            reverse("installations:set_push", args=[primary]),
            {"enabled": "false"},
            f'id="installation-{primary}"',
        ),
        "additional data": (
            reverse("installations:set_additional_data", args=[primary]),
            {"additional_data": '{"tier": "silver"}', "additional_data_shown": '{"tier": "gold"}'},
            f'id="installation-{primary}"',
        ),
        "remote logout": (
            reverse("installations:depersonalize", args=[second]),
            {},
            'id="installations-status"',
        ),
        "tag add": (reverse("people:tags_add", args=[person]), {"name": "gold"}, 'id="tags"'),
        "tag remove": (reverse("people:tags_remove", args=[person]), {"name": "vip"}, 'id="tags"'),
        "attribute set": (
            reverse("people:attribute_set", args=[person, visits]),
            {"value": "7"},
            f'id="attribute-{visits}"',
        ),
        "attribute remove": (
            reverse("people:attribute_remove", args=[person, nickname]),
            {},
            f'id="attribute-{nickname}"',
        ),
        "contact add": (
            reverse("people:identity_add", args=[person]),
            {"kind": "email", "value": "ana@example.org"},
            'id="identities"',
        ),
        "contact remove": (
            reverse("people:identity_remove", args=[person]),
            {"kind": "phone", "value": "38516419710"},
            'id="identities"',
        ),
        "basic information": (
            reverse("people:overview", args=[person]),
            {
                "version": profile.person.version,
                "type": "CUSTOMER",
                "firstName": "Anna",
                "lastName": "Horvat",
                "externalId": "crm-42",
            },
            'id="overview"',
        ),
    }


ACTIONS = [
    "make primary",
    "push off",
    "additional data",
    "remote logout",
    "tag add",
    "tag remove",
    "attribute set",
    "attribute remove",
    "contact add",
    "contact remove",
    "basic information",
]


@pytest.mark.parametrize("name", ACTIONS)
def test_an_action_answers_with_its_section_the_header_and_the_history(
    editor_client, profile, name
):
    url, data, section = actions(profile)[name]
    response = editor_client.post(url, data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200, html
    assert "HX-Trigger" not in response and "personChanged" not in html
    assert section in html
    (header,) = re.findall(r'<header id="person-header"[^>]*>', html)
    (history,) = re.findall(r'<section id="history"[^>]*>', html)
    assert 'hx-swap-oob="true"' in header and 'hx-swap-oob="true"' in history
    # The history shows the action's own event first.
    latest = Event.objects.filter(person=profile.person).order_by("-created_at", "-id").first()
    rows = re.findall(r'data-testid="history-row" data-kind="([A-Z_]+)"', html)
    assert rows[0] == latest.kind
    if name == "remote logout":
        assert re.search(r'<span id="installations-count"[^>]*hx-swap-oob="true"[^>]*>1<', html)


def test_a_refused_action_changes_nothing_else_on_the_page(editor_client, profile):
    response = editor_client.post(
        reverse("people:identity_add", args=[profile.person.pk]),
        {"kind": "phone", "value": "not a phone"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "hx-swap-oob" not in response.content.decode()
