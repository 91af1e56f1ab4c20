"""Revert from the person page's History in a browser: the confirmation says what comes back,
the tag is back in place, the revert is the history's newest row, and the result is read out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from people import services
from people.history import Actor
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import AXE, run_axe
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


def test_reverting_a_tag_removal_brings_the_tag_back_and_records_it(page, editor, ana, screenshot):
    services.person_remove_tags(person=ana.person, actor=Actor.operator(editor), names=["vip"])
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    chips = page.get_by_test_id("tag-chips")
    expect(chips).not_to_contain_text("vip")
    newest = page.locator('#history [data-testid="history-row"]').first
    expect(newest).to_contain_text("Removed tag vip")

    newest.get_by_test_id("history-revert").click()
    dialog = page.get_by_role("dialog", name="Revert this change?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("revert-restores")).to_have_text("Added tag vip")
    screenshot(dialog, "history-revert-confirmation")
    dialog.get_by_test_id("revert-confirm").click()

    expect(chips).to_contain_text("vip")
    expect(page.get_by_test_id("revert-result")).to_have_text("Reverted: Added tag vip.")
    expect(page.locator("#live-status")).to_have_text("Reverted: Added tag vip.")
    rows = page.locator('#history [data-testid="history-row"]')
    expect(rows.first).to_contain_text("Added tag vip")
    expect(rows.first).to_have_attribute("data-kind", "TAGS_CHANGED")
    expect(rows.first.get_by_test_id("history-reverts")).to_have_text("Reverts an earlier change")
    expect(rows.nth(1)).to_contain_text("Removed tag vip")
    # The revert's own row can be reverted in turn.
    expect(rows.first.get_by_test_id("history-revert")).to_be_visible()
    screenshot(page.locator("#history"), "history-after-revert")

    # A second revert of the first change finds nothing left to do, and says so.
    rows.nth(1).get_by_test_id("history-revert").click()
    page.get_by_role("dialog", name="Revert this change?").get_by_test_id("revert-confirm").click()
    expect(page.get_by_test_id("revert-result")).to_contain_text("Nothing to revert")


def test_a_conflict_is_shown_in_place_and_the_dialog_and_table_pass_axe(
    browser, live_server, editor, ana, screenshot
):
    operator = Actor.operator(editor)
    services.person_set_fields(person=ana.person, actor=operator, fields={"city": "Split"})
    services.person_set_fields(person=ana.person, actor=operator, fields={"city": "Rijeka"})
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1440, "height": 900}, locale="en-GB"
    )
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    older = page.locator('#history [data-testid="history-row"]').nth(1)
    expect(older).to_contain_text("City: Zagreb → Split")
    older.get_by_test_id("history-revert").click()
    dialog = page.get_by_role("dialog", name="Revert this change?")
    expect(dialog.get_by_test_id("revert-restores")).to_have_text("City: Split → Zagreb")
    assert run_axe(page) == []
    dialog.get_by_test_id("revert-confirm").click()

    conflict = page.get_by_test_id("revert-conflict")
    expect(conflict).to_contain_text("changed again since")
    expect(conflict.locator("tbody tr")).to_have_text(["CityRijekaZagreb"])
    expect(conflict).to_be_focused()
    expect(page.locator("#live-status")).to_contain_text("Not reverted")
    expect(page.locator("#overview input[name=city]")).to_have_value("Rijeka")
    screenshot(page.locator("#history"), "history-revert-conflict")
    assert run_axe(page) == []
    context.close()
