"""The person page's in-place actions as an operator reads them: a save over a colleague's
edit (three-way), what each action says it did, messages in the form's words, and the
viewer's page."""

import json
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory.views.person import three_way
from people import services
from people.forms import PersonForm
from people.history import Actor
from people.models import Person
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db

CRM = Actor.system("crm")


def overview_data(person: Person, **typed) -> dict:
    """What the page's basic-information form sends: the values it was loaded with (version
    and ``loaded``), with ``typed`` changed."""
    initial = PersonForm.initial_for(person)
    return {**initial, **typed}


def save_overview(client, person, data):
    return client.post(reverse("people:overview", args=[person.pk]), data, **HTMX)


# ---------------------------------------------------------------------------------------------
# Three-way


def test_three_way_keeps_the_fields_only_someone_else_changed():
    loaded = {"firstName": "Lucas", "city": "Zagreb"}
    typed = {"firstName": "Lucas", "city": "Split"}
    latest = {"firstName": "Lucas-A", "city": "Zagreb"}
    assert three_way(loaded, typed, latest) == ({"firstName": "Lucas-A", "city": "Split"}, [])


def test_three_way_a_field_both_changed_differently_is_the_only_clash():
    loaded = {"firstName": "Lucas", "city": "Zagreb", "country": ""}
    typed = {"firstName": "Luka", "city": "Zagreb", "country": "HR"}
    latest = {"firstName": "Lucas-A", "city": "Rijeka", "country": "HR"}
    fields, clashes = three_way(loaded, typed, latest)
    assert clashes == ["firstName"]  # the country: both changed it, to the same value
    assert fields == {"firstName": "Luka", "city": "Rijeka", "country": "HR"}


def test_three_way_without_what_was_loaded_every_typed_field_is_the_operators():
    fields, clashes = three_way(None, {"city": "Split"}, {"city": "Zagreb"})
    assert (fields, clashes) == ({"city": "Split"}, ["city"])


def test_a_save_over_a_colleagues_edit_keeps_their_fields(editor_client, profile):
    person = profile.person
    data = overview_data(person, city="Split")
    services.person_set_fields(person=person, actor=CRM, fields={"firstName": "Lucas-A"})
    response = save_overview(editor_client, person, data)
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    person.refresh_from_db()
    assert (person.first_name, person.city) == ("Lucas-A", "Split")
    assert person.events.first().changes == {"city": {"before": "Zagreb", "after": "Split"}}


