"""axe-core on the console's pages at 1440 and 390 px: no serious or critical violation.

axe runs from the copy in tests/browser/axe/ (never from the network), added to each page
before its own scripts (an init script is not subject to the Content-Security-Policy).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from people.history import Actor
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SERIOUS = ("serious", "critical")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# The two widths, and the dark scheme (its colours pass axe's contrast rule too).
VIEWS = {
    "1440": (DESKTOP, "light"),
    "390": (PHONE, "light"),
    "1440-dark": (DESKTOP, "dark"),
    "390-dark": (PHONE, "dark"),
}

# What each page is: the role that opens it, its path (the person's id filled in) and what
# to do on it before the check.
PAGES = {
    "login": (None, "/accounts/login/", None),
    "search": ("editor", "/?q=horv", None),
    "person-editor": ("editor", "/person/{pk}/", None),
    # The editors of basic information and custom attributes open (no JavaScript needed).
    "person-editor-editing": ("editor", "/person/{pk}/?edit=overview&edit=attributes", None),
    # Basic information opened in place by its Edit button.
    "person-editor-edit-clicked": ("editor", "/person/{pk}/", "edit-overview"),
    "person-viewer": ("viewer", "/person/{pk}/", None),
    # A viewer reads identifiers masked; one Reveal form open.
    "person-viewer-reveal": ("viewer", "/person/{pk}/", "reveal"),
    "person-remote-logout-dialog": ("editor", "/person/{pk}/", "remote-logout"),
    "create-person": ("editor", "/person/new/", None),
    "dashboard": ("editor", "/dashboard/", None),
    "preferences": ("viewer", "/preferences/", None),
    # Saved views: the page that manages them, and a built-in one open on the search page.
    "views": ("editor", "/views/", None),
    "view-hygiene": ("viewer", "/views/hygiene/stale-devices/", None),
}


def run_axe(page) -> list[dict]:
    """The serious and critical violations: [{rule, impact, targets}]."""
    return page.evaluate(
        """async (serious) => {
          const results = await axe.run(document, {resultTypes: ["violations"]});
          return results.violations
            .filter(violation => serious.includes(violation.impact))
            .map(violation => ({
              rule: violation.id,
              impact: violation.impact,
              targets: violation.nodes.map(node => node.target.join(" ")),
            }));
        }""",
        list(SERIOUS),
    )


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


def test_the_vendored_axe_is_the_one_named_in_its_readme():
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256
    assert AXE_SHA256 in (AXE.parent / "README.md").read_text()


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violation(
    browser, live_server, editor, viewer, ana, screenshot, name, view
):
    role, path, action = PAGES[name]
    viewport, color_scheme = VIEWS[view]
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, color_scheme=color_scheme, locale="en-GB"
    )
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(10_000)
    if role:
        sign_in(page, {"editor": editor, "viewer": viewer}[role].username)
    page.goto(path.format(pk=ana.person.pk))
    page.wait_for_load_state("load")
    if action == "edit-overview":
        page.get_by_test_id("edit-overview").click()
        expect(page.locator("#id_externalId")).to_be_focused()
    if action == "reveal":
        page.locator("details.reveal summary").first.click()
        expect(page.get_by_label("Why (recorded)").first).to_be_visible()
    if action == "remote-logout":
        card = page.get_by_test_id("installation-card").filter(has_text="push-ana-tablet")
        card.get_by_role("button", name="Remote logout…").click()
        expect(page.get_by_role("dialog", name="Log this installation out?")).to_be_visible()
        screenshot(page, f"a11y-{name}-{view}", full_page=False)
    violations = run_axe(page)
    context.close()
    assert violations == []
