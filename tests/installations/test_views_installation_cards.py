"""Installation cards: primary, push, additionalData and remote logout, each in place."""

import json
import re
from html import unescape

import pytest
from django.urls import reverse

from installations import services
from installations.models import Installation
from people.history import Actor
from people.models import EventKind
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def post(client, name, installation, data=None, htmx=True):
    url = reverse(f"installations:{name}", args=[installation.pk])
    return client.post(url, data or {}, **(HTMX if htmx else {}))


def test_making_a_second_installation_primary_updates_the_first_card_out_of_band(
    editor_client, profile
):
    response = post(editor_client, "set_primary", profile.second, {"is_primary": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html, changed = html.split('<header id="person-header"')
    assert 'hx-swap-oob="true"' in changed and '<section id="history"' in changed
    assert "Primary device changed" in changed.split('<section id="history"')[1]
    new_card, old_card = html.split(f'id="installation-{profile.primary.pk}"')
    assert f'id="installation-{profile.second.pk}"' in new_card
    assert 'data-testid="primary-badge"' in new_card and "Unset primary" in new_card
    assert 'hx-swap-oob="outerHTML"' in old_card
    assert 'data-testid="primary-badge"' not in old_card and "Make primary" in old_card
    profile.primary.refresh_from_db()
    profile.second.refresh_from_db()
    assert (profile.primary.is_primary, profile.second.is_primary) == (False, True)
    event = profile.person.events.first()
    assert event.kind == EventKind.PRIMARY_CHANGED
    assert event.push_registration_id == "push-ana-tablet"


def test_unsetting_primary_leaves_no_primary_and_no_other_card(editor_client, profile):
    response = post(editor_client, "set_primary", profile.primary, {"is_primary": "false"})
    html = response.content.decode()
    # Out of band only the header and the history, no other card.
    assert html.count('data-testid="installation-card"') == 1
    assert 'hx-swap-oob="outerHTML"' not in html
    assert not Installation.objects.filter(person=profile.person, is_primary=True).exists()


def test_a_malformed_primary_flag_is_refused_in_place(editor_client, profile):
    response = post(editor_client, "set_primary", profile.second, {"is_primary": "maybe"})
    assert response.status_code == 422
    assert "is_primary must be true or false" in response.content.decode()


def test_push_is_turned_off_and_on(editor_client, profile):
    response = post(editor_client, "set_push", profile.primary, {"enabled": "false"})
    assert "Push off" in response.content.decode() and "Turn push on" in response.content.decode()
    profile.primary.refresh_from_db()
    assert profile.primary.registration_enabled is False
    post(editor_client, "set_push", profile.primary, {"enabled": "true"})
    profile.primary.refresh_from_db()
    assert profile.primary.registration_enabled is True
    kinds = list(profile.person.events.values_list("kind", flat=True)[:2])
    assert kinds == [EventKind.PUSH_CHANGED, EventKind.PUSH_CHANGED]


def test_a_malformed_push_flag_is_refused(editor_client, profile):
    response = post(editor_client, "set_push", profile.primary, {"enabled": ""})
    assert response.status_code == 422
    profile.primary.refresh_from_db()
    assert profile.primary.registration_enabled is True


def test_additional_data_is_replaced_from_json(editor_client, profile):
    response = post(
        editor_client,
        "set_additional_data",
        profile.primary,
        {"additional_data": '{"tier": "silver", "visits": 3, "beta": true}'},
    )
    assert response.status_code == 200
    profile.primary.refresh_from_db()
    assert profile.primary.additional_data == {"tier": "silver", "visits": 3, "beta": True}


def test_invalid_additional_data_is_refused_in_place(editor_client, profile):
    response = post(
        editor_client, "set_additional_data", profile.primary, {"additional_data": "{tier"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "additionalData must be a JSON object" in html
    assert "{tier" in html
    response = post(
        editor_client, "set_additional_data", profile.primary, {"additional_data": '{"x": [1]}'}
    )
    assert response.status_code == 422
    assert "x must be a string, number, boolean or date" in response.content.decode()
    profile.primary.refresh_from_db()
    assert profile.primary.additional_data == {"tier": "gold"}


def device_sets(installation, **data) -> None:
    """The device (its SDK) changes additionalData while the operator's editor is open."""
    services.installation_device_update(
        installation=installation,
        actor=Actor.system("sdk"),
        application=installation.application,
        additional_data=data,
    )


def save_editor(client, installation, typed: str, shown: str):
    """The card's additionalData editor saved: the typed text and the value it showed."""
    data = {"additional_data": typed, "additional_data_shown": shown}
    return post(client, "set_additional_data", installation, data)


def test_the_editor_sends_the_additional_data_it_shows(editor_client, profile):
    html = editor_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    shown = re.search(r'name="additional_data_shown" value="([^"]*)"', html)
    assert shown is not None
    assert json.loads(unescape(shown.group(1))) == {"tier": "gold"}


def test_a_name_the_device_set_meanwhile_is_kept_by_the_operators_save(editor_client, profile):
    """The editor showed {"tier": "gold"}; the device then set "locale"; the operator changed
    tier and added visits: all three are stored, none of the device's lost."""
    device_sets(profile.primary, locale="hr")
    response = save_editor(
        editor_client, profile.primary, '{"tier": "silver", "visits": 3}', '{"tier": "gold"}'
    )
    assert response.status_code == 200
    profile.primary.refresh_from_db()
    assert profile.primary.additional_data == {"tier": "silver", "visits": 3, "locale": "hr"}


def test_a_name_the_operator_removed_goes_and_others_stay(editor_client, profile):
    device_sets(profile.primary, locale="hr")
    response = save_editor(editor_client, profile.primary, "{}", '{"tier": "gold"}')
    assert response.status_code == 200
    profile.primary.refresh_from_db()
    assert profile.primary.additional_data == {"locale": "hr"}


@pytest.mark.parametrize(
    ("device", "typed"),
    [
        ({"tier": "platinum"}, '{"tier": "silver"}'),  # both changed it, differently
        ({"tier": None}, '{"tier": "silver"}'),  # the device removed what the operator changed
        ({"tier": "platinum"}, "{}"),  # the operator removed what the device changed
    ],
)
def test_a_name_changed_on_both_sides_is_refused_with_the_stored_values(
    editor_client, profile, device, typed
):
    device_sets(profile.primary, **device)
    stored = Installation.objects.get(pk=profile.primary.pk).additional_data
    events = profile.person.events.count()
    response = save_editor(editor_client, profile.primary, typed, '{"tier": "gold"}')
    raw = response.content.decode()
    html = unescape(raw)
    assert response.status_code == 422
    assert "additionalData 'tier' was changed since the editor showed it" in html
    assert 'name="additional_data" rows="4" class="mono" aria-invalid="true"' in raw
    assert typed in html  # what the operator typed stays in the editor
    assert Installation.objects.get(pk=profile.primary.pk).additional_data == stored
    assert profile.person.events.count() == events
    # The editor now shows the stored values: saving again writes the typed ones over them.
    shown = unescape(re.search(r'name="additional_data_shown" value="([^"]*)"', raw).group(1))
    assert json.loads(shown) == stored
    again = save_editor(editor_client, profile.primary, typed, shown)
    assert again.status_code == 200
    assert Installation.objects.get(pk=profile.primary.pk).additional_data == json.loads(typed)


def test_the_same_change_on_both_sides_is_no_conflict(editor_client, profile):
    device_sets(profile.primary, tier="silver")
    response = save_editor(editor_client, profile.primary, '{"tier": "silver"}', '{"tier": "gold"}')
    assert response.status_code == 200


def test_a_change_of_type_is_a_change(editor_client, profile):
    """true is not 1: a value typed with another JSON type is written."""
    device_sets(profile.primary, flag=1)
    response = save_editor(
        editor_client,
        profile.primary,
        '{"tier": "gold", "flag": true}',
        '{"tier": "gold", "flag": 1}',
    )
    assert response.status_code == 200
    profile.primary.refresh_from_db()
    assert profile.primary.additional_data["flag"] is True


def test_without_what_the_editor_showed_the_typed_object_replaces_all(editor_client, profile):
    """A plain client that sends no shown value (or a malformed one) replaces, as before."""
    device_sets(profile.primary, locale="hr")
    for shown in (None, "not json", "[1]"):
        data = {"additional_data": '{"tier": "bronze"}'}
        if shown is not None:
            data["additional_data_shown"] = shown
        assert post(editor_client, "set_additional_data", profile.primary, data).status_code == 200
        profile.primary.refresh_from_db()
        assert profile.primary.additional_data == {"tier": "bronze"}
        device_sets(profile.primary, locale="hr")


def test_remote_logout_removes_the_card_and_names_the_new_anonymous_profile(editor_client, profile):
    response = post(editor_client, "depersonalize", profile.second)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="installation-' not in html
    assert 'id="installations-status" class="status-line" hx-swap-oob="true"' in html
    # The message is read out by the page's live region and takes the focus (data-announce).
    assert 'tabindex="-1" data-announce>Logged out push-ana-tablet' in html
    profile.second.refresh_from_db()
    assert profile.second.person_id != profile.person.pk
    assert f"person {profile.second.person_id}" in html
    assert profile.person.events.first().kind == EventKind.DEPERSONALIZE
    page = editor_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    assert "push-ana-tablet" not in page.split('id="history"')[0]


def test_plain_posts_redirect_back_to_the_card(editor_client, profile):
    response = post(editor_client, "set_push", profile.primary, {"enabled": "false"}, htmx=False)
    assert response.status_code == 302
    assert response.url.endswith(f"#installation-{profile.primary.pk}")
    response = post(editor_client, "depersonalize", profile.second, htmx=False)
    assert response.url.endswith("#contacts")


def test_a_card_renders_alone_for_htmx(editor_client, profile):
    response = editor_client.get(reverse("installations:card", args=[profile.primary.pk]), **HTMX)
    assert 'data-testid="primary-badge"' in response.content.decode()
    assert (
        editor_client.get(reverse("installations:card", args=[999999]), **HTMX).status_code == 404
    )


def test_making_a_card_primary_takes_the_same_queries_however_many_cards_the_person_has(
    editor_client, profile, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import InstallationFactory

    def make_primary(installation):
        url = reverse("installations:set_primary", args=[installation.pk])
        return editor_client.post(url, {"is_primary": "true"}, **HTMX)

    editor_client.get(reverse("people:detail", args=[profile.person.pk]))
    with CaptureQueriesContext(connection) as few:
        assert make_primary(profile.second).status_code == 200
    for _ in range(10):
        InstallationFactory(person=profile.person, application=profile.app)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = make_primary(profile.primary)
    html = response.content.decode()
    # This card, and out of band only the card that lost the flag.
    assert html.count('data-testid="installation-card"') == 2
    assert f'id="installation-{profile.second.pk}"' in html
    # Only this card has the badge now: the other one's card lost it.
    assert html.count('data-testid="primary-badge"') == 1
    assert html.index('data-testid="primary-badge"') < html.index(
        f'id="installation-{profile.second.pk}"'
    )
    # Session, user, permissions (two); the service: savepoint, the person locked through the
    # installation's id, this card and the current primary locked (one statement), unset,
    # set, event, release; the cards and the header are rendered from what the service locked
    # and stored, nothing read before or back; then the first page of history. The click is
    # this one request: before the answer carried the header and the history, the page
    # fetched them with two more requests (five and six queries).
    assert len(few.captured_queries) == 12


def test_making_primary_with_no_other_primary_unsets_nothing(editor_client, profile):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("installations:set_primary", args=[profile.primary.pk])
    assert editor_client.post(url, {"is_primary": "false"}, **HTMX).status_code == 200
    with CaptureQueriesContext(connection) as click:
        response = editor_client.post(url, {"is_primary": "true"}, **HTMX)
    assert response.status_code == 200
    updates = [q["sql"] for q in click.captured_queries if q["sql"].startswith("UPDATE")]
    # Only this card's flag: no statement unsets a primary that the locked read found absent.
    assert len(updates) == 1 and f'"id" = {profile.primary.pk}' in updates[0]
    assert response.content.decode().count('data-testid="installation-card"') == 1
    profile.primary.refresh_from_db()
    assert profile.primary.is_primary


def test_making_a_missing_installation_primary_is_not_found(editor_client, profile):
    url = reverse("installations:set_primary", args=[987654])
    assert editor_client.post(url, {"is_primary": "true"}, **HTMX).status_code == 404
    assert editor_client.post(url, {"is_primary": "maybe"}, **HTMX).status_code == 404


OLD_FACTS_TEMPLATE = """<dl class="device-facts">
    <div class="wide"><dt>Push registration id</dt><dd class="mono">{{ installation.push_registration_id }}</dd></div>
    <div><dt>OS version</dt><dd>{{ installation.os_version|default:"—" }}</dd></div>
    <div><dt>SDK version</dt><dd>{{ installation.sdk_version|default:"—" }}</dd></div>
    <div><dt>App version</dt><dd>{{ installation.app_version|default:"—" }}</dd></div>
    <div><dt>Language</dt><dd>{{ installation.os_language|default:"—" }}</dd></div>
    <div><dt>Time zone</dt><dd>{{ installation.device_timezone_offset|default:"—" }}</dd></div>
    <div><dt>Push token</dt><dd>{{ installation.push_service_token_masked|default:"—" }}</dd></div>
    <div><dt>Notifications</dt><dd>{{ installation.notifications_enabled|yesno:"enabled,disabled" }}</dd></div>
    <div><dt>Push</dt><dd>{{ installation.registration_enabled|yesno:"enabled,disabled" }}</dd></div>
    <div><dt>Primary</dt><dd>{{ installation.is_primary|yesno:"yes,no" }}</dd></div>
    <div><dt>Created</dt><dd><time datetime="{{ installation.created_at|date:'c' }}">{{ installation.created_at|date:"Y-m-d H:i" }}</time></dd></div>
    <div><dt>Last updated</dt><dd><time datetime="{{ installation.modified_at|date:'c' }}">{{ installation.modified_at|date:"Y-m-d H:i:s" }}</time></dd></div>
  </dl>"""  # noqa: E501 - the card's facts as a template wrote them


@pytest.mark.parametrize("filled", [True, False], ids=["every fact", "empty facts"])
def test_the_device_facts_template_shows_every_fact_escaped(profile, filled):
    import re

    from django.template import Context, Template
    from django.template.loader import render_to_string

    installation = profile.primary
    if filled:
        installation.os_version, installation.app_version = "14", '1.2 <&> "beta"'
        installation.os_language, installation.device_timezone_offset = "hr", "+01:00"
        installation.push_service_token = "fcm:" + "<&>" * 40
    else:
        installation.os_version = installation.sdk_version = installation.app_version = ""
        installation.os_language = installation.device_timezone_offset = ""
        installation.notifications_enabled = installation.is_primary = False

    def markup(html):
        return re.sub(r">\s+<", "><", str(html)).strip()

    expected = Template(OLD_FACTS_TEMPLATE).render(Context({"installation": installation}))
    shown = render_to_string(
        "installations/device_facts.html", {"installation": installation}, using="jinja2"
    )
    assert markup(shown) == markup(expected)
    if filled:
        assert "&lt;&amp;&gt;" in shown and "<&>" not in shown


@pytest.mark.parametrize(
    "data",
    [
        {"tier": "gold", "visits": 12, "ratio": 0.5, "vip": True, "note": 'a "quoted" ü'},
        {"nested": {"b": 1, "a": [1, 2]}, "z": None},
        {},
    ],
    ids=["flat", "nested", "empty"],
)
def test_additional_data_is_shown_as_indented_json_with_sorted_keys(data):
    import json

    from people.templatetags.people_ui import to_json

    expected = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) if data else "{}"
    assert to_json(data) == expected