def test_a_field_both_changed_is_refused_and_only_it_is_listed(editor_client, profile):
    person = profile.person
    data = overview_data(person, firstName="Anica", middleName="Marija")
    services.person_set_fields(
        person=person, actor=CRM, fields={"firstName": "Anamarija", "city": "Osijek"}
    )
    response = save_overview(editor_client, person, data)
    assert response.status_code == 422
    html = unescape(response.content.decode())
    table = html.split('<table class="conflict-differences">')[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 1
    assert "First name" in table and "Anamarija" in table and "Anica" in table
    # The form shows the colleague's city and the operator's own values.
    assert 'name="city" value="Osijek"' in html.replace("maxlength", "")  # any attribute order
    assert 'value="Marija"' in html
    person.refresh_from_db()
    assert (person.first_name, person.middle_name) == ("Anamarija", "")

    # Saving over it writes the operator's name and middle name, and keeps the city.
    version = person.version
    reapply = {**data, "city": "Osijek", "reapply_version": version}
    assert save_overview(editor_client, person, reapply).status_code == 200
    person.refresh_from_db()
    assert (person.first_name, person.middle_name, person.city) == ("Anica", "Marija", "Osijek")


def test_the_form_carries_the_values_it_was_loaded_with(editor_client, profile):
    html = editor_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    loaded = html.split('name="loaded" value="', 1)[1].split('"', 1)[0]
    assert json.loads(unescape(loaded))["city"] == "Zagreb"


# ---------------------------------------------------------------------------------------------
# What an action says


def add_identity(client, person, kind, value):
    return client.post(
        reverse("people:identity_add", args=[person.pk]), {"kind": kind, "value": value}, **HTMX
    )


def test_adding_a_phone_says_so_with_the_number_as_shown(editor_client, profile):
    response = add_identity(editor_client, profile.person, "phone", "+385917028940")
    html = response.content.decode()
    assert 'data-testid="section-result">Phone +385 91 702 8940 added.</p>' in html
    assert "data-announce" in html
    # The history beside it shows the number the same way.
    assert "Added phone +385 91 702 8940</div>" in html


def test_a_phone_or_email_the_person_has_already_is_said_to_be_there(editor_client, profile):
    version = Person.objects.get(pk=profile.person.pk).version
    response = add_identity(editor_client, profile.person, "phone", "00385 1 6419 710")
    assert response.status_code == 200
    assert "Phone +385 1 6419 710 is already there." in response.content.decode()
    response = add_identity(editor_client, profile.person, "email", "ANA.horvat@example.com")
    assert "Email ana.horvat@example.com is already there." in response.content.decode()
    assert Person.objects.get(pk=profile.person.pk).version == version


def test_an_existing_tag_in_another_case_is_said_to_be_there(editor_client, profile):
    url = reverse("people:tags_add", args=[profile.person.pk])
    response = editor_client.post(url, {"name": "VIP, gold"}, **HTMX)
    html = unescape(response.content.decode())
    assert "Tag gold added. Tag VIP is already there." in html
    response = editor_client.post(url, {"name": "Vip"}, **HTMX)
    assert "Tag Vip is already there." in unescape(response.content.decode())


def test_a_national_phone_without_a_default_region_asks_for_the_country_code(
    editor_client, profile, settings
):
    settings.PHONE_DEFAULT_REGION = None
    response = add_identity(editor_client, profile.person, "phone", "091 999 8888")
    assert response.status_code == 422
    html = unescape(response.content.decode())
    assert "'091 999 8888' is not a valid phone number. Add the country code, for example" in html
    assert "+385 91 999 8888." in html


def test_a_national_phone_is_read_with_the_default_region(editor_client, profile, settings):
    settings.PHONE_DEFAULT_REGION = "HR"
    response = add_identity(editor_client, profile.person, "phone", "091 999 8888")
    assert response.status_code == 200
    assert profile.person.identities.filter(value="385919998888").exists()


def test_the_api_keeps_its_own_words_for_a_phone_of_another_person(
    manage_client, profile, system_actor
):
    other = services.person_create(actor=system_actor, phones=["+385 91 702 8940"])
    response = manage_client.patch(
        f"/people/2/persons?type=ID&identifier={profile.person.pk}",
        {"contactInformation": {"phone": [{"number": "385917028940"}]}},
        format="json",
    )
    body = json.dumps(response.json())
    assert f"phone 385917028940 already belongs to person {other.pk}." in body


def test_an_external_id_of_someone_else_is_said_once_with_their_name(
    editor_client, profile, system_actor
):
    other = services.person_create(
        actor=system_actor, fields={"externalId": "crm-77", "firstName": "Marko"}
    )
    response = save_overview(
        editor_client, profile.person, overview_data(profile.person, externalId="crm-77")
    )
    html = unescape(response.content.decode())
    assert html.count("already belongs") == 1
    link = f'<a href="{reverse("people:detail", args=[other.pk])}" data-testid="merge-link">'
    assert f"External ID crm-77 already belongs to person {other.pk}, {link}Marko</a>." in html


def test_a_create_with_someone_elses_phone_says_it_once(editor_client, profile):
    response = editor_client.post(
        reverse("people:create"), {"type": "CUSTOMER", "phones": "+385 1 6419-710"}
    )
    html = unescape(response.content.decode())
    assert response.status_code == 422
    assert html.count("already belongs") == 1
    assert "Phone +385 1 6419 710 already belongs to person" in html


def test_the_create_form_takes_phones_and_tags_by_line_or_comma(editor_client, profile):
    data = {
        "type": "CUSTOMER",
        "firstName": "Nova",
        "phones": "+44 20 7946 0018, +385 91 999 8888\n+385 91 999 7777",
        "tags": "fresh, new",
    }
    response = editor_client.post(reverse("people:create"), data)
    assert response.status_code == 302
    person = Person.objects.get(first_name="Nova")
    assert person.identities.count() == 3
    assert {t.name for t in person.tags.all()} == {"fresh", "new"}
    html = editor_client.get(reverse("people:create")).content.decode()
    assert "One per line or separated by commas" in html
    assert f'hx-get="{reverse("people:tag_suggestions")}"' in html


def test_history_and_cards_spell_values_as_json(editor_client, profile):
    url = reverse("installations:set_additional_data", args=[profile.primary.pk])
    response = editor_client.post(
        url, {"additional_data": '{"tier": "gold", "beta": true, "visits": 3}'}, **HTMX
    )
    html = response.content.decode()
    assert '<dt>beta</dt><dd class="mono">true</dd>' in html
    assert '<dt>visits</dt><dd class="mono">3</dd>' in html
    assert "True" not in html.split('id="history"')[0]
    services.person_set_custom_attributes(
        person=profile.person, actor=CRM, values={"Newsletter": True}
    )
    page = editor_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    assert "Set Newsletter to true" in unescape(page)


def test_a_nested_object_in_additional_data_is_refused_in_json_words(editor_client, profile):
    url = reverse("installations:set_additional_data", args=[profile.primary.pk])
    response = editor_client.post(url, {"additional_data": '{"x": {"y": 1}}'}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "x must be a string, number, boolean or date, not an object." in html
    assert "dict" not in html


# ---------------------------------------------------------------------------------------------
# A viewer's page


def test_a_viewer_reads_the_type_by_its_label(viewer_client, profile):
    html = viewer_client.get(reverse("people:detail", args=[profile.person.pk])).content.decode()
    assert "<dt>Type</dt><dd>Customer</dd>" in html
    assert ">CUSTOMER<" not in html


def test_the_viewers_page_runs_a_fixed_number_of_queries(
    viewer_client, profile, django_assert_num_queries
):
    url = reverse("people:detail", args=[profile.person.pk])
    viewer_client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as first:
        assert viewer_client.get(url).status_code == 200
    for i in range(5):
        services.person_add_tags(person=profile.person, actor=CRM, names=[f"more-{i}"])
    # Session, user, the user's permissions (two), then the page: on PostgreSQL one
    # statement, elsewhere one per relation.
    expected = 5 if connection.vendor == "postgresql" else 11
    assert len(first.captured_queries) <= expected
    with django_assert_num_queries(len(first.captured_queries)):
        assert viewer_client.get(url).status_code == 200
