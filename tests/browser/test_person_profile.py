"""The person page reads as a profile: a summary panel with copy buttons, basic information
and custom attributes as values until their Edit opens the editors, a section nav that stays
in view, and far fewer stops for the keyboard than the always-open forms had."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from people.history import Actor
from people.models import Person
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# The elements the Tab key stops at (visible, not disabled, not taken out of the order).
TAB_STOPS = """() => Array.from(document.querySelectorAll(
  'a[href], button, input, select, textarea, summary, [tabindex]'))
  .filter(e => !e.disabled && e.tabIndex >= 0 && e.type !== 'hidden'
          && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
  .length"""
# Measured on the page with its basic-information form and attribute editors always open.
TAB_STOPS_WITH_OPEN_FORMS = 70


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


def scroll_down(page) -> None:
    """Scroll past the first screens. Polled with evaluate: wait_for_function compiles its
    text in the page, which the Content-Security-Policy refuses (no 'unsafe-eval')."""
    page.mouse.wheel(0, 2500)
    for _ in range(50):
        if page.evaluate("window.scrollY") > 1000:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page did not scroll")


def open_person(page, user, person, query: str = "") -> None:
    sign_in(page, user.username)
    page.goto(f"/person/{person.pk}/{query}")


def test_the_summary_panel_shows_who_identifiers_devices_and_tags(page, editor, ana):
    open_person(page, editor, ana.person)
    summary = page.get_by_test_id("person-summary")
    expect(page.get_by_test_id("person-type")).to_have_text("Customer")
    expect(summary.get_by_test_id("summary-external-id")).to_have_text("crm-42")
    expect(summary.get_by_test_id("summary-phone")).to_have_text("+385 1 6419 710")
    expect(summary.get_by_test_id("summary-email")).to_have_text("ana.horvat@example.com")
    devices = summary.get_by_test_id("summary-devices")
    expect(devices).to_contain_text("2")
    expect(devices).to_contain_text("Shop Android · Android Primary Push on")
    expect(devices).to_contain_text("Shop Android · iOS Push on")
    expect(summary.get_by_test_id("summary-tags")).to_contain_text("newsletter")
    expect(summary.get_by_test_id("summary-tags")).to_contain_text("vip")

    # An in-place change updates the panel too (out of band, with the header).
    page.get_by_label("Add tags").fill("gold")
    page.get_by_role("button", name="Add tag").click()
    expect(summary.get_by_test_id("summary-tags")).to_contain_text("gold")
    page.get_by_test_id("installation-card").filter(has_text="push-ana-tablet").get_by_role(
        "button", name="Turn push off"
    ).click()
    expect(summary.get_by_test_id("summary-devices")).to_contain_text("iOS Push off")


def test_a_copy_button_copies_the_value_and_says_so(page, editor, ana):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_person(page, editor, ana.person)
    button = page.get_by_role("button", name="Copy phone +385 1 6419 710")
    button.click()
    expect(button).to_have_text("Copied")
    expect(page.locator("#live-status")).to_have_text("Copied +385 1 6419 710.")
    assert page.evaluate("navigator.clipboard.readText()") == "+385 1 6419 710"
    page.get_by_role("button", name="Copy external ID crm-42").click()
    assert page.evaluate("navigator.clipboard.readText()") == "crm-42"
    expect(button).to_have_text("Copy", timeout=5000)


def test_without_javascript_the_values_are_text_and_edit_is_a_link(
    browser, live_server, editor, ana
):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, locale="en-GB"
    )
    page = context.new_page()
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    # No copy button that would do nothing; the value is there to select.
    expect(page.get_by_role("button", name=re.compile("^Copy"))).to_have_count(0)
    expect(page.get_by_test_id("summary-external-id")).to_have_text("crm-42")
    expect(page.get_by_label("City")).to_be_hidden()
    page.get_by_test_id("edit-overview").click()
    page.wait_for_url(re.compile(r"\?edit=overview"))
    page.get_by_label("City").fill("Split")
    page.get_by_role("button", name="Save basic information").click()
    page.wait_for_url(re.compile(rf"/person/{ana.person.pk}/(#overview)?$"))
    expect(page.get_by_test_id("overview-read")).to_contain_text("Split")
    expect(page.get_by_label("City")).to_be_hidden()
    context.close()


def test_basic_information_reads_as_values_until_edit_and_cancel_keeps_the_place(page, editor, ana):
    open_person(page, editor, ana.person)
    overview = page.locator("#overview")
    read = overview.get_by_test_id("overview-read")
    edit = page.get_by_test_id("edit-overview")
    expect(read).to_contain_text("Zagreb")
    expect(page.get_by_label("City")).to_be_hidden()
    expect(edit).to_have_accessible_name("Edit basic information")
    expect(edit).to_have_attribute("aria-expanded", "false")
    expect(edit).to_have_attribute("aria-controls", "overview-form")

    edit.click()
    expect(page.get_by_label("City")).to_be_visible()
    expect(page.locator("#id_externalId")).to_be_focused()
    expect(read).to_be_hidden()
    page.get_by_label("City").fill("Osijek")
    cancel = overview.get_by_role("button", name="Cancel")
    expect(cancel).to_have_attribute("aria-expanded", "true")
    cancel.click()
    expect(page.get_by_label("City")).to_be_hidden()
    expect(edit).to_be_focused()
    expect(read).to_contain_text("Zagreb")
    assert Person.objects.get(pk=ana.person.pk).city == "Zagreb"
    # The form opens again as the values are, without what was cancelled.
    page.keyboard.press("Enter")
    expect(page.get_by_label("City")).to_have_value("Zagreb")
    # Save: back to the read view with the new value, the focus on Edit, read out.
    page.get_by_label("City").fill("Split")
    overview.get_by_role("button", name="Save basic information").click()
    expect(read).to_contain_text("Split")
    expect(page.get_by_label("City")).to_be_hidden()
    expect(edit).to_be_focused()
    expect(page.locator("#live-status")).to_have_text("Saved.")
    assert Person.objects.get(pk=ana.person.pk).city == "Split"


def test_custom_attributes_read_as_values_until_edit(page, editor, ana):
    open_person(page, editor, ana.person)
    nickname = page.locator('[data-attribute="Nickname"]')
    expect(nickname).to_contain_text("Annie")
    expect(nickname.get_by_role("textbox")).to_have_count(0)
    page.get_by_test_id("edit-attributes").click()
    # The focus goes into the first editor (Anniversary: the rows are in name order).
    expect(page.locator('[data-attribute="Anniversary"] input[name="value"]')).to_be_focused()
    nickname.get_by_role("textbox").fill("Anka")
    nickname.get_by_role("button", name="Save Nickname").click()
    expect(nickname.get_by_test_id("section-result")).to_have_text("Nickname saved.")
    done = page.get_by_role("button", name="Done editing custom attributes")
    done.click()
    expect(nickname.get_by_role("textbox")).to_have_count(0)
    expect(nickname).to_contain_text("Anka")
    expect(page.get_by_test_id("edit-attributes")).to_be_focused()


def test_the_read_view_has_far_fewer_tab_stops_than_the_open_forms(page, editor, ana):
    open_person(page, editor, ana.person)
    # The duplicates panel loads after the page; until then its fallback link is a stop.
    expect(page.get_by_test_id("no-duplicates")).to_be_visible()
    read_view = page.evaluate(TAB_STOPS)
    # 50 when measured: the 13 fields of basic information and the 7 attribute editors with
    # their buttons are behind two Edit buttons; the three copy buttons, the Privacy link of
    # the section nav, its export button, a history row's Revert button and the navigation's
    # Duplicates, Jobs and Import links are new stops.
    assert read_view <= TAB_STOPS_WITH_OPEN_FORMS - 20, read_view
    page.goto(f"/person/{ana.person.pk}/?edit=overview&edit=attributes")
    assert page.evaluate(TAB_STOPS) > read_view + 20


def test_a_viewer_reads_the_profile_with_no_edit_button(page, viewer, ana):
    open_person(page, viewer, ana.person, "?edit=overview&edit=attributes")
    expect(page.get_by_test_id("edit-overview")).to_have_count(0)
    expect(page.get_by_test_id("edit-attributes")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Edit"))).to_have_count(0)
    expect(page.locator("#overview")).to_contain_text("Zagreb")
    expect(page.locator('[data-attribute="Nickname"]')).to_contain_text("Annie")
    expect(page.locator("#overview input:not([type=hidden])")).to_have_count(0)


def test_the_section_nav_stays_in_view_on_a_wide_screen(page, editor, ana):
    page.set_viewport_size({"width": 1440, "height": 900})
    open_person(page, editor, ana.person)
    nav = page.get_by_role("navigation", name="Sections of this profile")
    scroll_down(page)
    expect(nav).to_be_in_viewport()
    assert nav.bounding_box()["y"] <= 1
    # A section jumped to starts below the nav, not under it.
    nav.get_by_role("link", name="History").click()
    heading = page.locator("#history h2")
    nav_bottom = nav.bounding_box()["y"] + nav.bounding_box()["height"]
    page.wait_for_timeout(300)
    assert heading.bounding_box()["y"] >= nav_bottom


def test_on_a_phone_the_nav_covers_nothing_and_nothing_overflows(browser, live_server, editor, ana):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="en-GB")
    page = context.new_page()
    for query in ("", "?edit=overview&edit=attributes"):
        if not query:
            sign_in(page, editor.username)
        page.goto(f"/person/{ana.person.pk}/{query}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        nav = page.get_by_role("navigation", name="Sections of this profile")
        scroll_down(page)
        # It scrolls away with the page: nothing below it is hidden under it.
        expect(nav).not_to_be_in_viewport()
    context.close()


def test_closing_an_editor_opened_by_its_address_forgets_it(page, editor, ana):
    open_person(page, editor, ana.person, "?edit=overview&edit=attributes")
    expect(page.get_by_label("City")).to_be_visible()
    page.locator("#overview").get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("edit-overview")).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/person/{ana.person.pk}/\?edit=attributes$"))
    page.reload()
    expect(page.get_by_label("City")).to_be_hidden()
    expect(page.locator('[data-attribute="Nickname"]').get_by_role("textbox")).to_be_visible()


def test_a_save_of_an_editor_opened_by_its_address_forgets_it(page, editor, ana):
    open_person(page, editor, ana.person, "?edit=overview")
    page.get_by_label("City").fill("Rijeka")
    page.get_by_role("button", name="Save basic information").click()
    expect(page.get_by_test_id("edit-overview")).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/person/{ana.person.pk}/(#overview)?$"))
    page.reload()
    expect(page.get_by_label("City")).to_be_hidden()
    expect(page.get_by_test_id("overview-read")).to_contain_text("Rijeka")
