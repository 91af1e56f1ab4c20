"""The console's look: every page fits a phone's width, wide tables scroll in their own box, the
navigation stays compact, the search filters fold away on a phone, dark mode follows the
system, and every page has its icon. Each walk saves screenshots (tests/screenshots/)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from installations.models import Application, Installation
from people import services
from people.history import Actor
from people.models import DataType, Person
from tests.browser.conftest import sign_in
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def ana(transactional_db):
    """Ana with two lists of objects (one with long field names), a long actor name in her
    history and a dozen events."""
    profile = make_profile(Actor.system("tests"))
    person = profile.person
    services.attribute_definition_create(
        name="Shopping cart",
        data_type=DataType.LIST_OF_OBJECTS,
        object_schema={"productName": "STRING", "productPrice": "DECIMAL", "quantity": "INTEGER"},
    )
    services.person_set_custom_attributes(
        person=person,
        actor=Actor.system("crm-synchronisation-service"),
        values={
            "Shopping cart": [
                {
                    "productName": "Espresso machine",
                    "productPrice": Decimal("249.90"),
                    "quantity": 1,
                }
            ],
            "Orders": [
                {"sku": "SKU-000123-BLUE-XL", "qty": 3, "paid": True},
                {"sku": "SKU-000456-RED-S", "qty": 1, "paid": False},
            ],
        },
    )
    for number in range(8):
        services.person_add_tags(
            person=person, actor=Actor.system("tests"), names=[f"campaign-{number}"]
        )
    spread_over_a_month()
    return profile


def spread_over_a_month() -> None:
    """People and installations created over the last 30 days, on three platforms and two
    applications, some with push off: the dashboard's charts have something to draw."""
    wallet = ApplicationFactory(name="Wallet", code="wallet")
    shop = Application.objects.get(code="shop-android")
    now = timezone.now()
    for day in range(30):
        moment = now - datetime.timedelta(days=day)
        people = PersonFactory.create_batch(1 + (day * 7) % 5)
        Person.objects.filter(pk__in=[p.pk for p in people]).update(created_at=moment)
        installations = [
            InstallationFactory(
                person=people[0],
                application=wallet if day % 3 else shop,
                os=("Android", "iOS", "Huawei")[day % 4 % 3],
                registration_enabled=day % 5 != 0,
            )
            for _ in range(1 + day % 3)
        ]
        Installation.objects.filter(pk__in=[i.pk for i in installations]).update(created_at=moment)


def pages_of(role: str, ana) -> list[tuple[str, str]]:
    """(name, path) of the pages a role reaches."""
    person = f"/person/{ana.person.pk}/"
    return {
        "anonymous": [("login", "/accounts/login/")],
        "editor": [
            ("search", "/"),
            ("search-results", "/?q=horv"),
            ("person-editor", person),
            ("person-editor-editing", f"{person}?edit=overview&edit=attributes"),
            ("create-person", "/person/new/"),
            ("dashboard", "/dashboard/"),
        ],
        "viewer": [("person-viewer", person)],
        "administrator": [("admin-index", "/admin/")],
    }[role]


def new_page(browser, live_server, viewport: dict, color_scheme: str = "light"):
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="en-GB", color_scheme=color_scheme
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def walk(browser, live_server, users: dict, ana, viewport: dict, color_scheme: str, screenshot):
    """Every page of every role: {name: (scrollWidth, body background)}; a screenshot each."""
    seen = {}
    for role in ("anonymous", "editor", "viewer", "administrator"):
        page = new_page(browser, live_server, viewport, color_scheme)
        missing: list[str] = []
        page.on(
            "response",
            lambda response, missing=missing: (
                missing.append(response.url) if response.status == 404 else None
            ),
        )
        if role != "anonymous":
            sign_in(page, users[role].username)
        for name, path in pages_of(role, ana):
            page.goto(path)
            page.wait_for_load_state("load")
            seen[name] = (
                page.evaluate("document.documentElement.scrollWidth"),
                page.evaluate("getComputedStyle(document.body).backgroundColor"),
            )
            suffix = "" if color_scheme == "light" else f"-{color_scheme}"
            screenshot(page, f"look-{name}-{viewport['width']}{suffix}")
            if name.startswith("person"):  # its first screen too: the full page is long
                screenshot(page, f"look-{name}-{viewport['width']}{suffix}-top", full_page=False)
        page.context.close()
        assert missing == [], f"{role}: not found {missing}"
    return seen


def luminance(css_color: str) -> float:
    """Relative luminance (WCAG) of an rgb()/rgba() computed colour."""
    red, green, blue = (int(part) for part in css_color.split("(")[1].rstrip(")").split(",")[:3])

    def channel(value: int) -> float:
        value = value / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


PAGES = {
    "login",
    "search",
    "search-results",
    "person-editor",
    "person-editor-editing",
    "create-person",
    "dashboard",
    "person-viewer",
    "admin-index",
}


