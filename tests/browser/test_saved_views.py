"""Saved views in a real browser: one operator saves the search shown and shares it with the
Editor role; another editor opens it from the Views menu and sees the same people. A viewer
opens a built-in device hygiene view from the same menu."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core import roles
from installations.models import Installation, Platform
from populations.models import SavedView
from tests.browser.conftest import sign_in
from tests.conftest import make_operator
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def devices(transactional_db):
    """Three people with an Android device and two with an iPhone."""
    shop = ApplicationFactory(name="Shop", code="shop")
    android = [PersonFactory(first_name=f"Droid{n}", last_name="Tester") for n in range(3)]
    for person in android:
        InstallationFactory(person=person, application=shop, os=Platform.ANDROID)
    for n in range(2):
        person = PersonFactory(first_name=f"Apple{n}", last_name="Tester")
        InstallationFactory(person=person, application=shop, os=Platform.IOS)
    return android


def people_shown(page) -> list[str]:
    links = page.locator('#results tbody a[href^="/person/"]')
    expect(links.first).to_be_visible()
    return sorted(set(links.evaluate_all("links => links.map(a => a.getAttribute('href'))")))


def test_a_view_saved_and_shared_with_editors_opens_for_another_editor(
    page, browser, live_server, editor, devices, screenshot
):
    other = make_operator("erin.editor", roles.EDITOR)
    sign_in(page, editor.username)
    page.get_by_label("Platform").select_option("Android")
    expect(page).to_have_url(re.compile(r"platform=Android"))
    expect(page.locator("#results")).not_to_contain_text("Apple0")
    shown = people_shown(page)
    assert shown == sorted(f"/person/{person.pk}/" for person in devices)

    page.locator("details.save-view > summary").click()
    page.get_by_test_id("save-view-name").fill("Android people")
    page.get_by_test_id("save-view-submit").click()
    page.wait_for_url(re.compile(r"/views/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Android people")
    view = SavedView.objects.get()
    assert view.owner == editor and view.query == {"platform": "Android"}

    page.goto("/views/")
    sharing = page.get_by_test_id(f"view-{view.pk}")
    sharing.get_by_text("Share", exact=True).click()
    sharing.get_by_label("Editor").check()
    sharing.get_by_role("button", name="Save sharing").click()
    expect(page.get_by_role("status")).to_contain_text("Sharing of “Android people” saved")
    screenshot(page, "saved-views")

    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    try:
        second = context.new_page()
        second.set_default_timeout(10_000)
        sign_in(second, other.username)
        second.locator("details.views-menu > summary").click()
        menu = second.get_by_test_id("views-menu-list")
        expect(menu).to_contain_text("Shared with me")
        menu.get_by_role("link", name="Android people").click()
        second.wait_for_url(re.compile(rf"/views/{view.pk}/$"))
        expect(second.get_by_role("heading", level=1)).to_have_text("Android people")
        expect(second).to_have_title(re.compile(r"^Android people"))
        assert people_shown(second) == shown

        # The menu marks the view open.
        second.locator("details.views-menu > summary").click()
        current = second.get_by_test_id("views-menu-list").locator("[aria-current=page]")
        expect(current).to_have_text("Android people")
        screenshot(second, "saved-view-opened")
    finally:
        context.close()


def test_a_viewer_opens_a_builtin_hygiene_view_from_the_menu(page, viewer, screenshot):
    stale, fresh = PersonFactory(first_name="Stale"), PersonFactory(first_name="Fresh")
    old = InstallationFactory(person=stale)
    InstallationFactory(person=fresh)
    Installation.objects.filter(pk=old.pk).update(
        modified_at=timezone.now() - dt.timedelta(days=200)
    )
    sign_in(page, viewer.username)

    page.locator("details.views-menu > summary").click()
    page.get_by_test_id("views-menu-list").get_by_role(
        "link", name="Devices not updated in 90 days"
    ).click()
    page.wait_for_url("**/views/hygiene/stale-devices/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Devices not updated in 90 days")
    assert people_shown(page) == [f"/person/{stale.pk}/"]
    expect(page.get_by_test_id("hygiene-filters")).to_have_attribute("open", "")
    expect(page.get_by_label("A device not updated in (days)")).to_have_value("90")
    screenshot(page, "hygiene-view")

    # Changing the number searches again in place, as any filter does.
    page.get_by_label("A device not updated in (days)").fill("300")
    expect(page).to_have_url(re.compile(r"stale_days=300"))
    expect(page.locator("#results")).to_contain_text("No people found")
