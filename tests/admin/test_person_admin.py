from decimal import Decimal

import pytest
from django.urls import reverse

from installations import services as installation_services
from installations.models import Installation
from people import services
from people.changes import MAX_CONTACTS_PER_KIND, merge_changes
from people.history import Actor
from people.models import (
    AttributeDefinition,
    ContactIdentity,
    DataType,
    Event,
    EventKind,
    Person,
    Source,
)
from tests.admin.conftest import installation
from tests.factories import InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:people_person_changelist"


def found(admin_client, q: str) -> list[int]:
    response = admin_client.get(reverse(CHANGELIST), {"q": q})
    assert response.status_code == 200
    return [person.pk for person in response.context["cl"].result_list]


@pytest.mark.parametrize(
    "q",
    [
        "push-ana-tablet",  # pushRegistrationId
        "+385 1 6419-710",  # phone with + and separators
        "00385 1 6419 710",  # phone with 00
        "38516419710",  # stored digits
        "(01) 6419 710",  # national number with trunk 0
        "ANA.KOVACIC@example.COM",  # email in another case
        "crm-1001",  # externalId
        "kovac",  # last name prefix, accent-insensitive
        "ana k",  # first and last name prefix
    ],
)
def test_the_person_search_finds_ana_by_each_kind_of_identifier(admin_client, ana, q):
    PersonFactory(first_name="Marko", last_name="Horvat")
    assert found(admin_client, q) == [ana.pk]


def test_a_person_matching_on_two_installations_and_a_name_is_listed_once(admin_client, ana):
    InstallationFactory(person=ana, push_registration_id="Ana")
    assert found(admin_client, "Ana") == [ana.pk]
    assert found(admin_client, "an") == [ana.pk]


def test_an_unknown_identifier_finds_nobody(admin_client, ana):
    assert found(admin_client, "push-unknown-123") == []
    assert found(admin_client, "nobody@example.com") == []


def test_the_person_list_shows_main_phone_email_devices_and_filters_by_platform(admin_client, ana):
    PersonFactory(first_name="Marko", last_name="Horvat")
    response = admin_client.get(reverse(CHANGELIST), {"platform": "iOS"})
    assert [p.pk for p in response.context["cl"].result_list] == [ana.pk]
    page = response.content.decode()
    assert "+385 1 6419 710" in page  # as the operator UI shows it
    assert "ana.kovacic@example.com" in page
    assert "2 (Android, iOS)" in page
    assert response.context["cl"].show_full_result_count is False


def test_the_person_list_filters_by_tag_type_and_application(admin_client, ana):
    services.person_add_tags(person=ana, actor=Actor.system(), names=["VIP"])
    other = PersonFactory(type="LEAD")
    application = Installation.objects.get(push_registration_id="push-ana-phone").application
    assert [
        p.pk
        for p in admin_client.get(reverse(CHANGELIST), {"tag": "VIP"}).context["cl"].result_list
    ] == [ana.pk]
    assert [
        p.pk
        for p in admin_client.get(reverse(CHANGELIST), {"type__exact": "LEAD"})
        .context["cl"]
        .result_list
    ] == [other.pk]
    response = admin_client.get(reverse(CHANGELIST), {"application": application.code})
    assert [p.pk for p in response.context["cl"].result_list] == [ana.pk]


