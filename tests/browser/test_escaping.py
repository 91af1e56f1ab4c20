"""Hostile values stay text: every value an operator or a client can write is shown escaped.

A profile is written through the services with ``<script>`` and ``<img onerror>`` payloads in
its names, externalId, tags, custom attributes (a STRING value, the fields of a LIST_OF_OBJECTS
value, a definition's name), an installation's additionalData (names and values), system data
and its application's name. Each payload would set ``window.__xss`` or open an alert naming
where it came from, and an ``<img src=x>`` that ran would request ``/x``. The search results,
every section of the person page (also after in-place htmx edits with more payloads), the
dashboard and the Django admin pages are opened in Chromium: no dialog opens, ``window.__xss``
stays undefined, nothing requests ``/x``, and the payloads are on the page as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import expect

from installations import services as installation_services
from installations.models import Installation
from installations.personalize import installation_personalize
from people import services
from people.history import Actor
from people.models import AttributeDefinition, DataType, Person
from tests.browser.conftest import sign_in
from tests.factories import ApplicationFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def script(label: str) -> str:
    return f"<script>window.__xss='{label}'</script>"


def img(label: str) -> str:
    return f"<img src=x onerror=alert('{label}')>"


@dataclass
class Hostile:
    person: Person
    installation: Installation
    definitions: list[AttributeDefinition]
    # Payloads that each page shows as text, by the section that shows them.
    shown: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture
def hostile(transactional_db) -> Hostile:
    actor = Actor.system("tests")
    nickname = services.attribute_definition_create(name=img("def"), data_type=DataType.STRING)
    orders = services.attribute_definition_create(
        name="Orders",
        data_type=DataType.LIST_OF_OBJECTS,
        object_schema={"sku": "STRING", "qty": "INTEGER"},
    )
    person = services.person_create(
        actor=actor,
        fields={
            "firstName": script("first"),
            "lastName": img("last"),
            "middleName": script("middle"),
            "externalId": script("external"),
            "city": img("city"),
            "address": script("address"),
        },
        tags=[script("tag"), img("tag")],
        custom_attributes={
            nickname.name: script("string"),
            "Orders": [{"sku": img("list"), "qty": 1}, {"sku": script("list"), "qty": 2}],
        },
    )
    application = ApplicationFactory(name=script("app"), code="hostile-app")
    installation, _ = installation_services.installation_register(
        application=application,
        actor=actor,
        push_registration_id="push-hostile",
        system_data={"os": "Android", "deviceModel": img("model"), "deviceName": script("dn")},
        additional_data={img("key"): script("value"), "plain": img("value")},
    )
    installation_personalize(
        installation=installation, actor=actor, identity={"externalId": script("external")}
    )
    installation.refresh_from_db()
    shown = {
        "header": [script("first"), img("last")],
        "attributes": [script("tag"), img("tag"), img("def")],
        "contacts": [script("app"), img("model"), img("key"), script("value"), img("value")],
    }
    return Hostile(person, installation, [nickname, orders], shown)


class Watch:
    """What a page did that it should not have: dialogs opened, requests for /x."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request) -> None:
        if urlsplit(request.url).path.endswith("/x"):
            self.requests.append(request.url)

    def assert_nothing_ran(self, where: str) -> None:
        # Let any handler of a broken image run before looking.
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(100)
        assert self.page.evaluate("typeof window.__xss") == "undefined", (
            where,
            self.page.evaluate("window.__xss"),
        )
        assert self.dialogs == [], where
        assert self.requests == [], where


@pytest.fixture
def watch(page) -> Watch:
    return Watch(page)


def test_hostile_values_are_text_on_the_search_page_the_person_page_and_the_dashboard(
    page, watch, editor, hostile
):
    sign_in(page, editor.username)
    person = hostile.person

    # The start page lists the profile; the search box gets a payload too (reflected).
    page.goto("/")
    results = page.locator("#results")
    expect(results).to_contain_text(script("first"))
    expect(results).to_contain_text(img("last"))
    watch.assert_nothing_ran("start page")
    page.goto("/?q=" + quote(script("query")) + "&tags=" + quote(img("filter")))
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(script("query"))
    watch.assert_nothing_ran("search with a hostile query")
    page.goto("/?tags=" + quote(script("tag")))
    expect(results).to_contain_text(img("last"))
    watch.assert_nothing_ran("search by a hostile tag")
    page.goto("/?q=" + quote(script("external")) + "&go=1")
    page.wait_for_url(f"**/person/{person.pk}/")
    watch.assert_nothing_ran("exact match on a hostile externalId")

    page.goto(f"/person/{person.pk}/?edit=overview&edit=attributes")
    expect(page.get_by_test_id("person-name")).to_contain_text(script("first"))
    for section, texts in hostile.shown.items():
        locator = page.locator(f"#{section}") if section != "header" else page.locator("main")
        for text in texts:
            expect(locator).to_contain_text(text)
    expect(page.get_by_label("Middle name")).to_have_value(script("middle"))
    expect(page.get_by_label("City")).to_have_value(img("city"))
    nickname = page.locator(f'[data-attribute="{hostile.definitions[0].name}"]')
    expect(nickname.get_by_role("textbox")).to_have_value(script("string"))
    orders = page.locator('[data-attribute="Orders"]')
    expect(orders.get_by_label("sku of item 1")).to_have_value(img("list"))
    expect(orders.get_by_label("sku of item 2")).to_have_value(script("list"))
    expect(page.locator("#history")).to_contain_text(script("tag"))
    watch.assert_nothing_ran("person page")

    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    watch.assert_nothing_ran("dashboard")


