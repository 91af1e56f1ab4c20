"""Create, edit and delete a person: success paths, errors, and the history event of each."""

import pytest
from django.db import IntegrityError, transaction

from core.errors import DomainError, ErrorCode
from installations.depersonalize import person_delete
from installations.models import Installation
from people import services
from people.apply import custom_attribute_values
from people.changes import contact_changes, merge_changes, replace_changes, replaced_contacts
from people.history import Actor
from people.models import (
    AttributeValue,
    ContactIdentity,
    Event,
    Person,
    PersonType,
    Source,
    Tag,
)
from tests.factories import InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def tag_names(person: Person) -> set[str]:
    return set(Person.objects.get(pk=person.pk).tags.values_list("name", flat=True))


def contacts(person: Person, kind: str) -> set[str]:
    return set(
        ContactIdentity.objects.filter(person=person, kind=kind).values_list("value", flat=True)
    )


# --- Create


def test_creating_a_person_stores_everything_and_records_who_did_it(editor, every_type):
    actor = Actor.operator(editor)
    person = services.person_create(
        actor=actor,
        fields={"firstName": "Ana", "lastName": "Horvat", "externalId": "crm-1"},
        tags=["VIP", "vip", "Newsletter"],
        custom_attributes={"Loyalty points": 10},
        phones=["+385 1 6419 710"],
        emails=["Ana@Example.com"],
    )
    person = Person.objects.get(pk=person.pk)
    assert (person.type, person.first_name, person.external_id) == ("CUSTOMER", "Ana", "crm-1")
    assert person.origin == "UI"
    assert tag_names(person) == {"VIP", "Newsletter"}
    assert custom_attribute_values(person) == {"Loyalty points": 10}
    assert contacts(person, "PHONE") == {"38516419710"}
    assert contacts(person, "EMAIL") == {"ana@example.com"}
    (event,) = person.events.all()
    assert event.kind == "PERSON_CREATED"
    assert (event.actor_kind, event.actor_label, event.actor_user) == (
        "OPERATOR",
        editor.username,
        editor,
    )
    assert event.source == Source.UI
    assert event.changes["type"] == {"before": None, "after": "CUSTOMER"}
    assert event.changes["firstName"] == {"before": None, "after": "Ana"}
    assert event.changes["phones"] == {"added": ["38516419710"], "removed": []}
    assert event.changes["tags"] == {"added": ["Newsletter", "VIP"], "removed": []}


def test_a_person_created_as_lead_stays_a_lead(system_actor):
    person = services.person_create(actor=system_actor, fields={"type": "LEAD"})
    assert Person.objects.get(pk=person.pk).type == PersonType.LEAD


def test_a_person_created_over_the_api_records_the_api_key(db):
    person = services.person_create(actor=Actor.api_key("crm-sync"), fields={"firstName": "Ivo"})
    event = person.events.get()
    assert (event.actor_kind, event.actor_label, event.source) == (
        "API_KEY",
        "API key crm-sync",
        "API",
    )
    assert person.origin == "API"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"phones": ["+385 1 6419 710"], "emails": ["not-an-email"]}, ErrorCode.EMAIL_INVALID),
        ({"emails": ["ana@example.com"], "phones": ["12"]}, ErrorCode.PHONE_INVALID),
        (
            {"phones": ["+385 1 6419 710"], "custom_attributes": {"Loyalty points": "x"}},
            ErrorCode.REQUEST_FORMAT_INVALID,
        ),
        ({"phones": ["+385 1 6419 710"], "tags": ["ok", "t" * 257]}, ErrorCode.BAD_REQUEST),
        ({"emails": ["ana@example.com"], "fields": {"city": "c" * 51}}, ErrorCode.BAD_REQUEST),
    ],
)
def test_a_failing_create_stores_nothing(system_actor, every_type, kwargs, code):
    with pytest.raises(DomainError) as caught:
        services.person_create(actor=system_actor, **kwargs)
    assert caught.value.code == code
    assert Person.objects.count() == 0
    assert ContactIdentity.objects.count() == 0
    assert Tag.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_create_failing_on_a_taken_identity_after_other_writes_stores_nothing(system_actor):
    owner = services.person_create(actor=system_actor, emails=["ana@example.com"])
    with pytest.raises(DomainError) as caught:
        services.person_create(
            actor=system_actor,
            fields={"externalId": "crm-2"},
            tags=["Fresh tag"],
            phones=["+385 1 6419 710"],
            emails=["ana@example.com"],
        )
    assert caught.value.details == {"personId": owner.pk}
    assert list(Person.objects.values_list("pk", flat=True)) == [owner.pk]
    assert not ContactIdentity.objects.filter(value="38516419710").exists()
    assert not Tag.objects.exists()


# --- Edit: tags


def test_tags_are_added_and_duplicates_collapse_regardless_of_case(system_actor):
    person = PersonFactory()
    services.person_add_tags(person=person, actor=system_actor, names=["VIP", "Sports"])
    services.person_add_tags(person=person, actor=system_actor, names=["vip", "SPORTS", " Pizza "])
    assert tag_names(person) == {"VIP", "Sports", "Pizza"}
    assert Tag.objects.count() == 3
    event = person.events.first()
    assert event.kind == "TAGS_CHANGED"
    assert event.changes == {"tags": {"added": ["Pizza"], "removed": []}}