def person_form(person: Person, **changes) -> dict:
    data = {
        "type": person.type,
        "external_id": person.external_id or "",
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "address": person.address,
        "city": person.city,
        "country": person.country,
        "preferred_language": person.preferred_language,
        "profile_picture": person.profile_picture,
        "tags_text": "\n".join(t.name for t in person.tags.all()),
        "custom_attributes_text": "{}",
        "expected_version": person.version,
        "identities-TOTAL_FORMS": "0",
        "identities-INITIAL_FORMS": "0",
        "installations-TOTAL_FORMS": "0",
        "installations-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def with_identities(person: Person, data: dict, new: list[tuple[str, str]] = ()) -> dict:
    existing = list(person.identities.order_by("id"))
    for index, identity in enumerate(existing):
        data[f"identities-{index}-id"] = identity.pk
        data[f"identities-{index}-person"] = person.pk
        data[f"identities-{index}-kind"] = identity.kind
        data[f"identities-{index}-value"] = identity.value
    for offset, (kind, value) in enumerate(new):
        index = len(existing) + offset
        data[f"identities-{index}-person"] = person.pk
        data[f"identities-{index}-kind"] = kind
        data[f"identities-{index}-value"] = value
    data["identities-TOTAL_FORMS"] = str(len(existing) + len(new))
    data["identities-INITIAL_FORMS"] = str(len(existing))
    return data


def change_url(person: Person) -> str:
    return reverse("admin:people_person_change", args=[person.pk])


def test_the_change_page_of_a_person_shows_its_identities_and_installations(admin_client, ana):
    page = admin_client.get(change_url(ana)).content.decode()
    assert "38516419710" in page
    assert "push-ana-phone" in page and "push-ana-tablet" in page


def test_editing_a_person_in_admin_goes_through_the_services_with_an_admin_event(
    admin_client, administrator, ana
):
    definition = AttributeDefinition.objects.create(name="Balance", data_type=DataType.DECIMAL)
    data = person_form(
        ana,
        first_name="Anica",
        tags_text="VIP\nNewsletter",
        custom_attributes_text='{"Balance": 12.50}',
    )
    response = admin_client.post(change_url(ana), with_identities(ana, data))
    assert response.status_code == 302, response.context["adminform"].form.errors
    ana.refresh_from_db()
    assert ana.first_name == "Anica"
    assert ana.search_name.startswith("anica")
    assert sorted(t.name for t in ana.tags.all()) == ["Newsletter", "VIP"]
    value = ana.attribute_values.get(definition=definition)
    assert value.value_text == "12.50"
    event = Event.objects.filter(person=ana).first()
    assert event.kind == EventKind.PERSON_UPDATED
    assert event.source == Source.ADMIN
    assert event.actor_user == administrator
    assert event.changes["firstName"] == {"before": "Ana", "after": "Anica"}


def test_an_invalid_custom_attribute_value_is_shown_at_the_field_and_nothing_is_saved(
    admin_client, ana
):
    AttributeDefinition.objects.create(name="Balance", data_type=DataType.DECIMAL)
    events = Event.objects.count()
    data = person_form(ana, first_name="Changed", custom_attributes_text='{"Balance": "12,5abc"}')
    response = admin_client.post(change_url(ana), with_identities(ana, data))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Balance" in " ".join(errors["custom_attributes_text"])
    ana.refresh_from_db()
    assert ana.first_name == "Ana"
    assert Event.objects.count() == events


def test_an_undefined_custom_attribute_and_an_overlong_tag_are_refused_at_their_fields(
    admin_client, ana
):
    data = person_form(ana, custom_attributes_text='{"Nope": 1}', tags_text="x" * 257)
    response = admin_client.post(change_url(ana), with_identities(ana, data))
    errors = response.context["adminform"].form.errors
    assert response.status_code == 200
    assert "tags_text" in errors or "custom_attributes_text" in errors


def test_a_phone_added_in_the_inline_is_normalized_and_recorded(admin_client, ana):
    data = with_identities(ana, person_form(ana), new=[("PHONE", "+385 91 234 5678")])
    response = admin_client.post(change_url(ana), data)
    assert response.status_code == 302
    assert ContactIdentity.objects.filter(person=ana, value="385912345678").exists()
    event = Event.objects.filter(person=ana, kind=EventKind.CONTACTS_CHANGED).get()
    assert event.source == Source.ADMIN
    assert event.changes["phones"]["added"] == ["385912345678"]


def test_a_phone_deleted_in_the_inline_is_removed_and_recorded(admin_client, ana):
    data = with_identities(ana, person_form(ana))
    phone = ana.identities.get(kind="PHONE")
    index = list(ana.identities.order_by("id")).index(phone)
    data[f"identities-{index}-DELETE"] = "on"
    response = admin_client.post(change_url(ana), data)
    assert response.status_code == 302
    assert list(ana.identities.values_list("kind", flat=True)) == ["EMAIL"]
    event = Event.objects.filter(person=ana, kind=EventKind.CONTACTS_CHANGED).get()
    assert event.source == Source.ADMIN
    assert event.changes["phones"]["removed"] == [phone.value]
    assert "emails" not in event.changes


def test_an_invalid_phone_in_the_inline_is_refused_with_phone_invalid(admin_client, ana):
    data = with_identities(ana, person_form(ana), new=[("PHONE", "12ab")])
    response = admin_client.post(change_url(ana), data)
    assert response.status_code == 200
    assert "PHONE_INVALID" in response.content.decode()
    assert ana.identities.count() == 2


def test_a_phone_of_another_person_is_refused_with_a_link_to_that_person(admin_client, ana):
    other = services.person_create(
        actor=Actor.system(), fields={"firstName": "Ivo"}, phones=["+385 91 234 5678"]
    )
    data = with_identities(
        ana, person_form(ana, first_name="Changed"), new=[("PHONE", "00385912345678")]
    )
    response = admin_client.post(change_url(ana), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "USER_MERGE_INTERRUPTED" in page
    assert change_url(other) in page
    ana.refresh_from_db()
    assert ana.first_name == "Ana"  # the whole save was rolled back


def test_an_external_id_of_another_person_is_refused_at_the_field(admin_client, ana):
    PersonFactory(external_id="crm-2002")
    response = admin_client.post(
        change_url(ana), with_identities(ana, person_form(ana, external_id="crm-2002"))
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "USER_MERGE_INTERRUPTED" in " ".join(errors["external_id"])


def test_saving_over_a_newer_edit_is_refused_with_version_conflict(admin_client, ana):
    stale = person_form(ana, first_name="Stale")
    services.person_set_fields(person=ana, actor=Actor.system(), fields={"lastName": "Newer"})
    response = admin_client.post(change_url(ana), with_identities(ana, stale))
    assert response.status_code == 200
    assert "VERSION_CONFLICT" in response.content.decode()
    ana.refresh_from_db()
    assert (ana.first_name, ana.last_name) == ("Ana", "Newer")


def test_making_the_second_installation_primary_in_the_inline_keeps_one_primary(
    admin_client, administrator, ana
):
    data = with_identities(ana, person_form(ana))
    installations = list(ana.installations.order_by("id"))
    data["installations-TOTAL_FORMS"] = str(len(installations))
    data["installations-INITIAL_FORMS"] = str(len(installations))
    for index, item in enumerate(installations):
        data[f"installations-{index}-id"] = item.pk
        data[f"installations-{index}-person"] = ana.pk
        data[f"installations-{index}-registration_enabled"] = "on"
        if item.push_registration_id == "push-ana-tablet":
            data[f"installations-{index}-is_primary"] = "on"
    response = admin_client.post(change_url(ana), data)
    assert response.status_code == 302
    primary = Installation.objects.filter(person=ana, is_primary=True)
    assert [i.push_registration_id for i in primary] == ["push-ana-tablet"]
    event = Event.objects.filter(person=ana, kind=EventKind.PRIMARY_CHANGED).get()
    assert (event.source, event.actor_user) == (Source.ADMIN, administrator)


def test_installation_rows_left_as_shown_keep_what_changed_meanwhile(admin_client, ana):
    """The page showed both devices with push on; the device then turned push off; the
    administrator saves the person with those rows as shown: push stays off."""
    data = with_identities(ana, person_form(ana))
    installations = list(ana.installations.order_by("id"))
    data["installations-TOTAL_FORMS"] = str(len(installations))
    data["installations-INITIAL_FORMS"] = str(len(installations))
    for index, item in enumerate(installations):
        row = f"installations-{index}"
        data.update({f"{row}-id": item.pk, f"{row}-person": ana.pk})
        data.update({f"{row}-registration_enabled": "on"})
        data.update({f"initial-{row}-registration_enabled": "True"})
        data[f"initial-{row}-is_primary"] = str(item.is_primary)
        if item.is_primary:
            data[f"{row}-is_primary"] = "on"
    phone = installation("push-ana-phone")
    installation_services.installation_set_push_enabled(
        installation=phone, actor=Actor.system("sdk"), enabled=False
    )
    assert admin_client.post(change_url(ana), data).status_code == 302
    assert installation("push-ana-phone").registration_enabled is False
    # The page does send those values back.
    page = admin_client.get(change_url(ana)).content.decode()
    assert 'name="initial-installations-0-registration_enabled"' in page


def test_creating_a_person_in_admin_records_who_created_it(admin_client, administrator):
    data = {
        "type": "CUSTOMER",
        "first_name": "Nova",
        "last_name": "Osoba",
        "custom_attributes_text": "{}",
        "identities-TOTAL_FORMS": "1",
        "identities-INITIAL_FORMS": "0",
        "identities-0-kind": "EMAIL",
        "identities-0-value": "Nova@Example.com",
        "installations-TOTAL_FORMS": "0",
        "installations-INITIAL_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:people_person_add"), data)
    assert response.status_code == 302
    person = Person.objects.get(first_name="Nova")
    assert person.origin == "ADMIN"
    assert list(person.identities.values_list("value", flat=True)) == ["nova@example.com"]
    created = Event.objects.get(person=person, kind=EventKind.PERSON_CREATED)
    assert (created.source, created.actor_user) == (Source.ADMIN, administrator)


def test_deleting_a_person_in_admin_moves_its_installations_to_anonymous_profiles(
    admin_client, ana
):
    url = reverse("admin:people_person_delete", args=[ana.pk])
    confirmation = admin_client.get(url)
    assert confirmation.status_code == 200
    assert "move to fresh anonymous profiles" in confirmation.content.decode()
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Person.objects.filter(pk=ana.pk).exists()
    moved = Installation.objects.filter(push_registration_id__startswith="push-ana-")
    assert moved.count() == 2
    assert all(i.person.type == "LEAD" and not i.is_primary for i in moved)
    assert (
        Event.objects.filter(
            kind=EventKind.DEPERSONALIZE, source=Source.ADMIN, person__in=[i.person for i in moved]
        ).count()
        == 2
    )


def test_the_change_page_shows_every_custom_attribute_type_as_json_that_saves_unchanged(
    admin_client, ana
):
    for name, data_type in [
        ("Balance", "DECIMAL"),
        ("Born", "DATE"),
        ("Seen", "DATE_TIME"),
        ("VIP", "BOOLEAN"),
    ]:
        services.attribute_definition_create(name=name, data_type=data_type)
    services.attribute_definition_create(
        name="Orders", data_type="LIST_OF_OBJECTS", object_schema={"sku": "STRING"}
    )
    values = {
        "Balance": Decimal("12.50"),
        "Born": "1990-05-01",
        "Seen": "2024-01-02T03:04:05Z",
        "VIP": True,
        "Orders": [{"sku": "A-1"}],
    }
    services.person_set_custom_attributes(person=ana, actor=Actor.system(), values=values)
    ana.refresh_from_db()
    page = admin_client.get(change_url(ana))
    shown = page.context["adminform"].form["custom_attributes_text"].value()
    assert '"Balance": 12.50' in shown and '"sku": "A-1"' in shown
    events = Event.objects.filter(person=ana).count()
    data = person_form(ana, custom_attributes_text=shown)
    data["tags_text"] = ""
    response = admin_client.post(change_url(ana), with_identities(ana, data))
    assert response.status_code == 302
    assert Event.objects.filter(person=ana).count() == events  # nothing changed


def test_the_identity_rows_show_the_stored_values_and_a_changed_row_replaces_its_value(
    admin_client, ana
):
    page = admin_client.get(change_url(ana)).content.decode()
    assert 'name="identities-0-value" value="38516419710"' in page
    data = with_identities(ana, person_form(ana))
    data["identities-0-value"] = "+385 91 234 5678"
    assert admin_client.post(change_url(ana), data).status_code == 302
    phones = ana.identities.filter(kind="PHONE").values_list("value", flat=True)
    assert list(phones) == ["385912345678"]


def test_a_refusal_after_the_person_was_written_rolls_the_whole_save_back(admin_client, ana):
    """save_model writes the name, then save_related's person_update refuses the 101st email
    (a limit the form does not check): nothing of the save stays, the refusal is a message."""
    emails = [f"ana{n}@example.com" for n in range(MAX_CONTACTS_PER_KIND - 1)]
    services.person_update(person=ana, actor=Actor.system(), changes=merge_changes(emails=emails))
    ana.refresh_from_db()
    events = Event.objects.filter(person=ana).count()
    data = with_identities(
        ana, person_form(ana, first_name="Changed"), new=[("EMAIL", "one.more@example.com")]
    )
    response = admin_client.post(change_url(ana), data)
    assert response.status_code == 302
    assert response.url == change_url(ana)
    shown = [str(m) for m in admin_client.get(change_url(ana)).context["messages"]]
    assert shown == [f"A person can have at most {MAX_CONTACTS_PER_KIND} emails. (BAD_REQUEST)"]
    ana.refresh_from_db()
    assert ana.first_name == "Ana"
    assert ana.identities.filter(kind="EMAIL").count() == MAX_CONTACTS_PER_KIND
    assert Event.objects.filter(person=ana).count() == events


def test_the_merge_action_leads_two_people_to_the_merge_screen(admin_client, ana):
    other = PersonFactory()
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "merge_selected", "_selected_action": [other.pk, ana.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("people:merge", args=[ana.pk, other.pk])
    assert Person.objects.filter(pk=other.pk).exists()  # the screen merges, not the action


def test_the_merge_action_wants_exactly_two(admin_client, ana):
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": "merge_selected", "_selected_action": [ana.pk]},
        follow=True,
    )
    assert "Select exactly two people to merge." in response.content.decode()
