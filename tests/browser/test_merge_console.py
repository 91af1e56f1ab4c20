"""Merge in a browser: from the person page's possible duplicates to the side-by-side screen
with a choice made, the merged profile with the message's Undo, and both people back after
the undo."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from people import services
from people.history import Actor
from people.models import Person
from tests.browser.conftest import sign_in
from tests.factories import ApplicationFactory, InstallationFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_merge_with_choices_then_undo(page, editor, screenshot):
    actor = Actor.system("tests")
    ana = services.person_create(
        actor=actor,
        fields={"firstName": "Ana", "lastName": "Horvat", "city": "Zagreb"},
        phones=["+385 91 111 1111"],
        tags=["vip"],
    )
    anna = services.person_create(
        actor=actor,
        fields={"firstName": "Anna", "lastName": "Horvat", "city": "Split"},
        emails=["anna@example.org"],
        tags=["beta"],
    )
    # One application, one device model: a name one edit away on the same kind of device.
    app = ApplicationFactory(name="Shop", code="shop")
    InstallationFactory(
        person=ana, application=app, push_registration_id="push-ana", is_primary=True
    )
    InstallationFactory(
        person=anna, application=app, push_registration_id="push-anna", is_primary=True
    )
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.pk}/")
    candidate = page.get_by_test_id("duplicate-candidate").filter(has_text="Anna Horvat")
    expect(candidate).to_contain_text("same device")
    candidate.get_by_test_id("compare-and-merge").click()
    page.wait_for_url(f"**/person/{ana.pk}/merge/{anna.pk}")

    screen = page.get_by_test_id("merge-screen")
    expect(screen).to_contain_text("Merge Anna Horvat into Ana Horvat")
    first_name = page.locator('[data-testid="merge-row"][data-name="firstName"]')
    # The newer non-empty value is preselected; the operator keeps the survivor's instead.
    expect(first_name.locator('input[value="other"]')).to_be_checked()
    first_name.get_by_label("Ana").check()
    page.get_by_test_id("merge-primary").get_by_text("push-ana", exact=True).click()
    expect(page.get_by_test_id("merge-tags")).to_have_text("beta, vip")
    screenshot(page, "merge-screen")
    page.get_by_test_id("merge-submit").click()

    page.wait_for_url(f"**/person/{ana.pk}/")
    expect(page.get_by_test_id("person-name")).to_have_text("Ana Horvat")
    expect(page.locator(".messages")).to_contain_text(f"Merged person {anna.pk} into Ana Horvat")
    rows = page.locator('#history [data-testid="history-row"]')
    expect(rows.first).to_have_attribute("data-kind", "MERGE")
    assert not Person.objects.filter(pk=anna.pk).exists()
    screenshot(page, "merged-profile")

    page.get_by_test_id("merge-undo").click()
    page.wait_for_url(f"**/person/{ana.pk}/")
    expect(page.locator(".messages")).to_contain_text("Merge undone")
    restored = Person.objects.get(pk=anna.pk)
    assert (restored.first_name, restored.city) == ("Anna", "Split")
    assert restored.installations.get().is_primary
    assert Person.objects.get(pk=ana.pk).installations.get().push_registration_id == "push-ana"
