"""The person page: every section, its in-place actions, and a fixed number of queries."""

import re
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse

from people import services
from people.apply import custom_attribute_values
from people.history import Actor
from people.models import Event, IdentityKind, Person
from tests.factories import InstallationFactory
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def detail(client, person):
    return client.get(reverse("people:detail", args=[person.pk])).content.decode()


def test_the_person_page_shows_every_section(editor_client, profile):
    html = detail(editor_client, profile.person)
    for text in (
        'id="overview"',
        'id="contacts"',
        'id="attributes"',
        'id="history"',
        "crm-42",
        "+385 1 6419 710",
        "ana.horvat@example.com",
        "push-ana-phone",
        "push-ana-tablet",
        "iPad Air",
        "Shop Android",
        "vip",
        "Annie",
        "12.50",
        "Person created",
    ):
        assert text in html, text


def test_nothing_on_the_page_fetches_the_header_or_the_history_after_a_change(
    editor_client, profile
):
    # A change answers with the header and the history itself (out of band): no listener
    # fetches them again on an event.
    html = detail(editor_client, profile.person)
    assert "personChanged" not in html
    assert "hx-swap-oob" not in html
    for target in ("history", "person-header"):
        response = editor_client.get(
            reverse(
                f"people:{'history' if target == 'history' else 'header'}", args=[profile.person.pk]
            ),
            **HTMX,
        )
        assert f'id="{target}"' in response.content.decode()
        assert "hx-swap-oob" not in response.content.decode()


def test_an_unknown_person_is_a_404(editor_client):
    assert editor_client.get(reverse("people:detail", args=[999999])).status_code == 404


def assert_changed_out_of_band(html, name):
    """The answer of a change carries the person header (with ``name``) and the first page
    of history, each once, as out-of-band swaps."""
    (header,) = re.findall(r'<header id="person-header"[^>]*>', html)
    (history,) = re.findall(r'<section id="history"[^>]*>', html)
    assert 'hx-swap-oob="true"' in header and 'hx-swap-oob="true"' in history
    assert f'data-testid="person-name">{name}</h1>' in html
    assert 'data-testid="history-row"' in html


def grow(profile, actor, n):
    """Add ``n`` more installations, tags, events and attribute values to the profile."""
    person = profile.person
    for i in range(n):
        InstallationFactory(person=person, application=profile.app)
        services.person_add_tags(person=person, actor=actor, names=[f"tag-{n}-{i}"])
    services.person_set_custom_attributes(
        person=person,
        actor=actor,
        values={"Visits": n, "Newsletter": True, "Orders": [{"sku": "A", "qty": 1}] * n},
    )


def test_the_person_page_runs_the_same_number_of_queries_however_big_the_profile(
    editor_client, profile, system_actor, django_assert_max_num_queries, django_assert_num_queries
):
    url = reverse("people:detail", args=[profile.person.pk])
    editor_client.get(url)  # warm the session and permission caches alike for both runs
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert editor_client.get(url).status_code == 200
    grow(profile, system_actor, 25)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = editor_client.get(url)
    html = response.content.decode()
    assert html.count('data-testid="installation-card"') == 27
    assert "tag-25-24" in html
    # Session, user, the user's permissions (two), then the page: on PostgreSQL one statement
    # (related rows, first history page and definitions as JSON), elsewhere one per relation.
    assert len(small.captured_queries) <= (5 if connection.vendor == "postgresql" else 11)


def test_saving_the_overview_changes_the_person_and_records_an_event(editor_client, profile):
    person = profile.person
    data = {
        "version": person.version,
        "type": "LEAD",
        "firstName": "Anna",
        "lastName": "Horvat",
        "externalId": "crm-42",
        "city": "Split",
        "preferredLanguage": "hr",
    }
    response = editor_client.post(reverse("people:overview", args=[person.pk]), data, **HTMX)
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    assert "HX-Trigger" not in response
    assert_changed_out_of_band(response.content.decode(), "Anna Horvat")
    person.refresh_from_db()
    assert (person.first_name, person.city, person.type) == ("Anna", "Split", "LEAD")
    event = person.events.first()
    assert event.actor_label == "eddie.editor" and event.source == "UI"
    assert event.changes["firstName"] == {"before": "Ana", "after": "Anna"}