def test_tags_are_removed_regardless_of_case(system_actor):
    person = PersonFactory()
    services.person_add_tags(person=person, actor=system_actor, names=["VIP", "Sports"])
    services.person_remove_tags(person=person, actor=system_actor, names=["vip", "Unknown"])
    assert tag_names(person) == {"Sports"}
    assert person.events.first().changes == {"tags": {"added": [], "removed": ["VIP"]}}
    assert Tag.objects.filter(name="VIP").exists(), "the tag itself stays for other people"


def test_tags_are_replaced_as_a_set(system_actor):
    person = PersonFactory()
    services.person_add_tags(person=person, actor=system_actor, names=["VIP", "Sports"])
    services.person_update(
        person=person,
        actor=system_actor,
        changes=replace_changes(
            fields=None, tags=["sports", "Pizza", "PIZZA"], custom_attributes={}
        ),
    )
    assert tag_names(person) == {"Sports", "Pizza"}
    assert person.events.first().changes == {"tags": {"added": ["Pizza"], "removed": ["VIP"]}}


@pytest.mark.parametrize("names", [["ok", ""], ["t" * 257], [42], "VIP"])
def test_a_bad_tag_name_is_rejected(system_actor, names):
    person = PersonFactory()
    with pytest.raises(DomainError) as caught:
        services.person_update(person=person, actor=system_actor, changes=merge_changes(tags=names))
    assert caught.value.field == "tags"
    assert tag_names(person) == set()


def test_a_tag_name_of_256_characters_is_accepted(system_actor):
    person = PersonFactory()
    services.person_add_tags(person=person, actor=system_actor, names=["t" * 256])
    assert tag_names(person) == {"t" * 256}


def test_the_database_keeps_tag_names_unique_regardless_of_case():
    Tag.objects.create(name="VIP")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="vip")


def test_creating_a_tag_that_exists_in_another_case_is_rejected():
    services.tag_create(name="VIP")
    with pytest.raises(DomainError) as caught:
        services.tag_create(name="Vip")
    assert caught.value.field == "name"
    assert Tag.objects.count() == 1


def test_deleting_a_tag_leaves_a_history_event_with_each_person(system_actor):
    people = [PersonFactory(), PersonFactory()]
    for person in people:
        services.person_add_tags(person=person, actor=system_actor, names=["Churn risk"])
    assert services.tag_delete(tag=Tag.objects.get(), actor=system_actor) == 2
    for person in people:
        assert tag_names(person) == set()
        assert person.events.first().changes == {"tags": {"added": [], "removed": ["Churn risk"]}}


# --- Edit: phones and emails


def test_phones_and_emails_are_added_and_removed_in_any_format(system_actor):
    person = PersonFactory()
    services.person_add_phone(person=person, actor=system_actor, number="+385 1 6419 710")
    services.person_add_email(person=person, actor=system_actor, address="Ana@Example.com")
    added = person.events.order_by("id")
    assert [e.changes for e in added] == [
        {"phones": {"added": ["38516419710"], "removed": []}},
        {"emails": {"added": ["ana@example.com"], "removed": []}},
    ]
    assert {e.kind for e in added} == {"CONTACTS_CHANGED"}
    services.person_remove_phone(person=person, actor=system_actor, number="00385 1 6419-710")
    services.person_remove_email(person=person, actor=system_actor, address="ANA@example.com")
    assert ContactIdentity.objects.filter(person=person).count() == 0
    assert person.events.first().changes == {
        "emails": {"added": [], "removed": ["ana@example.com"]}
    }


def test_phones_can_be_replaced_as_a_list(system_actor):
    person = services.person_create(actor=system_actor, phones=["+385 1 6419 710"])
    services.person_update(
        person=person,
        actor=system_actor,
        changes=replaced_contacts(phones=["+44 20 7946 0958"], emails=[]),
    )
    assert contacts(person, "PHONE") == {"442079460958"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"phones": ["not a phone"]}, ErrorCode.PHONE_INVALID),
        ({"emails": ["not an email"]}, ErrorCode.EMAIL_INVALID),
        ({"phones_remove": ["12"]}, ErrorCode.PHONE_INVALID),
    ],
)
def test_an_invalid_contact_is_rejected_with_its_code(system_actor, kwargs, code):
    person = PersonFactory()
    with pytest.raises(DomainError) as caught:
        services.person_update(person=person, actor=system_actor, changes=contact_changes(**kwargs))
    assert caught.value.code == code
    assert caught.value.field.startswith("contactInformation.")