def test_hostile_values_typed_into_the_person_page_come_back_as_text(page, watch, editor, hostile):
    """The htmx responses swapped into the page escape what was just typed, and the errors
    that repeat it escape it too."""
    sign_in(page, editor.username)
    page.goto(f"/person/{hostile.person.pk}/?edit=overview&edit=attributes")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Add tags").fill(img("typed-tag"))
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text(img("typed-tag"))

    nickname = page.locator(f'[data-attribute="{hostile.definitions[0].name}"]')
    nickname.get_by_role("textbox").fill(script("typed-string"))
    nickname.get_by_role("button", name=f"Save {hostile.definitions[0].name}").click()
    expect(page.locator("#history")).to_contain_text(script("typed-string"))

    orders = page.locator('[data-attribute="Orders"]')
    orders.get_by_label("sku of a new item").fill(script("typed-list"))
    orders.get_by_label("qty of a new item").fill(img("not-a-number"))
    orders.get_by_role("button", name="Save Orders").click()
    expect(orders.get_by_role("alert")).to_contain_text(img("not-a-number"))

    page.get_by_label("First name").fill(img("typed-first"))
    page.locator("#overview").get_by_role("button", name="Save basic information").click()
    expect(page.get_by_test_id("person-name")).to_contain_text(img("typed-first"))

    card = page.get_by_test_id("installation-card")
    card.get_by_text("Edit additional data").click()
    card.get_by_role("textbox").fill(json.dumps({script("typed-key"): img("typed-value")}))
    card.get_by_role("button", name="Save additional data").click()
    expect(card).to_contain_text(script("typed-key"))
    expect(card).to_contain_text(img("typed-value"))

    page.get_by_label("Add email").fill(script("mail") + "@example.com")
    page.get_by_role("button", name="Add email").click()
    expect(page.locator("#identities")).to_contain_text(script("mail"))

    assert page.evaluate("window.notReloaded") is True
    watch.assert_nothing_ran("in-place edits")
    page.reload()
    expect(page.get_by_test_id("tag-chips")).to_contain_text(img("typed-tag"))
    watch.assert_nothing_ran("person page after the edits")


def test_hostile_values_are_text_in_django_admin(page, watch, administrator, hostile):
    sign_in(page, administrator.username)
    person, installation = hostile.person, hostile.installation
    pages = {
        "/admin/people/person/": [script("first"), img("last"), script("external")],
        f"/admin/people/person/{person.pk}/change/": [script("tag"), img("tag")],
        "/admin/installations/installation/": [script("app")],
        f"/admin/installations/installation/{installation.pk}/change/": [img("model")],
        "/admin/installations/application/": [script("app")],
        "/admin/people/tag/": [script("tag"), img("tag")],
        "/admin/people/attributedefinition/": [img("def")],
        f"/admin/people/attributedefinition/{hostile.definitions[0].pk}/change/": [],
        "/admin/people/attributevalue/": [img("def")],
        "/admin/people/event/": [script("first")],
        "/admin/people/contactidentity/": [],
    }
    for path, texts in pages.items():
        response = page.goto(path)
        assert response.status == 200, path
        for text in texts:
            expect(page.locator("#content")).to_contain_text(text)
        watch.assert_nothing_ran(path)
    page.goto(f"/admin/people/person/?q={quote(script('admin-search'))}")
    watch.assert_nothing_ran("admin search")


def without_content_security_policy(route) -> None:
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k != "content-security-policy"}
    route.fulfill(response=response, headers=headers)


def test_the_watch_sees_a_payload_that_runs(page, watch, live_server):
    """The control: the same payloads, unescaped, are caught (on the sign-in page served
    without its Content-Security-Policy, which would block them: see the next test)."""
    page.route("**/accounts/login/", without_content_security_policy)
    page.goto(live_server.url + "/accounts/login/")
    page.evaluate(
        "html => { document.body.insertAdjacentHTML('beforeend', html); }",
        img("control"),
    )
    with pytest.raises(AssertionError):
        watch.assert_nothing_ran("an unescaped <img onerror>")
    assert watch.dialogs == ["control"]
    assert watch.requests
    page.set_content(f"<p>{script('control')}</p>")
    assert page.evaluate("window.__xss") == "control"


def test_the_content_security_policy_blocks_an_unescaped_inline_handler(page, watch, live_server):
    """A second wall behind escaping: were a payload ever written unescaped, the portal's
    policy (no inline script) keeps its event handler from running."""
    page.goto(live_server.url + "/accounts/login/")
    page.evaluate(
        "html => { document.body.insertAdjacentHTML('beforeend', html); }",
        img("blocked"),
    )
    # The image has failed to load: its onerror would have run by now.
    page.evaluate(
        """() => new Promise((loaded) => {
            const image = document.querySelector("img[src=x]");
            if (image.complete) loaded(); else image.addEventListener("error", () => loaded());
        })"""
    )
    page.wait_for_timeout(200)
    assert watch.dialogs == []
