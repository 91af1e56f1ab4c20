"""Creating a person (contacts, basic information, tags and attributes) and deleting one."""

import pytest
from django.urls import reverse

from people.apply import custom_attribute_values
from people.models import Person
from tests.factories import InstallationFactory

pytestmark = pytest.mark.django_db


def test_the_create_form_orders_contacts_then_basics_then_tags_and_attributes(
    editor_client, profile
):
    html = editor_client.get(reverse("people:create")).content.decode()
    assert (
        html.index("Contact information")
        < html.index("Basic information")
        < html.index("Tags and attributes")
    )
    attributes = html.split("<legend>Tags and attributes</legend>")[1].split("</fieldset>")[0]
    assert "Balance (Decimal)" in attributes and 'type="date"' in attributes
    assert "Orders (" not in attributes  # lists of objects are edited on the person page


def test_creating_a_person_normalizes_and_opens_the_profile(editor_client, profile):
    form = editor_client.get(reverse("people:create")).context["form"]
    balance = next(n for n, d in form.attribute_fields.items() if d.name == "Balance")
    data = {
        "phones": "+44 20 7946 0018\n",
        "emails": "New@Example.com",
        "type": "CUSTOMER",
        "firstName": "Nova",
        "lastName": "Kovač",
        "tags": "fresh, vip",
        balance: "3.75",
    }
    response = editor_client.post(reverse("people:create"), data)
    person = Person.objects.get(first_name="Nova")
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[person.pk])
    assert sorted(person.identities.values_list("value", flat=True)) == [
        "442079460018",
        "new@example.com",
    ]
    assert {t.name for t in person.tags.all()} == {"fresh", "vip"}
    assert str(custom_attribute_values(person)["Balance"]) == "3.75"
    assert person.origin == "UI"
    assert person.events.get().actor_label == "eddie.editor"


def test_a_create_with_someone_elses_email_links_to_them_and_creates_nothing(
    editor_client, profile
):
    count = Person.objects.count()
    data = {"emails": "ana.horvat@EXAMPLE.com", "type": "CUSTOMER", "firstName": "Dup"}
    response = editor_client.post(reverse("people:create"), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert f'href="{reverse("people:detail", args=[profile.person.pk])}"' in html
    assert Person.objects.count() == count


def test_a_create_with_an_invalid_field_shows_the_error_there(editor_client, profile):
    response = editor_client.post(
        reverse("people:create"), {"type": "CUSTOMER", "birthDate": "2999-01-01"}
    )
    assert response.status_code == 422
    assert "Birth date cannot be in the future." in response.content.decode()
    assert "birthDate cannot" not in response.content.decode()
    response = editor_client.post(reverse("people:create"), {"type": "CUSTOMER", "phones": "abc"})
    assert "is not a valid phone number" in response.content.decode()


def test_delete_asks_for_a_confirmation_that_names_the_person(admin_client_, profile):
    html = admin_client_.get(reverse("people:delete", args=[profile.person.pk])).content.decode()
    assert "Delete Ana Horvat?" in html
    assert Person.objects.filter(pk=profile.person.pk).exists()


def test_delete_removes_the_person_and_moves_devices_to_anonymous_profiles(admin_client_, profile):
    device = InstallationFactory(person=profile.person, application=profile.app)
    response = admin_client_.post(reverse("people:delete", args=[profile.person.pk]))
    assert response.status_code == 302 and response.url == reverse("home")
    assert not Person.objects.filter(pk=profile.person.pk).exists()
    device.refresh_from_db()
    assert device.person_id != profile.person.pk
    page = admin_client_.get(reverse("home")).content.decode()
    assert f"Deleted Ana Horvat (person {profile.person.pk})." in page


def test_deleting_an_unknown_person_is_a_404(admin_client_):
    assert admin_client_.post(reverse("people:delete", args=[999999])).status_code == 404