def test_a_failing_edit_leaves_nothing_half_written(system_actor, every_type):
    person = services.person_create(actor=system_actor, fields={"firstName": "Ana"})
    other = services.person_create(actor=system_actor, emails=["taken@example.com"])
    with pytest.raises(DomainError) as caught:
        services.person_update(
            person=person,
            actor=system_actor,
            changes=merge_changes(
                fields={"firstName": "Ivana"},
                phones=["+385 1 6419 710"],
                emails=["taken@example.com"],
                tags=["New"],
                custom_attributes={"Loyalty points": 3},
            ),
        )
    assert caught.value.details == {"personId": other.pk}
    person = Person.objects.get(pk=person.pk)
    assert person.first_name == "Ana"
    assert contacts(person, "PHONE") == set()
    assert tag_names(person) == set()
    assert custom_attribute_values(person) == {}
    assert person.events.count() == 1


def test_an_edit_of_several_areas_is_one_person_updated_event(system_actor, every_type):
    person = PersonFactory(first_name="Ana")
    services.person_update(
        person=person,
        actor=system_actor,
        changes=merge_changes(
            fields={"firstName": "Ivana"},
            tags=["VIP"],
            custom_attributes={"Loyalty points": 3},
        ),
    )
    (event,) = person.events.all()
    assert event.kind == "PERSON_UPDATED"
    assert set(event.changes) == {"firstName", "tags", "customAttributes"}


def test_an_edit_from_an_older_version_is_refused(system_actor):
    person = services.person_create(actor=system_actor, fields={"firstName": "Ana"})
    services.person_set_fields(person=person, actor=system_actor, fields={"firstName": "Ivana"})
    with pytest.raises(DomainError) as caught:
        services.person_set_fields(
            person=person, actor=system_actor, fields={"firstName": "Iva"}, expected_version=1
        )
    assert caught.value.code == ErrorCode.VERSION_CONFLICT
    assert Person.objects.get(pk=person.pk).first_name == "Ivana"


def test_editing_a_person_that_does_not_exist_is_not_found(system_actor):
    with pytest.raises(DomainError) as caught:
        services.person_set_fields(person=999999, actor=system_actor, fields={"firstName": "X"})
    assert caught.value.code == ErrorCode.NOT_FOUND


# --- Delete


def test_deleting_a_person_removes_identities_values_and_moves_installations(editor, every_type):
    actor = Actor.operator(editor)
    person = services.person_create(
        actor=actor,
        fields={"externalId": "crm-1"},
        phones=["+385 1 6419 710"],
        emails=["ana@example.com"],
        custom_attributes={"Loyalty points": 1},
        tags=["VIP"],
    )
    phone = InstallationFactory(person=person, is_primary=True)
    tablet = InstallationFactory(person=person)
    person_delete(person=person, actor=actor)

    assert not Person.objects.filter(pk=person.pk).exists()
    assert not ContactIdentity.objects.exists()
    assert not AttributeValue.objects.exists()
    assert not Event.objects.filter(person_id=person.pk).exists()
    assert Tag.objects.filter(name="VIP").exists()
    owners = set()
    for installation in (phone, tablet):
        installation.refresh_from_db()
        anonymous = installation.person
        owners.add(anonymous.pk)
        assert anonymous.type == PersonType.LEAD
        assert anonymous.external_id is None and not anonymous.identities.exists()
        assert installation.is_primary is False
        event = anonymous.events.get()
        assert event.kind == "DEPERSONALIZE"
        assert (event.actor_user, event.push_registration_id) == (
            editor,
            installation.push_registration_id,
        )
    assert len(owners) == 2, "each installation gets its own fresh profile"
    assert Installation.objects.count() == 2


def test_the_identities_of_a_deleted_person_are_free_again(system_actor):
    person = services.person_create(
        actor=system_actor, fields={"externalId": "crm-1"}, emails=["ana@example.com"]
    )
    person_delete(person=person, actor=system_actor)
    again = services.person_create(
        actor=system_actor, fields={"externalId": "crm-1"}, emails=["ana@example.com"]
    )
    assert again.external_id == "crm-1"


def test_the_database_refuses_to_delete_a_person_that_still_has_installations():
    from django.db.models import ProtectedError

    installation = InstallationFactory()
    with pytest.raises(ProtectedError), transaction.atomic():
        installation.person.delete()


# --- The database's own uniqueness of identities


def test_the_database_keeps_external_ids_unique():
    PersonFactory(external_id="crm-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(external_id="crm-1")


@pytest.mark.parametrize(("kind", "value"), [("PHONE", "38516419710"), ("EMAIL", "a@b.hr")])
def test_the_database_keeps_each_phone_and_email_with_one_person(kind, value):
    ContactIdentity.objects.create(person=PersonFactory(), kind=kind, value=value)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactIdentity.objects.create(person=PersonFactory(), kind=kind, value=value)


def test_the_same_value_as_phone_and_as_email_are_different_identities():
    person = PersonFactory()
    ContactIdentity.objects.create(person=person, kind="PHONE", value="38516419710")
    ContactIdentity.objects.create(person=person, kind="EMAIL", value="38516419710")
    assert person.identities.count() == 2


def test_a_tag_name_with_a_nul_character_is_rejected(system_actor):
    person = PersonFactory()
    with pytest.raises(DomainError) as caught:
        services.person_add_tags(person=person, actor=system_actor, names=["VIP\x00"])
    assert caught.value.field == "tags"
    assert not Tag.objects.exists()
