"""The operator's time zone: chosen on the Preferences page (an IANA name, checked against
zoneinfo), kept in the session from sign-in on, activated for each request, so that the times
the server renders read in it; without a choice, the zone the browser reported (a cookie,
checked the same way), else UTC. A page pays no statement for it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people.models import Event, Person
from portal.models import OperatorPreference
from portal.time_zones import BROWSER_COOKIE, SESSION_TIME_ZONE, time_zone_names
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ZAGREB = "Europe/Zagreb"


def choose(client, zone: str):
    return client.post(reverse("preferences"), {"time_zone": zone})


def history_text(client, person: Person) -> str:
    return client.get(reverse("people:history", args=[person.pk]), **HTMX).text


# ---------------------------------------------------------------------------------------------
# The model and its rule


def test_a_preference_takes_an_iana_time_zone_or_none(editor):
    OperatorPreference(user=editor, time_zone=ZAGREB).full_clean()
    OperatorPreference(user=editor, time_zone="").full_clean()
    for wrong in ("Mars/Olympus", "europe/zagreb", "../../etc/passwd", "CET "):
        with pytest.raises(ValidationError) as refused:
            OperatorPreference(user=editor, time_zone=wrong).full_clean()
        assert "time_zone" in refused.value.message_dict
        assert "is not a time zone" in refused.value.message_dict["time_zone"][0]


def test_the_zones_offered_are_zoneinfos_sorted():
    names = time_zone_names()
    assert list(names) == sorted(names)
    assert {ZAGREB, "UTC", "America/New_York"} <= set(names)


# ---------------------------------------------------------------------------------------------
# The page


def test_the_preferences_page_is_in_the_user_menu_and_offers_the_browsers_zone_first(
    editor_client,
):
    home = editor_client.get(reverse("dashboard")).text
    assert re.search(r'<div class="user">.*href="/preferences/"', home, re.S)
    html = editor_client.get(reverse("preferences")).text
    options = re.findall(r'<option value="([^"]*)"', html)
    assert options[0] == ""
    assert options[1:] == list(time_zone_names())
    assert "Use my browser’s time zone (currently not known yet)" in html
    assert 'aria-current="page">Preferences' in html


def test_the_browsers_reported_zone_is_named_in_the_default_option(editor_client):
    editor_client.cookies[BROWSER_COOKIE] = "America/New_York"
    html = editor_client.get(reverse("preferences")).text
    assert "Use my browser’s time zone (currently America/New_York)" in html


def test_a_chosen_zone_is_saved_with_a_message_and_shown_as_chosen(editor_client, editor):
    response = choose(editor_client, ZAGREB)
    assert response.status_code == 302
    assert response["Location"] == reverse("preferences")
    assert OperatorPreference.objects.get(user=editor).time_zone == ZAGREB
    assert editor_client.session[SESSION_TIME_ZONE] == ZAGREB
    html = editor_client.get(reverse("preferences")).text
    assert "Saved: times are shown in Europe/Zagreb." in html
    assert f'<option value="{ZAGREB}" selected>' in html
    assert f'<html lang="en" data-time-zone="{ZAGREB}">' in html

    choose(editor_client, "")
    assert OperatorPreference.objects.get(user=editor).time_zone == ""
    html = editor_client.get(reverse("preferences")).text
    assert "Saved: times are shown in your browser’s time zone." in html
    assert "data-time-zone" not in html


def test_an_unknown_zone_is_refused_at_the_field_and_nothing_is_saved(editor_client, editor):
    response = choose(editor_client, "Mars/Olympus")
    assert response.status_code == 422
    html = response.text
    assert "Time zone: “Mars/Olympus” is not a time zone" in html
    assert re.search(r'<select name="time_zone"[^>]*aria-invalid="true"', html)
    assert not OperatorPreference.objects.filter(user=editor).exists()
    assert SESSION_TIME_ZONE not in editor_client.session or not editor_client.session.get(
        SESSION_TIME_ZONE
    )


def test_a_viewer_sets_their_own_zone_too(viewer_client, viewer):
    assert choose(viewer_client, ZAGREB).status_code == 302
    assert OperatorPreference.objects.get(user=viewer).time_zone == ZAGREB


def test_the_page_needs_a_signed_in_operator(client):
    response = client.get(reverse("preferences"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------------------------------------
# The zone of a request


def test_the_history_reads_in_the_chosen_zone(editor_client, profile):
    Event.objects.filter(person=profile.person).update(
        created_at=dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    )
    assert "2026-12-02 10:00:00 UTC" in history_text(editor_client, profile.person)
    choose(editor_client, ZAGREB)
    html = history_text(editor_client, profile.person)
    assert "2026-12-02 11:00:00 Europe/Zagreb" in html
    # The machine-readable moment stays UTC.
    assert 'datetime="2026-12-02T10:00:00+00:00"' in html
    # Nothing of the request's zone stays behind on the thread.
    assert timezone.get_current_timezone_name() == "UTC"


def test_search_results_and_the_dashboard_read_in_the_chosen_zone(editor_client, profile):
    Person.objects.filter(pk=profile.person.pk).update(
        created_at=dt.datetime(2026, 12, 2, 23, 30, tzinfo=dt.UTC)
    )
    html = editor_client.get(reverse("home"), {"q": "Horvat"}, **HTMX).text
    assert ">2026-12-02</time>" in html
    assert "Days are in UTC." in editor_client.get(reverse("dashboard")).text
    choose(editor_client, ZAGREB)
    html = editor_client.get(reverse("home"), {"q": "Horvat"}, **HTMX).text
    assert ">2026-12-03</time>" in html
    assert "Days are in Europe/Zagreb." in editor_client.get(reverse("dashboard")).text


def test_without_a_choice_the_browsers_zone_is_used_if_it_is_a_zone(editor_client, profile):
    Event.objects.filter(person=profile.person).update(
        created_at=dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    )
    editor_client.cookies[BROWSER_COOKIE] = "America/New_York"
    assert "2026-12-02 05:00:00 America/New_York" in history_text(editor_client, profile.person)
    html = editor_client.get(reverse("dashboard")).text
    assert "Days are in America/New_York." in html
    # The browser's zone is not a choice: times.js keeps reading the browser's own.
    assert "data-time-zone" not in html
    for wrong in ("../../etc/passwd", "Mars/Olympus", "<script>", ""):
        editor_client.cookies[BROWSER_COOKIE] = wrong
        assert "2026-12-02 10:00:00 UTC" in history_text(editor_client, profile.person)
    # A choice wins over the browser's zone.
    editor_client.cookies[BROWSER_COOKIE] = "America/New_York"
    choose(editor_client, ZAGREB)
    assert "2026-12-02 11:00:00 Europe/Zagreb" in history_text(editor_client, profile.person)


def test_the_preference_is_read_into_the_session_at_sign_in(client, editor):
    OperatorPreference.objects.create(user=editor, time_zone=ZAGREB)
    assert client.login(username=editor.username, password=PASSWORD)
    assert client.session[SESSION_TIME_ZONE] == ZAGREB
    assert f'data-time-zone="{ZAGREB}"' in client.get(reverse("dashboard")).text


# ---------------------------------------------------------------------------------------------
# What it costs


@pytest.mark.parametrize("zone", ["", ZAGREB])
def test_a_page_pays_no_statement_for_the_zone(
    client, editor, profile, django_assert_num_queries, zone
):
    """Read at sign-in, the preference is in the session: the dashboard takes its ten
    statements (tests/portal/test_dashboard.py) and the history page its six (four, and the
    operator's permissions for the Revert buttons: tests/people/test_history_log.py) with a
    zone chosen or not."""
    if zone:
        OperatorPreference.objects.create(user=editor, time_zone=zone)
    with CaptureQueriesContext(connection) as signing_in:
        client.force_login(editor)
    # The preference is read once per sign-in.
    read = [q for q in signing_in.captured_queries if "portal_operatorpreference" in q["sql"]]
    assert len(read) == 1
    client.cookies[BROWSER_COOKIE] = "America/New_York"
    # As tests/portal/test_dashboard.py pins it: the first request of the session.
    with django_assert_num_queries(10):
        html = client.get(reverse("dashboard")).text
    assert f"Days are in {zone or 'America/New_York'}." in html
    with django_assert_num_queries(6):
        history_text(client, profile.person)


def test_the_preferences_page_takes_four_statements_and_a_save_eleven(
    editor_client, django_assert_num_queries
):
    editor_client.get(reverse("preferences"))  # a first request of the session writes more
    # The session, the operator, their permissions (two, for the navigation): nothing of
    # the preference, which the session holds.
    with django_assert_num_queries(4):
        editor_client.get(reverse("preferences"))
    # The session, the operator; the preference's update_or_create (a savepoint, the row
    # locked, an insert in a savepoint of its own, released: six); the session saved with
    # the zone (an update in a savepoint: three).
    with django_assert_num_queries(11):
        choose(editor_client, ZAGREB)
