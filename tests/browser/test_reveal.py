"""A Viewer reads phones, emails and externalIds masked on the person page and reveals one
with a reason: the value takes the masked one's place, is read out, and the reveal is
recorded."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from people.history import Actor
from privacy.models import AccessKind, AccessRecord
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


def test_a_viewer_reveals_a_masked_phone_with_a_reason(page, viewer, ana):
    sign_in(page, viewer.username)
    page.goto(f"/person/{ana.person.pk}/")
    summary = page.get_by_test_id("person-summary")
    masked = summary.locator(
        "#masked-summary-phone-" + str(ana.person.identities.get(kind="PHONE").pk)
    )
    expect(masked.get_by_test_id("masked")).to_have_text("+385 • •••9 710")
    expect(page.locator("body")).not_to_contain_text("6419 710")

    masked.get_by_text("Reveal").first.click()
    reason = masked.get_by_label("Why (recorded)")
    expect(reason).to_be_visible()
    masked.get_by_role("button", name="Reveal").click()  # no reason: the browser asks for one
    assert not AccessRecord.objects.exists()
    reason.fill("customer on the line")
    masked.get_by_role("button", name="Reveal").click()

    revealed = summary.get_by_test_id("revealed")
    expect(revealed).to_have_text("+385 1 6419 710")
    expect(page.locator("#live-status")).to_contain_text("+385 1 6419 710")
    record = AccessRecord.objects.get()
    assert (record.kind, record.detail, record.reason) == (
        AccessKind.REVEAL,
        "phone",
        "customer on the line",
    )
    # The other values stay masked.
    expect(summary.get_by_test_id("masked").first).to_contain_text("•")
