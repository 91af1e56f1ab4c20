"""The person page as an operator console: edits by two operators at once, failed in-place
writes, where the focus goes after each action and what is read out, and the wording."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from core import roles
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


def live_status(page):
    return page.locator("#live-status")


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors


def open_person(page, user, person) -> None:
    sign_in(page, user.username)
    page.goto(f"/person/{person.pk}/")


# ---------------------------------------------------------------------------------------------
# Two operators on one profile


def test_saving_over_a_colleagues_edit_keeps_the_fields_this_operator_did_not_touch(
    page, editor, ana
):
    services.person_set_fields(
        person=ana.person, actor=Actor.system("tests"), fields={"firstName": "Lucas"}
    )
    open_person(page, editor, ana.person)
    other = page.context.new_page()
    other.goto(f"/person/{ana.person.pk}/")

    # Tab A renames; tab B, still on the version before, changes only the city.
    other.get_by_test_id("edit-overview").click()
    other.get_by_label("First name").fill("Lucas-A")
    other.locator("#overview").get_by_role("button", name="Save basic information").click()
    expect(other.locator("#overview").get_by_role("status")).to_have_text("Saved.")

    page.get_by_test_id("edit-overview").click()
    page.get_by_label("City").fill("Split")
    with page.expect_response(re.compile(r"/overview$")) as saved:
        page.locator("#overview").get_by_role("button", name="Save basic information").click()
    assert saved.value.status == 200
    expect(page.get_by_test_id("edit-conflict")).to_have_count(0)
    expect(page.get_by_test_id("overview-read")).to_contain_text("Lucas-A")
    stored = Person.objects.get(pk=ana.person.pk)
    assert (stored.first_name, stored.city) == ("Lucas-A", "Split")


def test_only_a_field_both_operators_changed_is_a_conflict(page, editor, ana):
    open_person(page, editor, ana.person)
    services.person_set_fields(
        person=ana.person,
        actor=Actor.system("crm"),
        fields={"firstName": "Anamarija", "city": "Osijek"},
    )
    page.get_by_test_id("edit-overview").click()
    page.get_by_label("First name").fill("Anica")
    page.get_by_label("Middle name").fill("Marija")
    with page.expect_response(re.compile(r"/overview$")) as refused:
        page.locator("#overview").get_by_role("button", name="Save basic information").click()
    assert refused.value.status == 422
    conflict = page.get_by_test_id("edit-conflict")
    rows = conflict.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("First name")
    expect(rows.first).to_contain_text("Anamarija")
    expect(rows.first).to_contain_text("Anica")
    expect(conflict).to_be_focused()
    # The colleague's city is in the form now; the operator's own values are kept.
    expect(page.get_by_label("City")).to_have_value("Osijek")
    expect(page.get_by_label("Middle name")).to_have_value("Marija")
    conflict.get_by_test_id("reapply").click()
    expect(page.locator("#overview").get_by_role("status")).to_have_text("Saved.")
    stored = Person.objects.get(pk=ana.person.pk)
    assert (stored.first_name, stored.middle_name, stored.city) == ("Anica", "Marija", "Osijek")


# ---------------------------------------------------------------------------------------------
# Failed in-place writes


@pytest.mark.parametrize("debug", [False, True], ids=["debug off", "debug on"])
def test_a_demoted_editor_is_told_in_place_and_keeps_what_was_typed(
    page, editor, ana, settings, debug
):
    # With DEBUG on, django-htmx's debug script would put the error page in place of this one.
    settings.DEBUG = debug
    errors = console_errors(page)
    open_person(page, editor, ana.person)
    editor.groups.set([Group.objects.get(name=roles.VIEWER)])
    page.get_by_label("Add tags").fill("gold")
    page.get_by_role("button", name="Add tag").click()
    message = page.locator("#tags").get_by_test_id("request-error")
    expect(message).to_contain_text("You may not make this change")
    expect(message).to_have_attribute("role", "alert")
    expect(page.get_by_label("Add tags")).to_have_value("gold")
    expect(page.get_by_test_id("person-name")).to_have_text("Ana Horvat")
    # The tag suggestions fetched as the name was typed leave the message where it is.
    page.wait_for_timeout(400)
    expect(message).to_contain_text("You may not make this change")
    assert not [e for e in errors if "Response Status Error" in e], errors


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (404, "no longer exists"),
        (409, "Someone else changed this"),
        (500, "could not save this (error 500)"),
        (502, "could not save this (error 502)"),
    ],
)
def test_a_refused_write_says_why_next_to_its_form(page, editor, ana, status, text):
    open_person(page, editor, ana.person)
    page.route("**/identities/add", lambda route: route.fulfill(status=status, body="<h1>x</h1>"))
    page.get_by_label("Add phone").fill("+385 91 111 2222")
    page.get_by_role("button", name="Add phone").click()
    message = page.locator("#identities").get_by_test_id("request-error")
    expect(message).to_contain_text(text)
    expect(page.get_by_label("Add phone")).to_have_value("+385 91 111 2222")
    expect(page.locator("h1")).to_have_text("Ana Horvat")


def test_a_network_failure_and_a_timeout_are_told_in_place(page, editor, ana):
    open_person(page, editor, ana.person)
    page.route("**/tags/add", lambda route: route.abort())
    page.get_by_label("Add tags").fill("gold")
    page.get_by_role("button", name="Add tag").click()
    message = page.locator("#tags").get_by_test_id("request-error")
    expect(message).to_contain_text("could not be reached")
    expect(page.get_by_label("Add tags")).to_have_value("gold")
    page.unroute("**/tags/add")

    # An answer that never comes: htmx gives up after its timeout.
    page.evaluate("htmx.config.timeout = 300")
    held: list = []
    page.route("**/tags/add", lambda route: held.append(route))
    page.get_by_role("button", name="Add tag").click()
    expect(message).to_contain_text("did not answer in time")
    expect(page.get_by_label("Add tags")).to_have_value("gold")
    page.unroute_all(behavior="ignoreErrors")


def test_a_form_with_errors_logs_nothing_to_the_console(page, editor, ana):
    errors = console_errors(page)
    open_person(page, editor, ana.person)
    page.get_by_label("Add phone").fill("12ab")
    page.get_by_role("button", name="Add phone").click()
    expect(page.locator("#add-phone-error")).to_be_visible()
    assert not [e for e in errors if "Response Status Error" in e], errors


# ---------------------------------------------------------------------------------------------
# Focus and what is read out


def test_card_actions_keep_the_focus_on_the_card_and_say_what_they_did(page, editor, ana):
    open_person(page, editor, ana.person)
    tablet = card(page, "push-ana-tablet")
    tablet.get_by_role("button", name="Make primary").click()
    result = tablet.get_by_test_id("card-result")
    expect(result).to_have_text(re.compile("now the primary device"))
    expect(result).to_be_focused()
    expect(live_status(page)).to_contain_text("now the primary device")

    tablet.get_by_role("button", name="Unset primary").click()
    expect(result).to_have_text(re.compile("no longer the primary device"))
    expect(result).to_be_focused()

    tablet.get_by_role("button", name="Turn push off").click()
    expect(result).to_have_text(re.compile("Push is off"))
    expect(result).to_be_focused()
    expect(live_status(page)).to_contain_text("Push is off")
    tablet.get_by_role("button", name="Turn push on").click()
    expect(result).to_have_text(re.compile("Push is on"))

    tablet.get_by_text("Edit additional data").click()
    tablet.get_by_label(re.compile("additionalData")).fill('{"tier": "silver"}')
    tablet.get_by_role("button", name="Save additional data").click()
    expect(result).to_have_text(re.compile("Additional data saved"))
    expect(result).to_be_focused()


def test_a_remote_logout_updates_the_count_and_reads_out_where_the_device_went(page, editor, ana):
    open_person(page, editor, ana.person)
    expect(page.locator("#installations-count")).to_have_text("2")
    card(page, "push-ana-tablet").get_by_role("button", name="Remote logout…").click()
    page.get_by_role("dialog", name="Log this installation out?").get_by_role(
        "button", name="Log out"
    ).click()
    expect(page.get_by_test_id("installation-card")).to_have_count(1)
    expect(page.locator("#installations-count")).to_have_text("1")
    status = page.locator("#installations-status p")
    expect(status).to_contain_text("Logged out push-ana-tablet")
    expect(status).to_be_focused()
    expect(live_status(page)).to_contain_text("Logged out push-ana-tablet")

    # The last card leaves: the count says 0 and the list says so.
    card(page, "push-ana-phone").get_by_role("button", name="Remote logout…").click()
    page.get_by_role("dialog", name="Log this installation out?").get_by_role(
        "button", name="Log out"
    ).click()
    expect(page.get_by_test_id("installation-card")).to_have_count(0)
    expect(page.locator("#installations-count")).to_have_text("0")
    expect(page.locator("#installation-cards")).to_have_text("No push installations.")
    expect(status).to_contain_text("Logged out push-ana-phone")


def test_section_actions_put_the_focus_on_their_result(page, editor, ana):
    open_person(page, editor, ana.person)
    # A contact added, then removed.
    page.get_by_label("Add phone").fill("+385 91 999 8888")
    page.get_by_role("button", name="Add phone").click()
    expect(live_status(page)).to_contain_text("Phone +385 91 999 8888 added")
    expect(page.get_by_label("Add phone")).to_be_focused()
    page.get_by_role("button", name="Remove phone +385 91 999 8888").click()
    removed = page.locator("#identities").get_by_test_id("section-result")
    expect(removed).to_have_text("Phone +385 91 999 8888 removed.")
    expect(removed).to_be_focused()

    # An attribute saved.
    visits = page.locator('[data-attribute="Visits"]')
    page.get_by_test_id("edit-attributes").click()
    visits.get_by_role("spinbutton").fill("7")
    visits.get_by_role("button", name="Save Visits").click()
    saved = visits.get_by_test_id("section-result")
    expect(saved).to_have_text("Visits saved.")
    expect(saved).to_be_focused()
    expect(live_status(page)).to_contain_text("Visits saved.")

    # Basic information saved (back to the read view, the focus on its Edit), then refused.
    overview = page.locator("#overview")
    edit_overview = page.get_by_test_id("edit-overview")
    edit_overview.click()
    overview.get_by_role("button", name="Save basic information").click()
    expect(overview.get_by_role("status")).to_have_text("Saved.")
    expect(edit_overview).to_be_focused()
    expect(live_status(page)).to_contain_text("Saved.")
    edit_overview.click()
    page.get_by_label("Birth date").fill("2999-01-01")
    overview.get_by_role("button", name="Save basic information").click()
    expect(page.get_by_label("Birth date")).to_be_focused()
    expect(overview).to_contain_text("Birth date cannot be in the future")
    expect(overview).not_to_contain_text("birthDate")


# ---------------------------------------------------------------------------------------------
# Wording: labels, phones, JSON, the other person


def test_errors_speak_of_labels_formatted_numbers_and_the_other_persons_name(page, editor, ana):
    other = services.person_create(
        actor=Actor.system("tests"),
        fields={"firstName": "Marko", "lastName": "Babić"},
        phones=["+385 91 702 8940"],
    )
    open_person(page, editor, ana.person)
    page.get_by_label("Add phone").fill("385917028940")
    page.get_by_role("button", name="Add phone").click()
    error = page.locator("#add-phone-error")
    expect(error).to_have_text(
        f"Phone +385 91 702 8940 already belongs to person {other.pk}, Marko Babić."
    )
    expect(page.locator("#identities")).to_contain_text("already belongs", use_inner_text=True)
    assert page.locator("#identities").inner_text().count("already belongs") == 1
    expect(page.get_by_label("Add phone")).to_be_focused()
    expect(error.get_by_role("link", name="Marko Babić")).to_have_attribute(
        "href", f"/person/{other.pk}/"
    )


def test_a_national_phone_asks_for_the_country_code_and_a_known_one_is_already_there(
    page, editor, ana, settings
):
    settings.PHONE_DEFAULT_REGION = None
    open_person(page, editor, ana.person)
    phone = page.get_by_label("Add phone")
    phone.fill("091 999 8888")
    page.get_by_role("button", name="Add phone").click()
    expect(page.locator("#add-phone-error")).to_contain_text(
        "Add the country code, for example +385 91 999 8888"
    )
    expect(phone).to_have_value("091 999 8888")

    phone.fill("+385 1 6419 710")
    page.get_by_role("button", name="Add phone").click()
    expect(live_status(page)).to_contain_text("Phone +385 1 6419 710 is already there.")
    expect(page.locator("#identities").get_by_test_id("section-result")).to_have_text(
        "Phone +385 1 6419 710 is already there."
    )

    page.get_by_label("Add tags").fill("VIP")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("#tags").get_by_test_id("section-result")).to_have_text(
        "Tag VIP is already there."
    )
    expect(live_status(page)).to_contain_text("Tag VIP is already there.")


def test_an_empty_number_is_not_saved_as_a_removal(page, editor, ana):
    services.person_set_custom_attributes(
        person=ana.person, actor=Actor.system("tests"), values={"Visits": 42}
    )
    open_person(page, editor, ana.person)
    visits = page.locator('[data-attribute="Visits"]')
    page.get_by_test_id("edit-attributes").click()
    visits.get_by_role("spinbutton").fill("")
    visits.get_by_role("button", name="Save Visits").click()
    expect(visits.get_by_role("alert")).to_have_text(
        "Visits is empty, so nothing was saved. To remove its value, use “Remove value”."
    )
    expect(visits.get_by_role("spinbutton")).to_be_focused()
    assert "Visits" in custom_attribute_values(Person.objects.get(pk=ana.person.pk))
    visits.get_by_role("button", name="Remove value of Visits").click()
    expect(visits.get_by_test_id("section-result")).to_have_text("Visits removed.")
    assert "Visits" not in custom_attribute_values(Person.objects.get(pk=ana.person.pk))


def test_additional_data_history_and_editor_spell_values_as_json(page, editor, ana):
    open_person(page, editor, ana.person)
    phone_card = card(page, "push-ana-phone")
    phone_card.get_by_text("Edit additional data").click()
    editor_box = phone_card.get_by_label(re.compile("additionalData"))
    editor_box.fill('{"tier": "gold", "beta": true, "visits": 3}')
    phone_card.get_by_role("button", name="Save additional data").click()
    facts = phone_card.locator("dl.kv")
    expect(facts).to_contain_text("betatrue")
    expect(facts).not_to_contain_text("True")
    expect(page.locator("#history")).not_to_contain_text("True")

    phone_card.get_by_text("Edit additional data").click()
    phone_card.get_by_label(re.compile("additionalData")).fill('{"x": {"y": 1}}')
    phone_card.get_by_role("button", name="Save additional data").click()
    expect(phone_card.get_by_role("alert")).to_contain_text(
        "must be a string, number, boolean or date, not an object"
    )
    expect(phone_card).not_to_contain_text("dict")


def test_the_new_person_form_suggests_tags_and_takes_phones_by_comma(page, editor, ana):
    sign_in(page, editor.username)
    page.goto("/person/new/")
    expect(page.get_by_text("One per line or separated by commas").first).to_be_visible()
    page.get_by_label("Tags").fill("news")
    expect(page.locator('#tag-suggestions option[value="newsletter"]')).to_have_count(1)
    page.get_by_label("Phones").fill("+44 20 7946 0018, +385 91 999 8888")
    page.get_by_label("First name").fill("Nova")
    page.get_by_role("button", name="Create person").click()
    expect(page.get_by_test_id("person-name")).to_have_text("Nova")
    expect(page.locator("#identities")).to_contain_text("+44 20 7946 0018")
    expect(page.locator("#identities")).to_contain_text("+385 91 999 8888")


def test_a_viewer_reads_labels_as_an_editor_does(page, viewer, ana):
    open_person(page, viewer, ana.person)
    overview = page.locator("#overview")
    expect(overview).to_contain_text("Customer")
    expect(overview).not_to_contain_text("CUSTOMER")


def test_admin_names_people_as_the_ui_does_and_its_list_fits(page, administrator, ana):
    nameless = services.person_create(actor=Actor.system("tests"), phones=["+385 91 702 8940"])
    sign_in(page, administrator.username)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/admin/people/person/")
    results = page.locator("#result_list")
    expect(results).to_contain_text(f"Person {nameless.pk}")
    expect(results).not_to_contain_text("(no name)")
    expect(results).to_contain_text("+385 91 702 8940")
    expect(results).not_to_contain_text("385917028940")
    # The table fits its box beside the filters: no column hides under them.
    table_right, box_right = page.evaluate(
        """[document.querySelector("#result_list").getBoundingClientRect().right,
            document.querySelector("#changelist .results").getBoundingClientRect().right]"""
    )
    assert table_right <= box_right, (table_right, box_right)
    page.goto("/admin/people/contactidentity/")
    expect(page.locator("#result_list")).to_contain_text("+385 91 702 8940")
