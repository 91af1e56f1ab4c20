"""The operator UI in a real browser: the acceptance of the operator UI issue, end to end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from people import services
from people.apply import custom_attribute_values
from people.history import Actor
from people.models import Person
from tests.browser.conftest import sign_in
from tests.profiles import make_profile

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ana(transactional_db):
    return make_profile(Actor.system("tests"))


def card(page, push_registration_id: str):
    return page.get_by_test_id("installation-card").filter(has_text=push_registration_id)


def history(page, kind: str):
    return page.locator(f'#history [data-testid="history-row"][data-kind="{kind}"]')


def add_first_tag(page, name: str) -> None:
    """Add a tag on the person page; wait for its chip and the history's refresh."""
    page.get_by_label("Add tags").fill(name)
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text(name)
    expect(history(page, "TAGS_CHANGED")).to_have_count(1)


def search_box(page):
    return page.get_by_role("searchbox", name="Search")


def open_by_search(page, typed: str, person: Person, matched: str) -> None:
    """Type into the box, see what it matched on as you type, press Enter: the profile opens."""
    page.goto("/")
    search_box(page).fill(typed)
    expect(page.locator("#results")).to_contain_text(f"matched on {matched}")
    search_box(page).press("Enter")
    page.wait_for_url(f"**/person/{person.pk}/")
    expect(page.get_by_test_id("person-name")).to_have_text(person.display_name)


