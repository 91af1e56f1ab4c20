"""The operator's time zone in a browser: the Preferences page (from the user menu) offers the
browser's zone by name, a chosen zone is saved with a message, and then the times' hover text
and the server's own text read in it, whatever zone the browser is in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from people.history import Actor
from people.models import Event
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_chosen_zone_is_the_one_times_read_in(browser, live_server, editor, screenshot):
    ana = make_profile(Actor.system("tests"))
    Event.objects.filter(person=ana.person).update(
        created_at=dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    )
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/Zagreb",
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, editor.username)
    created = page.locator('#history [data-testid="history-row"][data-kind="PERSON_CREATED"] time')

    # The browser's zone, until the operator chooses one.
    page.goto(f"/person/{ana.person.pk}/")
    expect(created).to_have_attribute("title", re.compile(r"11:00:00 .*\(Europe/Zagreb\)$"))

    page.get_by_role("link", name="Preferences").click()
    expect(page).to_have_url(re.compile(r"/preferences/$"))
    zone = page.get_by_label("Time zone")
    expect(zone.locator("option").first).to_have_text(
        "Use my browser’s time zone (currently Europe/Zagreb)"
    )
    zone.select_option("America/New_York")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved: times are shown in America/New_York.")
    expect(zone).to_have_value("America/New_York")
    screenshot(page, "preferences-time-zone")

    page.goto(f"/person/{ana.person.pk}/")
    expect(created).to_have_text("2 Dec 2026")
    expect(created).to_have_attribute(
        "title", re.compile(r"^2 Dec 2026, 05:00:00 .*\(America/New_York\)$")
    )
    # Without JavaScript's rewrite the server's text is in the chosen zone as well.
    html = page.request.get(f"/person/{ana.person.pk}/history").text()
    assert "2026-12-02 05:00:00 America/New_York" in html

    # Back to the browser's zone.
    page.get_by_role("link", name="Preferences").click()
    page.get_by_label("Time zone").select_option("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(
        "Saved: times are shown in your browser’s time zone."
    )
    page.goto(f"/person/{ana.person.pk}/")
    expect(created).to_have_attribute("title", re.compile(r"11:00:00 .*\(Europe/Zagreb\)$"))
    context.close()