def test_an_invalid_overview_value_is_shown_at_its_field_and_nothing_is_saved(
    editor_client, profile
):
    person = profile.person
    data = {
        "version": person.version,
        "type": "CUSTOMER",
        "firstName": "Ana",
        "middleName": "x" * 51,
        "externalId": "crm-42",
    }
    response = editor_client.post(reverse("people:overview", args=[person.pk]), data, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    # In the form's words: its label, not the API's field name.
    assert "Middle name must be at most 50 characters." in html
    assert "middleName must" not in html
    assert 'aria-invalid="true"' in html
    person.refresh_from_db()
    assert person.middle_name == ""


def test_an_overview_edit_of_an_old_version_is_refused(editor_client, profile, system_actor):
    person = profile.person
    old_version = person.version
    services.person_set_fields(person=person, actor=system_actor, fields={"city": "Rijeka"})
    data = {
        "version": old_version,
        "type": "CUSTOMER",
        "firstName": "Someone",
        "externalId": "crm-42",
    }
    response = editor_client.post(reverse("people:overview", args=[person.pk]), data, **HTMX)
    assert response.status_code == 422
    assert "was changed since version" in response.content.decode()
    person.refresh_from_db()
    assert person.first_name == "Ana"


def test_an_externalid_of_another_person_links_to_that_person(editor_client, profile, system_actor):
    other = services.person_create(actor=system_actor, fields={"externalId": "crm-77"})
    data = {"version": profile.person.version, "type": "CUSTOMER", "externalId": "crm-77"}
    response = editor_client.post(
        reverse("people:overview", args=[profile.person.pk]), data, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "already belongs to person" in html
    assert f'href="{reverse("people:detail", args=[other.pk])}"' in html


def test_a_plain_overview_post_redirects_back_to_the_page(editor_client, profile):
    data = {
        "version": profile.person.version,
        "type": "CUSTOMER",
        "firstName": "Ann",
        "externalId": "crm-42",
    }
    response = editor_client.post(reverse("people:overview", args=[profile.person.pk]), data)
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[profile.person.pk]) + "#overview"


def test_a_phone_is_normalized_on_add_and_removed(editor_client, profile):
    person = profile.person
    url = reverse("people:identity_add", args=[person.pk])
    response = editor_client.post(url, {"kind": "phone", "value": "+44 20 7946 0018"}, **HTMX)
    assert response.status_code == 200
    assert "+44 20 7946 0018" in response.content.decode()
    assert person.identities.filter(value="442079460018").exists()
    response = editor_client.post(
        reverse("people:identity_remove", args=[person.pk]),
        {"kind": "phone", "value": "442079460018"},
        **HTMX,
    )
    assert response.status_code == 200
    assert not person.identities.filter(value="442079460018").exists()


def test_an_invalid_phone_is_refused_at_the_field(editor_client, profile):
    url = reverse("people:identity_add", args=[profile.person.pk])
    response = editor_client.post(url, {"kind": "phone", "value": "12ab"}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "is not a valid phone number" in html and 'id="add-phone-error"' in html
    assert 'value="12ab"' in html


def test_an_email_is_stored_lower_case_and_removed(editor_client, profile):
    person = profile.person
    url = reverse("people:identity_add", args=[person.pk])
    editor_client.post(url, {"kind": "email", "value": "Second@Example.COM"}, **HTMX)
    assert person.identities.filter(value="second@example.com").exists()
    editor_client.post(
        reverse("people:identity_remove", args=[person.pk]),
        {"kind": "email", "value": "second@example.com"},
        **HTMX,
    )
    assert not person.identities.filter(value="second@example.com").exists()


def test_a_phone_owned_by_someone_else_is_refused_with_a_link_to_them(
    editor_client, profile, system_actor
):
    other = services.person_create(actor=system_actor, phones=["+385 91 234 5678"])
    url = reverse("people:identity_add", args=[profile.person.pk])
    response = editor_client.post(url, {"kind": "phone", "value": "091 234 5678x"}, **HTMX)
    assert response.status_code == 422  # not a number at all: PHONE_INVALID
    response = editor_client.post(url, {"kind": "phone", "value": "+385 91 234 5678"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert f'href="{reverse("people:detail", args=[other.pk])}"' in html
    # Once, as the page shows the number, with the other person's name as the link.
    assert html.count("already belongs") == 1
    assert "Phone +385 91 234 5678 already belongs to <a href=" in html
    assert f'data-testid="merge-link">person {other.pk}</a>.' in html
    assert "385912345678 already" not in html
    assert not profile.person.identities.filter(value="385912345678").exists()


def test_an_unknown_identity_kind_is_refused(editor_client, profile):
    url = reverse("people:identity_add", args=[profile.person.pk])
    assert editor_client.post(url, {"kind": "fax", "value": "1"}, **HTMX).status_code == 403


def test_tags_are_added_and_removed_in_place(editor_client, profile):
    person = profile.person
    response = editor_client.post(
        reverse("people:tags_add", args=[person.pk]), {"name": "gold, Early adopter"}, **HTMX
    )
    assert response.status_code == 200
    assert {t.name for t in person.tags.all()} == {"vip", "newsletter", "gold", "Early adopter"}
    response = editor_client.post(
        reverse("people:tags_remove", args=[person.pk]), {"name": "vip"}, **HTMX
    )
    html = response.content.decode()
    assert "Remove tag vip" not in html and "Remove tag gold" in html
    assert person.events.first().changes["tags"] == {"added": [], "removed": ["vip"]}


OOB_VERSION = re.compile(
    r'<input type="hidden" name="version" id="person-version" value="(\d+)" hx-swap-oob="true">'
)


def section_change(profile, section: str) -> tuple[str, dict[str, str]]:
    """A tag, contact or attribute change of the person page: its URL and form data."""
    person = profile.person
    if section == "tags":
        return reverse("people:tags_add", args=[person.pk]), {"name": "gold"}
    if section == "tags_remove":
        return reverse("people:tags_remove", args=[person.pk]), {"name": "vip"}
    if section == "phone":
        url = reverse("people:identity_add", args=[person.pk])
        return url, {"kind": "phone", "value": "+385 91 222 3333"}
    if section == "email_remove":
        url = reverse("people:identity_remove", args=[person.pk])
        email = person.identities.get(kind=IdentityKind.EMAIL).value
        return url, {"kind": "email", "value": email}
    nickname = profile.definitions["Nickname"].pk
    if section == "attribute_remove":
        return reverse("people:attribute_remove", args=[person.pk, nickname]), {}
    return reverse("people:attribute_set", args=[person.pk, nickname]), {"value": "Annushka"}


SECTIONS = ["tags", "tags_remove", "phone", "email_remove", "attribute", "attribute_remove"]


@pytest.mark.parametrize("section", SECTIONS)
def test_a_section_change_from_the_forms_version_moves_the_form_on(editor_client, profile, section):
    """A tag, contact or attribute change sends the version the basic-information form edits;
    when the change started from it, the answer carries the version it made, out of band, and
    saving that form right after is not refused as an edit of the version before."""
    person = profile.person
    url, data = section_change(profile, section)
    before = Person.objects.get(pk=person.pk).version
    response = editor_client.post(url, {**data, "version": before}, **HTMX)
    assert response.status_code == 200
    version = Person.objects.get(pk=person.pk).version
    assert version == before + 1
    oob = OOB_VERSION.search(response.content.decode())
    assert oob is not None and int(oob.group(1)) == version
    saved = editor_client.post(
        reverse("people:overview", args=[person.pk]),
        {"version": oob.group(1), "type": "CUSTOMER", "firstName": "Ana", "city": "Rijeka"},
        **HTMX,
    )
    assert saved.status_code == 200 and "Saved." in saved.content.decode()


@pytest.mark.parametrize("section", SECTIONS)
def test_a_section_change_after_someone_elses_edit_keeps_the_forms_version(
    editor_client, profile, section
):
    """Someone else changed the profile after the page was shown: the operator's own tag,
    contact or attribute change must not move the form past that edit, or the next save of
    the basic information would write over it unseen. The save is refused with the conflict."""
    person = profile.person
    url, data = section_change(profile, section)
    shown = Person.objects.get(pk=person.pk).version
    services.person_set_fields(person=person, actor=Actor.system(), fields={"firstName": "Anica"})
    response = editor_client.post(url, {**data, "version": shown}, **HTMX)
    assert response.status_code == 200
    assert Person.objects.get(pk=person.pk).version == shown + 2
    assert OOB_VERSION.search(response.content.decode()) is None
    saved = editor_client.post(
        reverse("people:overview", args=[person.pk]),
        {"version": shown, "type": "CUSTOMER", "firstName": "Ana", "city": "Rijeka"},
        **HTMX,
    )
    assert saved.status_code == 422 and "was changed since version" in saved.content.decode()
    assert Person.objects.get(pk=person.pk).first_name == "Anica"


def test_a_section_change_that_changes_nothing_moves_no_version(editor_client, profile):
    """Adding a tag the person has makes no new version: the form keeps the one it holds,
    even when someone else's edit made the version after it."""
    person = profile.person
    shown = Person.objects.get(pk=person.pk).version
    services.person_set_fields(person=person, actor=Actor.system(), fields={"firstName": "Anica"})
    response = editor_client.post(
        reverse("people:tags_add", args=[person.pk]), {"name": "vip", "version": shown}, **HTMX
    )
    assert response.status_code == 200
    assert Person.objects.get(pk=person.pk).version == shown + 1
    assert OOB_VERSION.search(response.content.decode()) is None


def test_a_section_change_without_the_forms_version_moves_nothing(editor_client, profile):
    """A viewer's page has no basic-information form, and a plain client sends no version."""
    url, data = section_change(profile, "tags")
    response = editor_client.post(url, data, **HTMX)
    assert response.status_code == 200
    assert OOB_VERSION.search(response.content.decode()) is None


def test_the_page_sends_the_forms_version_with_every_section_change(editor_client, profile):
    """Every tag, contact and attribute form sits in a section that includes the version
    input of the basic-information form (htmx's hx-include, inherited by the forms)."""
    html = editor_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    assert html.count('id="person-version"') == 1
    sections = re.findall(r'<div hx-include="#person-version" id="([\w-]+)"', html)
    assert "tags" in sections and "identities" in sections
    attribute_rows = re.findall(r'id="(attribute-\d+)" class="attr-row', html)
    assert attribute_rows and set(attribute_rows) <= set(sections)


def test_a_refused_section_change_brings_no_version(editor_client, profile):
    shown = profile.person.version
    response = editor_client.post(
        reverse("people:tags_add", args=[profile.person.pk]),
        {"name": "x" * 300, "version": shown},
        **HTMX,
    )
    assert response.status_code == 422
    assert 'id="person-version"' not in response.content.decode()


def test_a_too_long_tag_is_refused_at_the_field(editor_client, profile):
    response = editor_client.post(
        reverse("people:tags_add", args=[profile.person.pk]), {"name": "t" * 257}, **HTMX
    )
    assert response.status_code == 422
    assert "at most 256 characters" in response.content.decode()


def test_tag_suggestions_list_existing_tags_by_prefix(editor_client, profile):
    response = editor_client.get(reverse("people:tag_suggestions"), {"name": "NEW"})
    assert '<option value="newsletter">' in response.content.decode()
    response = editor_client.get(reverse("people:tag_suggestions"), {"tags": "vip, ne"})
    assert '<option value="vip, newsletter">' in response.content.decode()
    response = editor_client.get(reverse("people:tag_suggestions"), {"name": "zzz"})
    assert "<option" not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "typed", "stored"),
    [
        ("Nickname", "Nina", "Nina"),
        ("Visits", "42", 42),
        ("Balance", "12.5", "12.5"),
        ("Anniversary", "2020-02-29", "2020-02-29"),
        ("LastSeen", "2026-01-02T03:04:05", "2026-01-02T03:04:05Z"),
    ],
)
def test_a_custom_attribute_is_set_from_its_typed_input(
    editor_client, profile, name, typed, stored
):
    definition = profile.definitions[name]
    url = reverse("people:attribute_set", args=[profile.person.pk, definition.pk])
    response = editor_client.post(url, {"value": typed}, **HTMX)
    assert response.status_code == 200
    values = custom_attribute_values(Person.objects.get(pk=profile.person.pk))
    from people import custom_attributes

    assert str(custom_attributes.serialize_value(definition, values[name])) == str(stored)


def test_a_boolean_attribute_is_a_checkbox(editor_client, profile):
    definition = profile.definitions["Newsletter"]
    url = reverse("people:attribute_set", args=[profile.person.pk, definition.pk])
    editor_client.post(url, {"value": "true"}, **HTMX)
    assert custom_attribute_values(profile.person)["Newsletter"] is True
    response = editor_client.post(url, {}, **HTMX)
    assert custom_attribute_values(profile.person)["Newsletter"] is False
    assert 'type="checkbox" name="value" value="true" aria' in response.content.decode()


def test_a_decimal_attribute_error_names_the_rule_and_saves_nothing(editor_client, profile):
    definition = profile.definitions["Balance"]
    url = reverse("people:attribute_set", args=[profile.person.pk, definition.pk])
    response = editor_client.post(url, {"value": "12,5abc"}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Balance expects a number such as 12.5, not &#x27;12,5abc&#x27;." in html
    assert 'value="12,5abc"' in html
    assert custom_attribute_values(profile.person)["Balance"] == __import__("decimal").Decimal(
        "12.50"
    )


@pytest.mark.parametrize("name", ["Nickname", "Balance", "Visits"])
def test_saving_an_empty_value_asks_for_remove_and_removes_nothing(editor_client, profile, name):
    """A number input is empty too when what was typed is not a number: saving it must not
    remove the value. The answer says so and points at the Remove value button."""
    services.person_set_custom_attributes(
        person=profile.person, actor=Actor.system("tests"), values={"Visits": 42}
    )
    definition = profile.definitions[name]
    url = reverse("people:attribute_set", args=[profile.person.pk, definition.pk])
    response = editor_client.post(url, {"value": "  "}, **HTMX)
    assert response.status_code == 422
    html = unescape(response.content.decode())
    said = f"{name} is empty, so nothing was saved. To remove its value, use “Remove value”."
    assert said in html
    assert name in custom_attribute_values(profile.person)
    assert f'aria-label="Remove value of {name}">Remove value</button>' in html


def test_remove_value_removes_the_attribute(editor_client, profile):
    definition = profile.definitions["Nickname"]
    url = reverse("people:attribute_set", args=[profile.person.pk, definition.pk])
    editor_client.post(url, {"value": "Back"}, **HTMX)
    response = editor_client.post(
        reverse("people:attribute_remove", args=[profile.person.pk, definition.pk]), **HTMX
    )
    assert response.status_code == 200
    assert "Nickname" not in custom_attribute_values(profile.person)


SHOWN = re.compile(r'name="shown" value="([^"]*)"')


def shown_in(html: str, definition) -> str:
    """The value the attribute row's editor shows, as it sends it back."""
    row = html.split(f'id="attribute-{definition.pk}"', 1)[1]
    return unescape(SHOWN.search(row).group(1))


def api_sets(profile, **values) -> None:
    """Automation changes custom attributes while the operator's page is open."""
    services.person_set_custom_attributes(
        person=profile.person, actor=Actor.system("crm"), values=values
    )


def opened(editor_client, profile, name: str) -> str:
    """The person page is shown; what the row of ``name`` sends back as shown."""
    page = editor_client.get(reverse("people:detail", args=[profile.person.pk]))
    return shown_in(page.content.decode(), profile.definitions[name])


def save_attribute(editor_client, profile, name: str, data: dict):
    definition = profile.definitions[name]
    url = reverse("people:attribute_set", args=[profile.person.pk, definition.pk])
    return editor_client.post(url, data, **HTMX)


@pytest.mark.parametrize(
    ("name", "meanwhile", "typed"),
    [
        ("Nickname", "Ann", {"value": "Anka"}),
        ("Nickname", None, {"value": "Anka"}),  # removed in between
        ("Balance", 15, {"value": "20"}),
        # A list: another item added in between would be lost with the operator's rows.
        (
            "Orders",
            [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": 5}],
            {"rows": "1", "row-0-sku": "A-1", "row-0-qty": "3"},
        ),
    ],
)
def test_a_value_changed_since_the_page_showed_it_is_not_overwritten(
    editor_client, profile, name, meanwhile, typed
):
    if name == "Orders":
        api_sets(profile, Orders=[{"sku": "A-1", "qty": 1}])
    shown = opened(editor_client, profile, name)
    api_sets(profile, **{name: meanwhile})
    stored = custom_attribute_values(profile.person).get(name)

    response = save_attribute(editor_client, profile, name, {**typed, "shown": shown})

    html = response.content.decode()
    assert response.status_code == 422
    assert f"{name} was changed since the page showed it" in unescape(html)
    assert custom_attribute_values(profile.person).get(name) == stored
    # The row now sends the stored value as shown: saving again writes the typed one.
    shown_now = shown_in(html, profile.definitions[name])
    again = save_attribute(editor_client, profile, name, {**typed, "shown": shown_now})
    assert again.status_code == 200
    assert custom_attribute_values(profile.person).get(name) != stored


def test_removing_a_value_changed_since_the_page_showed_it_is_refused(editor_client, profile):
    shown = opened(editor_client, profile, "Nickname")
    api_sets(profile, Nickname="Ann")
    definition = profile.definitions["Nickname"]
    response = editor_client.post(
        reverse("people:attribute_remove", args=[profile.person.pk, definition.pk]),
        {"shown": shown},
        **HTMX,
    )
    assert response.status_code == 422
    assert custom_attribute_values(profile.person)["Nickname"] == "Ann"


@pytest.mark.parametrize("meanwhile", ["Annie", "Anka"])
def test_a_value_unchanged_or_changed_to_the_same_is_saved(editor_client, profile, meanwhile):
    """Nothing changed since the page showed it (or the same change): no conflict."""
    shown = opened(editor_client, profile, "Nickname")
    api_sets(profile, Nickname=meanwhile)
    response = save_attribute(editor_client, profile, "Nickname", {"value": "Anka", "shown": shown})
    assert response.status_code == 200
    assert custom_attribute_values(profile.person)["Nickname"] == "Anka"


def test_other_attributes_changed_meanwhile_are_no_conflict(editor_client, profile):
    shown = opened(editor_client, profile, "Nickname")
    api_sets(profile, Balance=99)
    response = save_attribute(editor_client, profile, "Nickname", {"value": "Anka", "shown": shown})
    assert response.status_code == 200


def test_a_decimal_is_shown_as_stored_and_saving_from_it_is_no_conflict(editor_client, profile):
    """12.50 is stored and shown as 12.50 (the API's form of it)."""
    shown = opened(editor_client, profile, "Balance")
    assert shown == '"12.50"'
    response = save_attribute(editor_client, profile, "Balance", {"value": "13", "shown": shown})
    assert response.status_code == 200


def test_a_save_without_what_the_editor_showed_writes_as_before(editor_client, profile):
    """A plain client that sends no shown value: the last write wins, as before."""
    api_sets(profile, Nickname="Ann")
    response = save_attribute(editor_client, profile, "Nickname", {"value": "Anka"})
    assert response.status_code == 200
    assert custom_attribute_values(profile.person)["Nickname"] == "Anka"


def test_a_list_of_objects_is_edited_as_rows(editor_client, profile):
    definition = profile.definitions["Orders"]
    url = reverse("people:attribute_set", args=[profile.person.pk, definition.pk])
    data = {
        "rows": "2",
        "row-0-sku": "A-1",
        "row-0-qty": "2",
        "row-0-paid": "true",
        "row-1-sku": "B-2",
        "row-1-qty": "",
        "row-1-paid": "",
    }
    response = editor_client.post(url, data, **HTMX)
    assert response.status_code == 200
    assert custom_attribute_values(profile.person)["Orders"] == [
        {"sku": "A-1", "qty": 2, "paid": True},
        {"sku": "B-2"},
    ]
    html = response.content.decode()
    assert 'name="row-2-sku"' in html  # the empty row to add one more
    data = {
        "rows": "3",
        "row-0-sku": "A-1",
        "row-0-qty": "2",
        "row-0-delete": "1",
        "row-1-sku": "B-2",
        "row-2-sku": "C-3",
        "row-2-qty": "x",
    }
    response = editor_client.post(url, data, **HTMX)
    assert response.status_code == 422
    assert "Orders[1].qty expects a whole number" in response.content.decode()
    data["row-2-qty"] = "5"
    editor_client.post(url, data, **HTMX)
    assert custom_attribute_values(profile.person)["Orders"] == [
        {"sku": "B-2"},
        {"sku": "C-3", "qty": 5},
    ]


def test_history_is_newest_first_and_paged(editor_client, profile, system_actor):
    person = profile.person
    for i in range(25):
        services.person_set_fields(person=person, actor=system_actor, fields={"city": f"City {i}"})
    html = detail(editor_client, person)
    assert html.count('data-testid="history-row"') == 20
    assert "City: City 23 → City 24" in html
    assert "Older events" in html
    cursor = html.split("?before=")[1].split("#history")[0].split('"')[0]
    older = editor_client.get(
        reverse("people:history", args=[person.pk]) + f"?before={cursor}", **HTMX
    ).content.decode()
    assert older.count('data-testid="history-row"') == 6
    assert "Person created" in older and "City 24" not in older
    full = editor_client.get(reverse("people:detail", args=[person.pk]) + f"?before={cursor}")
    assert full.content.decode().count('data-testid="history-row"') == 6


def test_no_index_on_a_persons_events_is_on_the_person_alone():
    """event_person_time_idx serves the history and the foreign key (the filtered history
    has its own two, tests/people/test_history_log.py); an index on person_id alone beside
    them is the one PostgreSQL took for a history page, sorting every event."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    on_person = sorted(
        name
        for name, info in constraints.items()
        if info["index"] and info["columns"] and info["columns"][0] == "person_id"
    )
    assert on_person == [
        "event_person_actor_time_idx",
        "event_person_kind_time_idx",
        "event_person_time_idx",
    ]


@pytest.mark.postgres_only
def test_a_long_history_is_read_a_page_at_a_time(editor_client, profile, system_actor):
    """The first page of 3,000 events: the newest 21 from the history index, no sort (at a
    million people PostgreSQL took an index on person_id alone while there was one, above,
    and sorted all of a long history: 160 ms for 50,000 events)."""
    from tests.search.test_explain import plan_nodes, plan_of

    person = profile.person
    Event.objects.bulk_create(
        Event(
            person=person,
            kind="PERSON_UPDATED",
            actor_kind="SYSTEM",
            actor_label="load",
            source="API",
        )
        for _ in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_event")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        html = detail(editor_client, person)
    assert html.count('data-testid="history-row"') == 20
    (page,) = [q["sql"] for q in captured.captured_queries if "people_event" in q["sql"]]
    nodes = list(plan_nodes(plan_of(page, "seqscan")))
    events = [n for n in nodes if n.get("Relation Name") == "people_event"]
    assert [(n["Node Type"], n.get("Index Name")) for n in events] == [
        ("Index Scan", "event_person_time_idx")
    ]
    assert not any(
        n["Node Type"] in ("Sort", "Incremental Sort")
        and any(c.get("Relation Name") == "people_event" for c in plan_nodes(n))
        for n in nodes
    )


def test_a_malformed_history_cursor_shows_the_first_page(editor_client, profile):
    response = editor_client.get(
        reverse("people:history", args=[profile.person.pk]) + "?before=junk", **HTMX
    )
    assert response.status_code == 200
    assert "Person created" in response.content.decode()


def test_the_header_refresh_leaves_the_forms_version_alone(editor_client, profile):
    """The header refreshes after every change, whoever made the version it shows: moving the
    basic-information form on to that version would hide someone else's edit from its save."""
    response = editor_client.get(reverse("people:header", args=[profile.person.pk]), **HTMX)
    assert response.status_code == 200
    assert 'id="person-version"' not in response.content.decode()


def test_events_by_an_operator_name_the_operator(editor_client, profile):
    editor_client.post(reverse("people:tags_add", args=[profile.person.pk]), {"name": "x"}, **HTMX)
    event = Event.objects.filter(person=profile.person).first()
    assert event.actor_label == "eddie.editor"
    assert Actor.operator(event.actor_user).label == "eddie.editor"


@pytest.mark.parametrize("bound", [True, False], ids=["with errors", "initial values"])
def test_the_basic_information_fields_are_djangos_field_groups(bound):
    import re

    from django.template.loader import render_to_string

    from people.forms import PersonForm

    if bound:
        form = PersonForm(
            {"version": "1", "type": "LEAD", "firstName": 'A "<b>', "gender": "X", "city": "Split"}
        )
        form.is_valid()
        form.add_error("firstName", "Too <long>.")
    else:
        form = PersonForm(initial={"version": 1, "type": "CUSTOMER", "lastName": "Horvat"})

    def markup(html):
        return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()

    fields = [field for field in form if not field.is_hidden]
    assert len(fields) == 12
    html = markup(
        render_to_string(
            "people/overview.html",
            {"person": Person(pk=1, version=1), "overview_form": form, "can_edit": True},
            using="jinja2",
        )
    )
    for field in fields:
        assert markup(field.as_field_group()) in html, field.name


# ---------------------------------------------------------------------------------------------
# The page as a profile: values first, editors on demand (?edit=… without JavaScript)


def section_tag(html, element_id):
    (tag,) = re.findall(rf'<(?:section|div) id="{element_id}"[^>]*>', html)
    return tag


def test_basic_information_and_custom_attributes_read_as_values_by_default(editor_client, profile):
    html = detail(editor_client, profile.person)
    assert "editable" in section_tag(html, "overview")
    assert "is-editing" not in section_tag(html, "overview")
    assert "is-editing" not in section_tag(html, "custom-attributes")
    url = reverse("people:detail", args=[profile.person.pk])
    assert f'href="{url}?edit=overview#overview"' in html
    assert f'href="{url}?edit=attributes#custom-attributes"' in html
    assert 'id="overview-form" class="edit-only"' in html
    assert 'data-testid="overview-read"' in html
    assert "<dd>Zagreb</dd>" in html


@pytest.mark.parametrize(
    ("query", "open_sections"),
    [
        ("?edit=overview", {"overview"}),
        ("?edit=attributes", {"custom-attributes"}),
        ("?edit=overview&edit=attributes", {"overview", "custom-attributes"}),
    ],
)
def test_edit_in_the_query_opens_the_editors_without_javascript(
    editor_client, profile, query, open_sections
):
    url = reverse("people:detail", args=[profile.person.pk]) + query
    html = editor_client.get(url).content.decode()
    for element_id in ("overview", "custom-attributes"):
        assert ("is-editing" in section_tag(html, element_id)) == (element_id in open_sections)


def test_a_viewer_gets_no_edit_button_nor_form_even_when_asking(viewer_client, profile):
    url = reverse("people:detail", args=[profile.person.pk]) + "?edit=overview&edit=attributes"
    html = viewer_client.get(url).content.decode()
    assert "data-edit-open" not in html
    assert "is-editing" not in html
    assert 'id="overview-form"' not in html
    assert "<dd>Zagreb</dd>" in html


def test_a_saved_overview_returns_to_the_read_view_and_a_refused_one_stays_open(
    editor_client, profile
):
    person = profile.person
    data = {"version": person.version, "type": "CUSTOMER", "firstName": "Ana", "city": "Split"}
    url = reverse("people:overview", args=[person.pk])
    html = editor_client.post(url, data, **HTMX).content.decode()
    assert "is-editing" not in section_tag(html, "overview")
    # The focus goes back to the Edit button, and "Saved." is read out.
    assert re.search(r'data-edit-open="overview"[^>]*data-autofocus', html)
    assert "data-announce>Saved." in html
    assert "<dd>Split</dd>" in html

    data["birthDate"] = "2999-01-01"
    data["version"] = Person.objects.get(pk=person.pk).version
    response = editor_client.post(url, data, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "is-editing" in section_tag(html, "overview")
    assert "Birth date cannot be in the future" in html


def test_without_htmx_a_saved_overview_goes_back_to_the_read_view(editor_client, profile):
    person = profile.person
    data = {"version": person.version, "type": "CUSTOMER", "firstName": "Ana", "city": "Split"}
    response = editor_client.post(reverse("people:overview", args=[person.pk]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[person.pk]) + "#overview"


def summary_of(html):
    start = html.index('data-testid="person-summary"')
    return html[start : html.index('<nav class="section-nav"', start)]


def test_the_summary_panel_shows_identifiers_devices_and_tags_with_copy_buttons(
    editor_client, profile
):
    html = detail(editor_client, profile.person)
    header = summary_of(html)
    for text in (
        'data-testid="person-type">Customer<',
        'data-copy="crm-42"',
        'data-copy="+385 1 6419 710"',
        'data-copy="ana.horvat@example.com"',
        "Shop Android · Android",
        "Primary",
        "Push on",
        ">newsletter<",
        ">vip<",
    ):
        assert text in header, text
    # Shown by the script only: without it the value beside stays plain selectable text.
    assert header.count(" hidden>Copy</button>") == 3


def test_a_tag_or_contact_change_updates_the_summary_panel_out_of_band(editor_client, profile):
    person = profile.person
    response = editor_client.post(
        reverse("people:tags_add", args=[person.pk]), {"name": "gold"}, **HTMX
    )
    html = response.content.decode()
    (tags,) = re.findall(r'<dd id="summary-tags"[^>]*>.*?</dd>', html)
    assert 'hx-swap-oob="true"' in tags
    assert ">gold<" in tags and ">vip<" in tags

    response = editor_client.post(
        reverse("people:identity_add", args=[person.pk]),
        {"kind": "email", "value": "ana.second@example.com"},
        **HTMX,
    )
    (emails,) = re.findall(
        r'<dd id="summary-emails"[^>]*>.*?</dd>', response.content.decode(), re.S
    )
    assert 'hx-swap-oob="true"' in emails and 'data-copy="ana.second@example.com"' in emails


def test_opening_the_editors_costs_no_statement(editor_client, profile, django_assert_num_queries):
    from django.test.utils import CaptureQueriesContext

    url = reverse("people:detail", args=[profile.person.pk])
    editor_client.get(url)
    with CaptureQueriesContext(connection) as read_view:
        editor_client.get(url)
    with django_assert_num_queries(len(read_view.captured_queries)):
        editor_client.get(url + "?edit=overview&edit=attributes")


def test_a_card_action_updates_the_devices_of_the_summary_panel_out_of_band(editor_client, profile):
    tablet, phone = profile.second, profile.primary
    url = reverse("installations:set_primary", args=[tablet.pk])
    html = editor_client.post(url, {"is_primary": "true"}, **HTMX).content.decode()
    (now, before) = (
        re.search(rf'<li id="summary-device-{pk}" hx-swap-oob="true">.*?</li>', html).group()
        for pk in (tablet.pk, phone.pk)
    )
    assert "Primary" in now and "Primary" not in before

    url = reverse("installations:depersonalize", args=[tablet.pk])
    html = editor_client.post(url, **HTMX).content.decode()
    assert f'<li id="summary-device-{tablet.pk}" hx-swap-oob="delete">' in html
    assert re.search(r'<span id="summary-device-count"[^>]*>1 device</span>', html)
