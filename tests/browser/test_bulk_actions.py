"""Bulk actions from the search page in a real browser: select the page, then everyone the
search finds, choose "Add tags", preview the count and a sample; a dry run goes to the job's
page (once the job engine is installed)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from people import services
from people.history import Actor
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import AXE, run_axe
from tests.populations.bulk_support import register_test_actions

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bulk_actions(monkeypatch):
    # The live server runs in this process: it sees the registry as the test leaves it.
    return register_test_actions(monkeypatch)


@pytest.fixture
def members(transactional_db):
    """30 people tagged vip (more than a page of 25) and one without the tag."""
    actor = Actor.system("tests")
    people = [
        services.person_create(
            actor=actor, fields={"firstName": f"Member{n:02}", "lastName": "Club"}, tags=["vip"]
        )
        for n in range(30)
    ]
    services.person_create(actor=actor, fields={"firstName": "Outsider"})
    return people


def select_everyone_and_add_tags(page, screenshot=None):
    """From the search page to the preview of "Add tags" for all 30 people tagged vip."""
    page.goto("/?tags=vip&size=25")
    results = page.locator("#results")
    expect(results.get_by_test_id("result-total")).to_contain_text("30 people")
    actions = page.get_by_test_id("bulk-actions")
    expect(actions).to_be_hidden()

    page.get_by_label("Select all on this page").check()
    rows = results.locator("input.bulk-row")
    expect(rows).to_have_count(25)
    assert page.evaluate(
        "Array.from(document.querySelectorAll('#results input.bulk-row')).every(b => b.checked)"
    )
    expect(page.get_by_test_id("bulk-status")).to_contain_text("All 25 on this page are selected.")
    select_all = page.get_by_test_id("bulk-select-all")
    expect(select_all).to_have_text("Select all 30 people matching this search")
    select_all.click()
    expect(page.get_by_test_id("bulk-status")).to_contain_text(
        "All 30 people matching this search are selected."
    )
    expect(actions).to_be_visible()
    if screenshot:
        screenshot(page, "bulk-actions-selection")
        assert run_axe(page) == []

    actions.locator("summary").click()
    page.get_by_role("button", name="Add tags…").click()
    page.wait_for_url(re.compile(r"/bulk/\?.*action=tags\.add"))
    assert "all=1" in page.url and "tags=vip" in page.url
    expect(page.get_by_test_id("bulk-population")).to_have_text("All 30 people matching: tag vip")
    page.get_by_label("Tags").fill("gold")
    page.get_by_test_id("bulk-preview-button").click()
    preview = page.get_by_test_id("bulk-preview")
    expect(preview.get_by_test_id("bulk-people")).to_have_text("30 people")
    expect(preview.get_by_test_id("bulk-sample-row")).to_have_count(10)
    expect(preview.get_by_test_id("bulk-sample-row").first).to_contain_text("Member00 Club")
    expect(preview.get_by_test_id("bulk-sample-row").first).to_contain_text("gold, vip")
    return preview


def test_select_everyone_matching_choose_add_tags_and_preview(
    page, editor, members, bulk_actions, screenshot
):
    page.context.add_init_script(path=str(AXE))
    sign_in(page, editor.username)

    select_everyone_and_add_tags(page, screenshot)

    screenshot(page, "bulk-actions-preview")
    assert run_axe(page) == []
    # A parameter the action refuses is shown at its field, in place.
    page.get_by_label("Tags").fill(" , ")
    page.get_by_test_id("bulk-preview-button").click()
    expect(page.locator("#id_tags-error")).to_have_text("Give at least one tag.")
    expect(page.get_by_test_id("bulk-preview")).to_have_count(0)
    expect(page.get_by_label("Tags")).to_have_attribute("aria-invalid", "true")


def test_an_estimate_is_counted_exactly_when_the_operator_asks(
    page, editor, members, bulk_actions, monkeypatch
):
    from directory.search import totals

    monkeypatch.setattr(totals, "EXACT_COUNT_LIMIT", 20)
    sign_in(page, editor.username)
    page.goto("/bulk/?tags=vip&all=1&action=tags.add")
    page.get_by_label("Tags").fill("gold")
    page.get_by_test_id("bulk-preview-button").click()
    preview = page.get_by_test_id("bulk-preview")
    expect(preview.get_by_test_id("bulk-preview-count")).to_have_attribute("data-exact", "estimate")

    preview.get_by_test_id("count-exactly").click()

    expect(preview.get_by_test_id("bulk-preview-count")).to_contain_text("(counted exactly)")
    expect(preview.get_by_test_id("bulk-people")).to_have_text("30 people")
    expect(preview.get_by_test_id("count-exactly")).to_have_count(0)


def test_a_viewer_has_nothing_to_select(page, viewer, members, bulk_actions):
    sign_in(page, viewer.username)
    page.goto("/?tags=vip")

    expect(page.locator("#results").get_by_test_id("result-total")).to_contain_text("30 people")
    expect(page.locator("input.bulk-row")).to_have_count(0)
    expect(page.get_by_test_id("bulk-bar")).to_have_count(0)


def test_a_dry_run_goes_to_the_jobs_page(page, editor, members, bulk_actions):
    sign_in(page, editor.username)
    preview = select_everyone_and_add_tags(page)

    preview.get_by_test_id("bulk-dry-run").click()

    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
