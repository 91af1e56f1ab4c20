"""The person page's History in a browser: filtered by kind and actor in place (and in the
URL, across pages and a reload), read as a change log, its times relative in the browser's
time zone with the absolute time on hover, and the UTC text without JavaScript."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from people import services
from people.history import Actor
from people.models import Event, EventKind
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ZONE = "Europe/Zagreb"


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


def rows(page, kind: str | None = None):
    selector = '#history [data-testid="history-row"]'
    return page.locator(selector + (f'[data-kind="{kind}"]' if kind else ""))


def zoned_page(browser, live_server, *, javascript: bool = True):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id=ZONE,
        java_script_enabled=javascript,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def test_the_history_filters_in_place_and_keeps_the_filter_in_the_url(
    page, editor, ana, screenshot
):
    operator = Actor.operator(editor)
    for i in range(25):
        services.person_set_fields(
            person=ana.person, actor=Actor.system("tests"), fields={"city": f"C{i}"}
        )
        services.person_add_tags(person=ana.person, actor=operator, names=[f"t{i}"])
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    expect(rows(page)).to_have_count(20)
    expect(rows(page, "ATTRIBUTES_CHANGED")).to_have_count(10)

    page.get_by_test_id("history-kind").select_option("TAGS_CHANGED")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page, "TAGS_CHANGED")).to_have_count(20)
    expect(rows(page)).to_have_count(20)
    expect(page).to_have_url(re.compile(r"\?kind=TAGS_CHANGED$"))
    expect(page.locator("#history")).to_contain_text("Added tag t24")
    screenshot(page.locator("#history"), "history-filtered-by-kind")

    page.get_by_role("link", name="Older events").click()
    expect(rows(page)).to_have_count(5)
    expect(page).to_have_url(re.compile(r"\?kind=TAGS_CHANGED&before="))
    page.reload()
    expect(rows(page, "TAGS_CHANGED")).to_have_count(5)
    expect(page.get_by_test_id("history-kind")).to_have_value("TAGS_CHANGED")

    page.get_by_role("link", name="Show all events").click()
    expect(rows(page, "ATTRIBUTES_CHANGED")).to_have_count(10)
    page.get_by_test_id("history-actor").fill("tests")
    page.get_by_test_id("history-actor").press("Enter")
    expect(rows(page, "ATTRIBUTES_CHANGED")).to_have_count(20)
    expect(rows(page, "TAGS_CHANGED")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"\?actor=tests$"))


def test_times_read_relative_in_the_browsers_zone_with_the_absolute_time_on_hover(
    browser, live_server, editor, ana, screenshot
):
    now = timezone.now()
    event = Event.objects.get(person=ana.person)
    moments = {
        EventKind.TAGS_CHANGED: now - dt.timedelta(hours=3),
        EventKind.ATTRIBUTES_CHANGED: now - dt.timedelta(days=1),
        EventKind.PERSON_CREATED: dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC),
    }
    Event.objects.filter(pk=event.pk).update(created_at=moments[EventKind.PERSON_CREATED])
    services.person_add_tags(person=ana.person, actor=Actor.system("tests"), names=["gold"])
    services.person_set_fields(
        person=ana.person, actor=Actor.system("tests"), fields={"city": "Split"}
    )
    for kind, moment in moments.items():
        Event.objects.filter(person=ana.person, kind=kind).update(created_at=moment)
    local_now = now.astimezone(ZoneInfo(ZONE))
    three_hours_ago = moments[EventKind.TAGS_CHANGED].astimezone(ZoneInfo(ZONE))
    same_day = three_hours_ago.date() == local_now.date()

    page = zoned_page(browser, live_server)
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    created = rows(page, "PERSON_CREATED").locator("time")
    expect(created).to_have_text("2 Dec 2026")
    expect(created).to_have_attribute(
        "title", re.compile(r"2 Dec 2026, 11:00:00 .*\(Europe/Zagreb\)")
    )
    expect(rows(page, "ATTRIBUTES_CHANGED").locator("time")).to_have_text("yesterday")
    expect(rows(page, "TAGS_CHANGED").locator("time")).to_have_text(
        "3 hours ago" if same_day else "yesterday"
    )
    expect(page.get_by_test_id("person-modified")).to_have_text(
        re.compile(r"^(just now|\d+ minutes? ago)$")
    )
    created.focus()
    expect(created).to_be_focused()
    screenshot(page.locator("#history"), "history-relative-times")

    # An in-place change swaps the history in: its times are rewritten too.
    page.get_by_test_id("history-kind").select_option("PERSON_CREATED")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page, "PERSON_CREATED").locator("time")).to_have_text("2 Dec 2026")

    # An in-place change answers with the history out of band (with the page's filter, so
    # back to all events first): its new time reads relative.
    page.get_by_role("link", name="Show all events").click()
    expect(rows(page, "ATTRIBUTES_CHANGED")).to_have_count(1)
    page.get_by_label("Add tags").fill("platinum")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text("platinum")
    expect(rows(page).first.locator("time")).to_have_text("just now")
    expect(page.get_by_test_id("person-modified")).to_have_text("just now")
    page.context.close()


def test_an_in_place_change_keeps_the_history_filter_and_its_list(page, editor, ana, screenshot):
    operator = Actor.operator(editor)
    for i in range(3):
        services.person_set_fields(
            person=ana.person, actor=Actor.system("tests"), fields={"city": f"C{i}"}
        )
        services.person_add_tags(person=ana.person, actor=operator, names=[f"t{i}"])
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    page.get_by_test_id("history-kind").select_option("TAGS_CHANGED")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"\?kind=TAGS_CHANGED$"))
    expect(rows(page)).to_have_count(3)

    # A new event the filter keeps: it tops the filtered list.
    page.get_by_label("Add tags").fill("platinum")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text("platinum")
    expect(rows(page)).to_have_count(4)
    expect(rows(page, "TAGS_CHANGED")).to_have_count(4)
    expect(rows(page).first).to_contain_text("Added tag platinum")
    expect(page.get_by_test_id("history-kind")).to_have_value("TAGS_CHANGED")
    expect(page.get_by_role("link", name="Show all events")).to_be_visible()
    screenshot(page.locator("#history"), "history-filter-kept-after-a-change")

    # One it does not keep: the filtered list stays as it was.
    page.get_by_test_id("history-kind").select_option("ATTRIBUTES_CHANGED")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page, "ATTRIBUTES_CHANGED")).to_have_count(3)
    page.get_by_label("Add tags").fill("gold")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text("gold")
    expect(page.get_by_test_id("history-kind")).to_have_value("ATTRIBUTES_CHANGED")
    expect(rows(page)).to_have_count(3)
    expect(rows(page, "TAGS_CHANGED")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"\?kind=ATTRIBUTES_CHANGED$"))


def test_without_javascript_the_times_are_utc_and_the_filter_loads_the_page(
    browser, live_server, editor, ana
):
    Event.objects.filter(person=ana.person).update(
        created_at=dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    )
    services.person_add_tags(person=ana.person, actor=Actor.system("tests"), names=["gold"])
    page = zoned_page(browser, live_server, javascript=False)
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    expect(rows(page, "PERSON_CREATED").locator("time")).to_have_text("2026-12-02 10:00:00 UTC")
    page.get_by_test_id("history-kind").select_option("PERSON_CREATED")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"\?kind=PERSON_CREATED(&actor=)?#history$"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page, "PERSON_CREATED")).to_have_count(1)
    page.context.close()


def test_search_rows_read_their_times_relative_after_a_search_as_you_type(
    browser, live_server, editor, ana
):
    page = zoned_page(browser, live_server)
    sign_in(page, editor.username)
    page.locator("#id_q").fill("Horvat")
    times = page.locator("#results time[data-relative]")
    expect(times).to_have_count(1)
    expect(times).to_have_text(re.compile(r"^(just now|\d+ minutes? ago)$"))
    expect(times).to_have_attribute("title", re.compile(r"\(Europe/Zagreb\)$"))
    page.context.close()