@pytest.mark.parametrize(
    ("viewport", "color_scheme"),
    [(PHONE, "light"), (PHONE, "dark"), (DESKTOP, "light"), (DESKTOP, "dark")],
    ids=["390-light", "390-dark", "1440-light", "1440-dark"],
)
def test_no_page_is_wider_than_the_screen_in_either_scheme(
    browser, live_server, editor, viewer, administrator, ana, screenshot, viewport, color_scheme
):
    """At 390 px (a phone) and 1440 px, light and dark: nothing scrolls sideways, the
    background follows the system's scheme, no request (the icon included) is a 404."""
    users = {"editor": editor, "viewer": viewer, "administrator": administrator}
    seen = walk(browser, live_server, users, ana, viewport, color_scheme, screenshot)
    assert set(seen) == PAGES
    widths = {name: width for name, (width, _) in seen.items()}
    assert {name: w for name, w in widths.items() if w > viewport["width"]} == {}, widths
    backgrounds = {name: round(luminance(background), 3) for name, (_, background) in seen.items()}
    if color_scheme == "dark":
        assert {name: lum for name, lum in backgrounds.items() if lum > 0.05} == {}
    else:
        assert {name: lum for name, lum in backgrounds.items() if lum < 0.8} == {}


def test_wide_tables_and_the_list_editor_scroll_in_their_own_box_on_a_phone(
    browser, live_server, editor, ana
):
    page = new_page(browser, live_server, PHONE)
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/?edit=attributes")
    history_box = page.locator("#history .table-wrap")
    cart = page.locator('[data-attribute="Shopping cart"] .list-editor')
    for box in (history_box, cart):
        scroll_width, client_width, right = box.evaluate(
            "box => [box.scrollWidth, box.clientWidth, box.getBoundingClientRect().right]"
        )
        assert scroll_width > client_width  # it scrolls, inside the page
        assert right <= PHONE["width"]
    # The history's Actor column keeps a readable width (it was squeezed to 1-2 characters).
    actor = page.locator("#history th", has_text="Actor")
    assert actor.bounding_box()["width"] >= 90
    # The scrolling list editor is still a table to assistive technology.
    expect(page.get_by_role("table", name="Items of Shopping cart")).to_have_count(1)
    # The editor's fields keep a width one can type in.
    assert cart.get_by_label("productName of a new item").bounding_box()["width"] >= 90
    # The keyboard reaches the history's box and scrolls it; on a wide screen it fits and is
    # no stop for the keyboard.
    expect(history_box).to_have_attribute("tabindex", "0")
    expect(history_box).to_have_accessible_name("History: table, scrolls sideways")
    history_box.focus()
    page.keyboard.press("ArrowRight")
    for _ in range(20):
        if history_box.evaluate("box => box.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert history_box.evaluate("box => box.scrollLeft") > 0
    page.set_viewport_size(DESKTOP)
    expect(history_box).not_to_have_attribute("tabindex", "0")
    page.context.close()


def test_the_navigation_stays_compact_on_a_phone(browser, live_server, administrator, ana):
    page = new_page(browser, live_server, PHONE)
    sign_in(page, administrator.username)
    topbar = page.locator(".topbar")
    assert topbar.bounding_box()["height"] <= 80  # it was 158 px: one link a line
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Search", "Dashboard", "Jobs", "New person", "Admin"):
        link = nav.get_by_role("link", name=name, exact=True)
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    page.context.close()


def test_the_search_filters_fold_away_on_a_phone_and_stay_open_on_a_wide_screen(
    browser, live_server, editor, ana
):
    phone = new_page(browser, live_server, PHONE)
    sign_in(phone, editor.username)
    filters = phone.locator("details.filters-fold")
    expect(filters).not_to_have_attribute("open", "")
    expect(phone.get_by_label("Type")).to_be_hidden()
    # The box and the first results make the first screen.
    expect(phone.locator("#results .row-link").first).to_be_in_viewport()
    filters.locator("summary").click()
    expect(phone.get_by_label("Type")).to_be_visible()
    phone.get_by_label("Type").select_option("LEAD")
    expect(phone.locator("#results")).to_contain_text("No people found")
    # A page whose filters are set shows them.
    phone.goto("/?type=LEAD")
    expect(phone.get_by_label("Type")).to_be_visible()
    expect(phone.get_by_label("Type")).to_have_value("LEAD")
    phone.context.close()

    wide = new_page(browser, live_server, DESKTOP)
    sign_in(wide, editor.username)
    expect(wide.locator("details.filters-fold")).to_have_attribute("open", "")
    expect(wide.locator("details.filters-fold > summary")).to_be_hidden()
    expect(wide.get_by_label("Type")).to_be_visible()
    # Narrowing the window folds them; widening opens them again.
    wide.set_viewport_size(PHONE)
    expect(wide.get_by_label("Type")).to_be_hidden()
    wide.set_viewport_size(DESKTOP)
    expect(wide.get_by_label("Type")).to_be_visible()
    wide.context.close()


def test_dark_mode_keeps_text_readable(browser, live_server, editor, ana):
    """In the dark scheme the panels are dark and the text, the muted text and the links on
    them keep WCAG AA contrast or better."""
    page = new_page(browser, live_server, PHONE, color_scheme="dark")
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    colours = page.evaluate(
        """() => {
          const style = element => getComputedStyle(document.querySelector(element));
          return {
            panel: style("#overview").backgroundColor,
            text: style("#overview h2").color,
            muted: style(".crumbs").color,
            link: style(".crumbs a").color,
            field: style("#overview input:not([type=hidden])").backgroundColor,
            fieldText: style("#overview input:not([type=hidden])").color,
          };
        }"""
    )
    assert luminance(colours["panel"]) < 0.05
    assert luminance(colours["field"]) < 0.05
    assert contrast(colours["text"], colours["panel"]) >= 7
    assert contrast(colours["fieldText"], colours["field"]) >= 7
    assert contrast(colours["muted"], colours["panel"]) >= 4.5
    assert contrast(colours["link"], colours["panel"]) >= 4.5
    page.context.close()