def test_an_operator_finds_a_person_by_every_identifier(page, editor, ana, screenshot):
    sign_in(page, editor.username)
    expect(page.get_by_test_id("operator-name")).to_have_text("eddie.editor")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Dashboard")
    person = ana.person

    open_by_search(page, "push-ana-tablet", person, "pushRegistrationId push-ana-tablet")
    open_by_search(page, "+385 1 6419-710", person, "phone 38516419710")
    open_by_search(page, "ANA.HORVAT@example.COM", person, "email ana.horvat@example.com")
    open_by_search(page, "crm-42", person, "externalId crm-42")

    # The start of a last name lists people as you type; the URL carries the query.
    services.person_create(
        actor=Actor.system("tests"), fields={"firstName": "Ivo", "lastName": "Horvatić"}
    )
    page.goto("/")
    search_box(page).fill("horv")
    results = page.locator("#results")
    expect(results).to_contain_text("name starting with horv")
    expect(results.get_by_role("link", name="Ana Horvat")).to_be_visible()
    expect(results.get_by_role("link", name="Ivo Horvatić")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/\?q=horv$"))
    screenshot(page, "search-results")

    # A filter narrows the list in place; reload and back show the same lists.
    page.get_by_label("Type").select_option("LEAD")
    expect(page).to_have_url(re.compile(r"q=horv&type=LEAD"))
    expect(results).to_contain_text("No people found")
    page.reload()
    expect(page.get_by_label("Type")).to_have_value("LEAD")
    expect(results).to_contain_text("No people found")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?q=horv$"))
    expect(results.get_by_role("link", name="Ana Horvat")).to_be_visible()

    results.get_by_role("link", name="Ana Horvat").click()
    page.wait_for_url(f"**/person/{person.pk}/")


@pytest.mark.postgres_only
def test_a_mistyped_name_shows_the_closest_spelling_and_leads_to_it(page, editor, ana, screenshot):
    services.person_create(
        actor=Actor.system("tests"), fields={"firstName": "Ivo", "lastName": "Horvac"}
    )
    sign_in(page, editor.username)
    search_box(page).fill("Horvta")
    results = page.locator("#results")
    notice = results.get_by_test_id("similar-names")
    expect(notice).to_contain_text("No name starts with “Horvta”")
    expect(results.get_by_role("link", name="Ana Horvat")).to_be_visible()
    expect(results.get_by_role("link", name="Ivo Horvac")).to_have_count(0)
    expect(notice.get_by_test_id("other-spelling")).to_have_text("horvac")
    screenshot(page, "search-similar-names")
    # The spelling shown is a search of its own: the box says it, and it pages on.
    notice.get_by_test_id("corrected-search").click()
    expect(page).to_have_url(re.compile(r"/\?q=horvat$"))
    expect(search_box(page)).to_have_value("horvat")
    expect(results).to_contain_text("name starting with horvat")
    expect(results.get_by_test_id("similar-names")).to_have_count(0)


def test_an_operator_edits_a_profile_in_place_and_sees_it_in_history(page, editor, ana, screenshot):
    other = services.person_create(
        actor=Actor.system("tests"),
        fields={"firstName": "Marko", "lastName": "Babić"},
        phones=["+385 91 234 5678"],
    )
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    screenshot(page, "person-page")
    screenshot(page.locator("#overview"), "person-overview")
    screenshot(page.locator("#contacts"), "person-contact-information")
    page.set_viewport_size({"width": 820, "height": 1100})
    screenshot(page, "person-page-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.evaluate("window.notReloaded = true")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))

    # Make the second installation primary: the first card loses its badge, no reload. One
    # request: its answer carries the header and the history too.
    card(page, "push-ana-tablet").get_by_role("button", name="Make primary").click()
    expect(card(page, "push-ana-tablet").get_by_test_id("primary-badge")).to_be_visible()
    expect(card(page, "push-ana-phone").get_by_test_id("primary-badge")).to_have_count(0)
    expect(card(page, "push-ana-phone").get_by_role("button", name="Make primary")).to_be_visible()
    expect(history(page, "PRIMARY_CHANGED")).to_have_count(1)
    page.wait_for_timeout(300)  # what a follow-up fetch would need to start
    assert [re.sub(r"^(\w+) https?://[^/]+", r"\1 ", r) for r in requests] == [
        f"POST /installations/{ana.second.pk}/primary"
    ]

    # Push off and on.
    phone_card = card(page, "push-ana-phone")
    phone_card.get_by_role("button", name="Turn push off").click()
    expect(phone_card.get_by_test_id("push-state")).to_have_text("Push off")
    phone_card.get_by_role("button", name="Turn push on").click()
    expect(phone_card.get_by_test_id("push-state")).to_have_text("Push on")
    expect(history(page, "PUSH_CHANGED")).to_have_count(2)

    # Remote logout asks first; Escape cancels, the keyboard confirms.
    tablet_card = card(page, "push-ana-tablet")
    tablet_card.get_by_role("button", name="Remote logout…").click()
    dialog = page.get_by_role("dialog", name="Log this installation out?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(tablet_card).to_have_count(1)
    tablet_card.get_by_role("button", name="Remote logout…").click()
    expect(dialog).to_be_visible()
    screenshot(page, "remote-logout-confirmation", full_page=False)
    dialog.get_by_role("button", name="Log out").focus()
    page.keyboard.press("Enter")
    expect(tablet_card).to_have_count(0)
    expect(page.locator("#installations-status")).to_contain_text("Logged out push-ana-tablet")
    expect(history(page, "DEPERSONALIZE")).to_have_count(1)

    # Tags: suggestions as you type, add from the keyboard, remove with the chip's button.
    tag_input = page.get_by_label("Add tags")
    tag_input.fill("news")
    expect(page.locator('#person-tag-suggestions option[value="newsletter"]')).to_have_count(1)
    tag_input.fill("gold")
    tag_input.press("Enter")
    chips = page.get_by_test_id("tag-chips")
    expect(chips).to_contain_text("gold")
    page.get_by_role("button", name="Remove tag vip").click()
    expect(page.get_by_role("button", name="Remove tag vip")).to_have_count(0)
    expect(chips).not_to_contain_text("vip")
    expect(history(page, "TAGS_CHANGED")).to_have_count(2)

    # A DECIMAL attribute: a good value saves; "12,5abc" gets the error at the field.
    page.get_by_test_id("edit-attributes").click()
    balance = page.locator('[data-attribute="Balance"]')
    balance.get_by_role("textbox").fill("99.95")
    balance.get_by_role("button", name="Save Balance").click()
    expect(history(page, "CUSTOM_ATTRIBUTES_CHANGED")).to_have_count(1)
    balance.get_by_role("textbox").fill("12,5abc")
    balance.get_by_role("button", name="Save Balance").click()
    expect(balance.get_by_role("alert")).to_have_text(
        "Balance expects a number such as 12.5, not '12,5abc'."
    )
    expect(balance.get_by_role("textbox")).to_have_attribute("aria-invalid", "true")
    screenshot(page.locator("#attributes"), "person-attributes-and-tags")
    assert str(custom_attribute_values(ana.person)["Balance"]) == "99.95"

    # A list of objects: rows of typed fields.
    orders = page.locator('[data-attribute="Orders"]')
    orders.get_by_label("sku of a new item").fill("SKU-1")
    orders.get_by_label("qty of a new item").fill("3")
    orders.get_by_role("button", name="Save Orders").click()
    expect(orders.get_by_label("sku of item 1")).to_have_value("SKU-1")
    expect(history(page, "CUSTOM_ATTRIBUTES_CHANGED")).to_have_count(2)

    assert page.evaluate("window.notReloaded") is True
    # Every change answered with the header and the history: none was fetched again.
    assert not [r for r in requests if re.search(r"/person/\d+/(header|history)", r)], requests
    screenshot(page.locator("#history"), "person-history")

    # A phone that belongs to someone else: refused, with a link to that profile.
    page.get_by_label("Add phone").fill("+385 91 234 5678")
    page.get_by_role("button", name="Add phone").click()
    error = page.locator("#add-phone-error")
    expect(error).to_contain_text(f"already belongs to person {other.pk}, Marko Babić")
    error.get_by_role("link", name="Marko Babić").click()
    page.wait_for_url(f"**/person/{other.pk}/")
    expect(page.get_by_test_id("person-name")).to_have_text("Marko Babić")

    # Back on the profile, a full load shows the same state.
    page.goto(f"/person/{ana.person.pk}/?edit=attributes")
    expect(page.get_by_test_id("installation-card")).to_have_count(1)
    expect(card(page, "push-ana-phone").get_by_test_id("primary-badge")).to_have_count(0)
    expect(card(page, "push-ana-phone").get_by_test_id("push-state")).to_have_text("Push on")
    expect(chips).to_contain_text("gold")
    expect(chips).not_to_contain_text("vip")
    expect(balance.get_by_role("textbox")).to_have_value("99.95")
    expect(page.locator("#identities")).not_to_contain_text("+385 91 234 5678")
    for kind, count in [
        ("PRIMARY_CHANGED", 1),
        ("PUSH_CHANGED", 2),
        ("DEPERSONALIZE", 1),
        ("TAGS_CHANGED", 2),
        ("CUSTOM_ATTRIBUTES_CHANGED", 2),
    ]:
        expect(history(page, kind)).to_have_count(count)
    expect(page.locator("#history")).to_contain_text("eddie.editor")


def test_the_overview_form_saves_and_shows_errors_at_the_field(page, editor, ana):
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    overview = page.locator("#overview")
    page.get_by_test_id("edit-overview").click()
    page.get_by_label("City").fill("Split")
    page.get_by_label("Middle name").fill("x" * 50)
    page.get_by_label("Preferred language").fill("english")
    overview.get_by_role("button", name="Save basic information").click()
    expect(overview).to_contain_text("Preferred language must be a language code")
    page.get_by_label("Preferred language").fill("hr")
    overview.get_by_role("button", name="Save basic information").click()
    expect(overview.get_by_role("status")).to_have_text("Saved.")
    # A second save after the operator's own tag, contact and attribute changes does not
    # trip over the versions they made (each section sends the form's version along).
    add_first_tag(page, "second")
    page.get_by_label("Add email").fill("ana.second@example.com")
    page.get_by_role("button", name="Add email").click()
    expect(page.locator("#identities")).to_contain_text("ana.second@example.com")
    nickname = page.locator('[data-attribute="Nickname"]')
    page.get_by_test_id("edit-attributes").click()
    nickname.get_by_role("textbox").fill("Anka")
    nickname.get_by_role("button", name="Save Nickname").click()
    expect(history(page, "CUSTOM_ATTRIBUTES_CHANGED")).to_have_count(1)
    page.get_by_test_id("edit-overview").click()
    page.get_by_label("City").fill("Rijeka")
    with page.expect_response(re.compile(r"/overview$")) as saved:
        overview.get_by_role("button", name="Save basic information").click()
    assert saved.value.status == 200
    expect(overview.get_by_role("status")).to_have_text("Saved.")
    # Saved, the section reads as values again; a full load shows the same.
    expect(overview.get_by_test_id("overview-read")).to_contain_text("Rijeka")
    page.reload()
    expect(overview.get_by_test_id("overview-read")).to_contain_text("Rijeka")
    expect(overview.get_by_test_id("overview-read")).to_contain_text("hr")


def test_an_own_tag_change_does_not_hide_someone_elses_edit_from_the_save(page, editor, ana):
    """Someone else changes the city while the page is open; the operator adds a tag, then
    changes the middle name and saves the basic information: the other's city is kept (the
    operator did not touch it) and the middle name is saved over the newer version. When
    the operator changed the city too, the save is refused with the conflict, and the
    operator can save theirs over it knowingly."""
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    overview = page.locator("#overview")
    services.person_set_fields(
        person=ana.person, actor=Actor.system("crm"), fields={"city": "Osijek"}
    )
    add_first_tag(page, "second")
    page.get_by_test_id("edit-overview").click()
    page.get_by_label("Middle name").fill("Marija")
    with page.expect_response(re.compile(r"/overview$")) as saved:
        overview.get_by_role("button", name="Save basic information").click()
    assert saved.value.status == 200
    expect(overview.get_by_role("status")).to_have_text("Saved.")
    stored = Person.objects.get(pk=ana.person.pk)
    assert (stored.middle_name, stored.city) == ("Marija", "Osijek")

    services.person_set_fields(
        person=ana.person, actor=Actor.system("crm"), fields={"city": "Pula"}
    )
    page.get_by_test_id("edit-overview").click()
    page.get_by_label("City").fill("Zagreb")
    with page.expect_response(re.compile(r"/overview$")) as refused:
        overview.get_by_role("button", name="Save basic information").click()
    assert refused.value.status == 422
    conflict = page.get_by_test_id("edit-conflict")
    expect(conflict).to_contain_text("Pula")
    expect(conflict.get_by_test_id("conflict-actor")).to_have_text("crm")
    assert Person.objects.get(pk=ana.person.pk).city == "Pula"
    with page.expect_response(re.compile(r"/overview$")) as saved:
        conflict.get_by_test_id("reapply").click()
    assert saved.value.status == 200
    expect(overview.get_by_role("status")).to_have_text("Saved.")
    stored = Person.objects.get(pk=ana.person.pk)
    assert (stored.middle_name, stored.city) == ("Marija", "Zagreb")


def test_a_viewer_sees_the_profile_without_edit_controls(page, viewer, ana):
    sign_in(page, viewer.username)
    page.goto(f"/person/{ana.person.pk}/")
    expect(page.get_by_test_id("installation-card")).to_have_count(2)
    expect(page.get_by_role("button", name="Make primary")).to_have_count(0)
    expect(page.get_by_role("button", name="Remote logout…")).to_have_count(0)
    expect(page.get_by_label("Add tags")).to_have_count(0)
    expect(page.get_by_role("button", name="Save basic information")).to_have_count(0)
    expect(page.get_by_test_id("edit-overview")).to_have_count(0)
    expect(page.get_by_test_id("edit-attributes")).to_have_count(0)


def test_the_dashboard_links_to_matching_searches(page, administrator, ana, screenshot):
    sign_in(page, administrator.username)
    expect(page.get_by_role("link", name="Admin")).to_be_visible()
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    screenshot(page, "dashboard")
    page.get_by_role("link", name=re.compile("Customers")).click()
    expect(page).to_have_url(re.compile(r"/\?type=CUSTOMER$"))
    expect(page.get_by_label("Type")).to_have_value("CUSTOMER")
    expect(page.locator("#results").get_by_role("link", name="Ana Horvat")).to_be_visible()


def test_a_day_of_the_people_chart_links_to_the_people_created_that_day(page, editor, ana):
    sign_in(page, editor.username)
    page.goto("/dashboard/")
    people_chart = page.get_by_test_id("chart-people-per-day")
    # Ana was created today: one day with people, one column that is a link.
    expect(people_chart.get_by_test_id("day-link")).to_have_count(1)
    people_chart.get_by_test_id("day-link").click()
    expect(page).to_have_url(re.compile(r"/\?created_from=(\d{4}-\d\d-\d\d)&created_to=\1$"))
    day = page.url.rsplit("=", 1)[1]
    expect(page.get_by_label("Created from")).to_have_value(day)
    expect(page.get_by_label("Created to")).to_have_value(day)
    expect(page.locator("#results").get_by_role("link", name="Ana Horvat")).to_be_visible()


def test_a_day_of_the_installations_chart_links_to_the_people_with_a_device_of_that_day(
    page, editor, ana
):
    sign_in(page, editor.username)
    page.goto("/dashboard/")
    devices_chart = page.get_by_test_id("chart-installations-per-day")
    # Ana's devices were registered today: one day, one link.
    expect(devices_chart.get_by_test_id("day-link")).to_have_count(1)
    devices_chart.get_by_test_id("day-link").click()
    expect(page).to_have_url(re.compile(r"/\?installed_from=(\d{4}-\d\d-\d\d)&installed_to=\1$"))
    day = page.url.rsplit("=", 1)[1]
    expect(page.get_by_label("A device registered from")).to_have_value(day)
    expect(page.locator("#results").get_by_role("link", name="Ana Horvat")).to_be_visible()


def test_an_administrator_deletes_a_person_after_a_confirmation_that_names_them(
    page, administrator, ana
):
    sign_in(page, administrator.username)
    page.goto(f"/person/{ana.person.pk}/")
    page.get_by_role("button", name="Delete person…").click()
    dialog = page.get_by_role("dialog", name="Delete Ana Horvat?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete Ana Horvat").click()
    expect(page.locator("ul.messages")).to_contain_text(
        f"Deleted Ana Horvat (person {ana.person.pk})."
    )
    assert not Person.objects.filter(pk=ana.person.pk).exists()


def test_a_person_is_created_from_the_form(page, editor, ana, screenshot):
    sign_in(page, editor.username)
    page.get_by_role("link", name="New person").first.click()
    page.get_by_label("Phones").fill("+44 20 7946 0018")
    page.get_by_label("Emails").fill("Nova@Example.com")
    page.get_by_label("First name").fill("Nova")
    page.get_by_label("Last name").fill("Kovač")
    page.get_by_label("Tags").fill("fresh")
    screenshot(page, "create-person")
    page.get_by_role("button", name="Create person").click()
    expect(page.get_by_test_id("person-name")).to_have_text("Nova Kovač")
    expect(page.locator("#identities")).to_contain_text("+44 20 7946 0018")
    expect(page.locator("#identities")).to_contain_text("nova@example.com")


def test_a_returning_section_takes_the_focus_only_if_the_operator_has_not_moved_on(
    page, editor, ana
):
    """After a tag is added the tag input gets the focus back, for the next tag; if the
    operator has already gone to another field, typing goes there, not into the tag input."""
    sign_in(page, editor.username)
    page.goto(f"/person/{ana.person.pk}/")
    tag_input = page.get_by_label("Add tags")

    tag_input.fill("First tag")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text("First tag")
    expect(tag_input).to_be_focused()

    # The operator moves to the phone field between the swap and the settle of the section.
    page.evaluate(
        """document.body.addEventListener("htmx:afterSwap", function moveOn(event) {
             if (event.target.id !== "tags") return;
             document.getElementById("add-phone").focus();
             document.body.removeEventListener("htmx:afterSwap", moveOn);
           })"""
    )
    tag_input.fill("Second tag")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_test_id("tag-chips")).to_contain_text("Second tag")
    page.wait_for_timeout(200)  # past htmx's settle delay (20 ms)
    expect(page.locator("#add-phone")).to_be_focused()
