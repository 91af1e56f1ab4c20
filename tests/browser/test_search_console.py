"""The search page as an operator console in a real browser: the attribute filter's inputs, the
URL after Enter, the sortable list with its count and page size, and the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from people import services
from people.history import Actor
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


@pytest.fixture
def horvats(ana):
    """Ana Horvat and four more people whose name starts with "horv"."""
    actor = Actor.system("tests")
    return [ana.person] + [
        services.person_create(actor=actor, fields={"firstName": first, "lastName": "Horvat"})
        for first in ("Ivo", "Lea", "Mia", "Zoran")
    ]


def search_box(page):
    return page.get_by_role("searchbox", name="Search")


def results(page):
    return page.locator("#results")


def test_choosing_a_custom_attribute_enables_and_types_its_comparison_and_value(page, editor, ana):
    sign_in(page, editor.username)
    aborted: list[str] = []
    page.on("requestfailed", lambda request: aborted.append(request.url))
    comparison, value = page.get_by_label("Comparison"), page.locator("#id_value")
    expect(comparison).to_be_disabled()
    expect(value).to_be_disabled()

    page.get_by_label("Custom attribute").select_option("Visits")
    expect(comparison).to_be_enabled()
    expect(value).to_be_enabled()
    expect(page.get_by_text("Attribute value (integer)")).to_be_visible()
    assert [url for url in aborted if "value-field" in url] == []

    # The value is typed by the definition, and the results follow it in place.
    page.get_by_label("Custom attribute").select_option("Anniversary")
    expect(page.locator("#id_value")).to_have_attribute("type", "date")
    page.get_by_label("Custom attribute").select_option("Nickname")
    expect(page.get_by_text("Attribute value (string)")).to_be_visible()
    page.locator("#id_value").fill("Annie")
    expect(results(page).get_by_role("link", name="Ana Horvat")).to_be_visible()
    expect(page).to_have_url(re.compile(r"attribute=Nickname&value=Annie"))


def test_enter_on_a_list_leaves_only_the_meaningful_parameters_in_the_url(page, editor, horvats):
    sign_in(page, editor.username)
    search_box(page).fill("horv")
    expect(results(page)).to_contain_text("5 people")
    search_box(page).press("Enter")
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/\?q=horv$"))
    expect(results(page)).to_contain_text("5 people")
    expect(search_box(page)).to_have_value("horv")


def test_the_list_sorts_by_a_header_says_its_total_and_pages_by_the_size_chosen(
    page, editor, horvats, screenshot
):
    sign_in(page, editor.username)
    table = results(page).locator("table")
    total = results(page).get_by_test_id("result-total")
    expect(total).to_have_text("5 people")
    expect(page.locator("#results-status")).to_contain_text("5 people")

    name = table.get_by_role("columnheader", name=re.compile("^Name"))
    expect(name).not_to_have_attribute("aria-sort", re.compile(".*"))
    results(page).get_by_test_id("sort-name").click()
    expect(page).to_have_url(re.compile(r"/\?sort=name$"))
    expect(name).to_have_attribute("aria-sort", "ascending")
    first_cells = table.locator("tbody tr td:first-child a")
    expect(first_cells).to_have_text(
        ["Ana Horvat", "Ivo Horvat", "Lea Horvat", "Mia Horvat", "Zoran Horvat"]
    )
    results(page).get_by_test_id("sort-name").click()
    expect(name).to_have_attribute("aria-sort", "descending")
    expect(first_cells.first).to_have_text("Zoran Horvat")

    # Typing keeps the order; a smaller page says which rows it shows and pages on.
    search_box(page).fill("horvat")
    expect(page).to_have_url(re.compile(r"q=horvat&sort=-name|sort=-name&q=horvat"))
    expect(results(page).get_by_test_id("name-order")).to_be_visible()
    page.get_by_label("Rows per page").select_option("25")
    expect(results(page).get_by_test_id("result-rows")).to_have_text("· rows 1–5")
    screenshot(page, "search-console-sorted")
    # No horizontal overflow of the page: a wide table scrolls inside its own box.
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_slash_focuses_the_box_unless_typing_elsewhere_and_escape_clears_it(page, editor, ana):
    sign_in(page, editor.username)
    tags = page.get_by_label("Tags")
    tags.click()
    page.keyboard.type("a/b")
    expect(tags).to_have_value("a/b")
    expect(search_box(page)).not_to_be_focused()
    tags.fill("")

    page.locator("h1").click()
    page.keyboard.press("/")
    expect(search_box(page)).to_be_focused()
    expect(search_box(page)).to_have_value("")

    page.keyboard.type("horv")
    expect(results(page)).to_contain_text("name starting with horv")
    page.keyboard.press("Escape")
    expect(search_box(page)).to_have_value("")
    expect(results(page)).to_contain_text("newest first")


def test_arrow_keys_move_through_the_rows_and_enter_opens_one(page, editor, horvats):
    sign_in(page, editor.username)
    search_box(page).fill("horv")
    rows = results(page).locator(".row-link")
    expect(rows).to_have_count(5)
    search_box(page).press("ArrowDown")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(rows.nth(2)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(rows.nth(1)).to_be_focused()
    target = rows.nth(1).get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{target}")
    # Back on the list, up from the first row returns to the box.
    page.go_back()
    search_box(page).press("ArrowDown")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(search_box(page)).to_be_focused()


def test_question_mark_shows_the_shortcuts_in_a_dialog(page, editor, ana, screenshot):
    sign_in(page, editor.username)
    search_box(page).fill("what?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()
    expect(search_box(page)).to_have_value("what?")

    page.locator("h1").click()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Go to the search box")
    screenshot(page, "search-shortcuts", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The button beside the title opens it too, and the focus comes back to it.
    opener = page.get_by_role("button", name="Keyboard shortcuts")
    opener.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(opener).to_be_focused()


def test_a_phone_or_external_id_that_finds_nobody_says_why(page, editor, ana):
    services.person_create(
        actor=Actor.system("tests"),
        fields={"firstName": "Iva", "lastName": "Kovač"},
        phones=["+385 91 449 4255"],
    )
    sign_in(page, editor.username)
    search_box(page).fill("0385-91-449-4255")
    expect(results(page).get_by_role("link", name="Iva Kovač")).to_be_visible()
    expect(results(page)).to_contain_text("matched on phone 385914494255")

    search_box(page).fill("0385-91-449")
    expect(results(page).get_by_test_id("unreadable-phone")).to_contain_text(
        "is not a phone number we can read: include the country code"
    )

    search_box(page).fill("CRM-42")
    notice = results(page).get_by_test_id("external-id-not-found")
    expect(notice).to_contain_text("externalIds are case-sensitive")
    notice.get_by_role("link", name="crm-42").click()
    expect(results(page).get_by_role("link", name="Ana Horvat")).to_be_visible()
    expect(results(page)).to_contain_text("matched on externalId crm-42")
