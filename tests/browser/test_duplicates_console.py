"""The person page's possible duplicates, in a browser: the panel loads after the page, an
Editor marks one "not a duplicate" in place, axe finds no serious violation and nothing
overflows at 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from people import services
from people.history import Actor
from people.models import NotDuplicate
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import AXE, PHONE, run_axe

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def namesakes(transactional_db):
    actor = Actor.system("tests")
    fields = {"firstName": "Ana", "lastName": "Horvat", "birthDate": "1990-05-01"}
    ana = services.person_create(actor=actor, fields=fields)
    twin = services.person_create(actor=actor, fields=fields | {"lastName": "Hórvat"})
    return ana, twin


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1440, "height": 900}])
def test_the_panel_loads_and_an_editor_marks_not_a_duplicate(
    browser, live_server, editor, namesakes, viewport
):
    ana, twin = namesakes
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="en-GB")
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, editor.username)

    page.goto(f"/person/{ana.pk}/")
    panel = page.locator("#duplicates-panel")
    candidate = panel.get_by_test_id("duplicate-candidate")
    expect(candidate).to_have_count(1)
    expect(candidate).to_contain_text("same name and birth date")
    expect(candidate.get_by_role("link", name="Ana Hórvat", exact=True)).to_have_attribute(
        "href", f"/person/{twin.pk}/"
    )

    assert run_axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    candidate.get_by_role("button", name="Not a duplicate of Ana Hórvat").click()
    expect(panel.get_by_test_id("no-duplicates")).to_have_text("No likely duplicates.")
    expect(page.locator("#live-status")).to_contain_text("as not a duplicate")
    assert NotDuplicate.objects.filter(low=ana, high=twin).exists()
    context.close()


def test_the_queue_page_is_accessible_on_a_phone(browser, live_server, viewer, namesakes):
    from django.core.management import call_command

    call_command("find_duplicates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="en-GB")
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, viewer.username)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Duplicates").click()
    expect(page.get_by_test_id("duplicate-pair")).to_have_count(1)

    assert run_axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_an_editor_works_through_the_queue(browser, live_server, editor, namesakes):
    from django.core.management import call_command

    call_command("find_duplicates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, editor.username)
    page.goto("/duplicates/")

    page.get_by_test_id("duplicate-pair").get_by_role("button", name="Not a duplicate").click()

    expect(page.get_by_test_id("duplicate-pair-marked")).to_contain_text("as not duplicates")
    expect(page.get_by_test_id("duplicate-pair")).to_have_count(0)
    assert NotDuplicate.objects.count() == 1
    context.close()
