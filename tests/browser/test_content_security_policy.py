"""The main pages work under the portal's Content-Security-Policy: the browser reports no
violation (a `securitypolicyviolation` event or a console error) on the search page, a person
page while its htmx editors are used, Django admin and Swagger UI at /api/docs/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from people.history import Actor
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${location.pathname}: ${event.violatedDirective} ${event.blockedURI} ${event.sample}`
  );
});
"""


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


@pytest.fixture
def watched(page):
    """The page, recording CSP violations; ``watched.violations()`` lists them so far."""
    console: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def violations() -> list[str]:
        return console + page.evaluate("window.__cspViolations || []")

    page.violations = violations
    return page


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert "script-src 'self'" in response.headers["content-security-policy"], url
    assert "no-store" in response.headers["cache-control"], url


def test_the_search_and_person_pages_raise_no_csp_violation(watched, administrator, ana):
    page = watched
    sign_in(page, administrator.username)
    visit(page, "/")
    page.get_by_role("searchbox", name="Search").fill("Horvat")
    expect(page.locator("#results").get_by_role("link", name="Ana Horvat")).to_be_visible()
    assert page.violations() == [], "\n".join(page.violations())

    visit(page, f"/person/{ana.person.pk}/")
    page.get_by_label("Add tags").fill("csp-checked")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text("csp-checked")
    page.get_by_test_id("edit-attributes").click()
    balance = page.locator('[data-attribute="Balance"]')
    balance.get_by_role("textbox").fill("99.95")
    balance.get_by_role("button", name="Save Balance").click()
    expect(balance.get_by_role("textbox")).to_have_value("99.95")
    card = page.get_by_test_id("installation-card").filter(has_text="push-ana-tablet")
    card.get_by_role("button", name="Make primary").click()
    expect(card.get_by_test_id("primary-badge")).to_be_visible()
    card.get_by_role("button", name="Remote logout…").click()
    page.get_by_role("dialog", name="Log this installation out?").get_by_role(
        "button", name="Cancel"
    ).click()
    assert page.violations() == [], "\n".join(page.violations())


def test_django_admin_raises_no_csp_violation(watched, administrator, ana):
    page = watched
    sign_in(page, administrator.username)
    visit(page, "/admin/")
    visit(page, "/admin/people/person/")
    page.get_by_role("link", name="Ana").first.click()
    expect(page.locator("#content h2, #content h1").first).to_be_visible()
    visit(page, f"/admin/people/person/{ana.person.pk}/change/")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    assert page.violations() == [], "\n".join(page.violations())


def test_swagger_ui_raises_no_csp_violation(watched):
    page = watched
    visit(page, "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("People Portal API")
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock.is-open").first).to_be_visible()
    assert page.violations() == [], "\n".join(page.violations())
