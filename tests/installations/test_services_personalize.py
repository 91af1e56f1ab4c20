"""Personalize an installation with an identity: every branch of DOMAIN.md and its errors."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from installations.personalize import installation_personalize
from people import services as person_services
from people.apply import custom_attribute_values
from people.history import Actor
from people.models import ContactIdentity, Event, Person, PersonType

pytestmark = pytest.mark.django_db


def personalize(installation, identity, **kwargs) -> Person:
    return installation_personalize(
        installation=installation,
        actor=kwargs.pop("actor", Actor.system("tests")),
        identity=identity,
        **kwargs,
    )


def owner(installation: Installation) -> Person:
    return Installation.objects.get(pk=installation.pk).person


@pytest.fixture
def ana(system_actor) -> Person:
    """An identified customer with no installation yet."""
    return person_services.person_create(
        actor=system_actor,
        fields={"externalId": "crm-ana", "firstName": "Ana", "lastName": "Horvat"},
        phones=["+385 1 6419 710"],
        emails=["ana@example.com"],
        tags=["VIP", "Sports"],
    )


@pytest.fixture
def ivo(system_actor) -> Person:
    return person_services.person_create(
        actor=system_actor, fields={"externalId": "crm-ivo"}, emails=["ivo@example.com"]
    )


# --- The anonymous profile takes the identity


@pytest.mark.parametrize(
    ("identity", "external_id", "identities"),
    [
        ({"externalId": "crm-new"}, "crm-new", set()),
        ({"phoneNumber": "+44 20 7946 0958"}, None, {("PHONE", "442079460958")}),
        ({"email": "New@Example.com"}, None, {("EMAIL", "new@example.com")}),
        (
            {"externalUserId": "crm-new", "phones": ["442079460958"], "emails": ["n@e.com"]},
            "crm-new",
            {("PHONE", "442079460958"), ("EMAIL", "n@e.com")},
        ),
    ],
)
def test_an_anonymous_profile_takes_a_new_identity(register, identity, external_id, identities):
    installation = register("reg-1")
    anonymous_id = installation.person_id
    person = personalize(installation, identity)
    assert person.pk == anonymous_id
    person = Person.objects.get(pk=person.pk)
    assert person.external_id == external_id
    assert set(person.identities.values_list("kind", "value")) == identities
    assert person.type == PersonType.CUSTOMER
    assert Person.objects.count() == 1


def test_personalize_records_an_event_with_the_identity_and_the_changes(register, editor):
    installation = register("reg-1")
    person = personalize(
        installation,
        {"externalId": "crm-new"},
        attributes={"firstName": "Ana"},
        actor=Actor.operator(editor),
    )
    event = person.events.first()
    assert (event.kind, event.actor_user, event.source) == ("PERSONALIZE", editor, "UI")
    assert event.push_registration_id == "reg-1"
    assert event.changes == {
        "identity": {"externalId": "crm-new", "phones": [], "emails": []},
        "firstName": {"before": "", "after": "Ana"},
        "type": {"before": "LEAD", "after": "CUSTOMER"},
    }


def test_keep_as_lead_leaves_the_profile_a_lead(register):
    person = personalize(register("reg-1"), {"externalId": "crm-new"}, keep_as_lead=True)
    assert Person.objects.get(pk=person.pk).type == PersonType.LEAD
    assert "type" not in person.events.first().changes


# --- The owner of the identity is found


@pytest.mark.parametrize(
    "identity",
    [
        {"externalId": "crm-ana"},
        {"phoneNumber": "00385 1 6419-710"},
        {"email": "ANA@example.COM"},
        {"externalId": "crm-ana", "email": "ana@example.com"},
    ],
)
def test_the_installation_moves_to_the_owner_and_the_empty_anonymous_profile_goes(
    register, ana, identity
):
    installation = register("reg-1")
    anonymous_id = installation.person_id
    person = personalize(installation, identity)
    assert person.pk == ana.pk == owner(installation).pk
    assert not Person.objects.filter(pk=anonymous_id).exists()
    kinds = list(ana.events.values_list("kind", flat=True))
    assert kinds[0] == "PERSONALIZE"
    assert "INSTALL" in kinds, "the device's history moves with it"


def test_an_anonymous_profile_with_another_installation_stays(register, ana):
    first = register("reg-1")
    second = Installation.objects.create(
        push_registration_id="reg-2", application=first.application, person=first.person
    )
    personalize(first, {"externalId": "crm-ana"})
    assert owner(first).pk == ana.pk
    assert owner(second).pk == second.person_id
    assert Person.objects.filter(pk=second.person_id).exists()


def test_a_moved_installation_is_not_primary_unless_asked(register, ana):
    installation = register("reg-1", is_primary=True)
    personalize(installation, {"externalId": "crm-ana"})
    assert Installation.objects.get(pk=installation.pk).is_primary is False


def test_set_device_as_primary_takes_the_flag_from_the_owners_other_device(register, ana):
    old = register("reg-old")
    personalize(old, {"externalId": "crm-ana"}, set_as_primary=True)
    new = register("reg-new")
    personalize(new, {"externalId": "crm-ana"}, set_as_primary=True)
    primaries = Installation.objects.filter(person=ana, is_primary=True)
    assert list(primaries.values_list("push_registration_id", flat=True)) == ["reg-new"]
    assert Installation.objects.filter(person=ana).count() == 2


def test_the_owners_customer_type_is_kept_with_keep_as_lead(register, ana):
    personalize(register("reg-1"), {"externalId": "crm-ana"}, keep_as_lead=True)
    assert Person.objects.get(pk=ana.pk).type == PersonType.CUSTOMER


# --- Attributes replace the stored values


def test_given_attributes_replace_the_stored_values_and_others_stay(register, ana):
    person_services.attribute_definition_create(name="Loyalty points", data_type="INTEGER")
    person_services.attribute_definition_create(name="Store", data_type="STRING")
    person_services.person_set_custom_attributes(
        person=ana, actor=Actor.system(), values={"Loyalty points": 5, "Store": "Online"}
    )
    personalize(
        register("reg-1"),
        {"externalId": "crm-ana"},
        attributes={
            "firstName": "Ivana",
            "birthday": "1968-02-10",
            "gender": "Female",
            "tags": ["Promotions", "promotions"],
            "customAttributes": {"Loyalty points": 9},
        },
    )
    ana = Person.objects.get(pk=ana.pk)
    assert (ana.first_name, ana.last_name, ana.gender) == ("Ivana", "Horvat", "FEMALE")
    assert ana.birth_date.isoformat() == "1968-02-10"
    assert set(ana.tags.values_list("name", flat=True)) == {"Promotions"}
    assert custom_attribute_values(ana) == {"Loyalty points": 9, "Store": "Online"}


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"externalId": "crm-other"}, "attributes.externalId"),
        ({"type": "LEAD"}, "attributes.type"),
        ({"firstName": "x" * 256}, "firstName"),
        ({"tags": ["t" * 257]}, "attributes.tags"),
        ({"customAttributes": {"Undefined": 1}}, "customAttributes.Undefined"),
        ({"colour": "red"}, "attributes.colour"),
    ],
)
def test_bad_attributes_fail_the_personalization_and_nothing_moves(
    register, ana, attributes, field
):
    installation = register("reg-1")
    with pytest.raises(DomainError) as caught:
        personalize(installation, {"externalId": "crm-ana"}, attributes=attributes)
    assert caught.value.field == field
    assert owner(installation).pk == installation.person_id
    assert Installation.objects.filter(person=ana).count() == 0


def test_attributes_that_are_not_an_object_are_a_format_error(register, ana):
    with pytest.raises(DomainError) as caught:
        personalize(register("reg-1"), {"externalId": "crm-ana"}, attributes=["firstName"])
    assert caught.value.code == ErrorCode.REQUEST_FORMAT_INVALID


# --- Already personalized


@pytest.fixture
def anas_device(register, ana) -> Installation:
    installation = register("reg-ana")
    personalize(installation, {"externalId": "crm-ana"})
    return Installation.objects.get(pk=installation.pk)


def test_the_same_identity_again_just_applies_the_attributes(anas_device, ana):
    person = personalize(anas_device, {"email": "ana@example.com"}, attributes={"city": "Split"})
    assert person.pk == ana.pk == owner(anas_device).pk
    assert Person.objects.get(pk=ana.pk).city == "Split"
    assert not ana.events.filter(kind="DEPERSONALIZE").exists()


def test_personalizing_again_with_nothing_new_leaves_the_profile_as_it_was(anas_device, ana):
    """A device logging in again is recorded, but the profile keeps its version (an operator
    editing it meets no conflict) and its modification time."""
    personalize(anas_device, {"externalId": "crm-ana"}, attributes={"city": "Split"})
    before = Person.objects.get(pk=ana.pk)
    events = ana.events.filter(kind="PERSONALIZE").count()

    again = personalize(anas_device, {"email": "ana@example.com"}, attributes={"city": "Split"})

    after = Person.objects.get(pk=ana.pk)
    assert again.pk == ana.pk
    assert (after.version, after.modified_at) == (before.version, before.modified_at)
    assert again.version == before.version
    assert ana.events.filter(kind="PERSONALIZE").count() == events + 1


def test_personalizing_with_a_changed_attribute_makes_a_new_version(anas_device, ana):
    before = Person.objects.get(pk=ana.pk)
    personalize(anas_device, {"externalId": "crm-ana"}, attributes={"city": "Zadar"})
    after = Person.objects.get(pk=ana.pk)
    assert (after.version, after.city) == (before.version + 1, "Zadar")
    assert after.modified_at > before.modified_at


def test_a_device_joining_its_owner_makes_a_new_version(register, ana):
    before = Person.objects.get(pk=ana.pk).version
    personalize(register("reg-joins"), {"externalId": "crm-ana"}, keep_as_lead=True)
    assert Person.objects.get(pk=ana.pk).version == before + 1


def test_the_owners_own_external_id_needs_no_lookup(anas_device, ana):
    """The installation's locked person has the externalId: it owns it (unique), no query."""
    with CaptureQueriesContext(connection) as queries:
        person = personalize(anas_device, {"externalId": "crm-ana"}, attributes={"city": "Pula"})
    assert person.pk == ana.pk == owner(anas_device).pk
    assert Person.objects.get(pk=ana.pk).city == "Pula"
    lookups = [
        q["sql"] for q in queries.captured_queries if "crm-ana" in q["sql"] and "SELECT" in q["sql"]
    ]
    assert lookups == []


def test_the_owners_external_id_with_another_persons_email_is_still_ambiguous(
    anas_device, ana, ivo
):
    with pytest.raises(DomainError) as caught:
        personalize(anas_device, {"externalId": "crm-ana", "email": "ivo@example.com"})
    assert caught.value.code == ErrorCode.AMBIGUOUS_PERSONALIZE_CANDIDATES
    assert caught.value.details == {"personIds": sorted([ana.pk, ivo.pk])}
    assert owner(anas_device).pk == ana.pk


def test_an_external_id_the_owner_no_longer_has_is_looked_up(anas_device, ana, ivo):
    """The installation read before the call is not trusted for who owns the externalId."""
    Person.objects.filter(pk=ana.pk).update(external_id="crm-ana-2")
    Person.objects.filter(pk=ivo.pk).update(external_id="crm-ana")
    with pytest.raises(DomainError) as caught:
        personalize(anas_device, {"externalId": "crm-ana"})
    assert caught.value.code == ErrorCode.PERSONALIZATION_IMPOSSIBLE
    assert owner(anas_device).pk == ana.pk


def test_another_persons_identity_is_impossible_without_force(anas_device, ana, ivo):
    events_before = Event.objects.count()
    with pytest.raises(DomainError) as caught:
        personalize(anas_device, {"externalId": "crm-ivo"})
    error = caught.value
    assert (error.code, error.field) == (
        ErrorCode.PERSONALIZATION_IMPOSSIBLE,
        "forceDepersonalize",
    )
    assert error.details == {"personId": ana.pk}
    assert owner(anas_device).pk == ana.pk
    assert Event.objects.count() == events_before


def test_an_identity_matching_nobody_on_a_personalized_installation_is_impossible(anas_device, ana):
    with pytest.raises(DomainError) as caught:
        personalize(anas_device, {"externalId": "crm-nobody"})
    assert caught.value.code == ErrorCode.PERSONALIZATION_IMPOSSIBLE
    assert owner(anas_device).pk == ana.pk
    assert Person.objects.get(pk=ana.pk).external_id == "crm-ana", "no identity is added"
    assert not Person.objects.filter(external_id="crm-nobody").exists()


def test_force_depersonalize_moves_the_installation_to_the_other_person(anas_device, ana, ivo):
    person = personalize(anas_device, {"externalId": "crm-ivo"}, force_depersonalize=True)
    assert person.pk == ivo.pk == owner(anas_device).pk
    assert ana.events.filter(kind="DEPERSONALIZE", push_registration_id="reg-ana").exists()
    assert ana.events.filter(kind="PERSONALIZE").exists(), "Ana keeps her history"
    assert ivo.events.first().kind == "PERSONALIZE"
    assert Person.objects.count() == 2, "the intermediate anonymous profile is not left behind"


def test_force_depersonalize_with_a_new_identity_creates_that_person(anas_device, ana):
    person = personalize(anas_device, {"externalId": "crm-new"}, force_depersonalize=True)
    assert person.pk != ana.pk
    person = Person.objects.get(pk=person.pk)
    assert (person.external_id, person.type) == ("crm-new", PersonType.CUSTOMER)
    assert owner(anas_device).pk == person.pk
    assert Person.objects.get(pk=ana.pk).external_id == "crm-ana"


def test_identities_of_two_people_are_ambiguous(register, ana, ivo):
    installation = register("reg-1")
    with pytest.raises(DomainError) as caught:
        personalize(installation, {"externalId": "crm-ana", "email": "ivo@example.com"})
    assert caught.value.code == ErrorCode.AMBIGUOUS_PERSONALIZE_CANDIDATES
    assert caught.value.details == {"personIds": sorted([ana.pk, ivo.pk])}
    assert owner(installation).pk == installation.person_id


# --- Invalid identities


@pytest.mark.parametrize(
    ("identity", "code"),
    [
        ({}, ErrorCode.USER_IDENTITY_INVALID),
        ({"externalId": "null"}, ErrorCode.USER_IDENTITY_INVALID),
        ({"externalId": "NULL", "emails": []}, ErrorCode.USER_IDENTITY_INVALID),
        ({"externalId": None, "phoneNumber": None}, ErrorCode.USER_IDENTITY_INVALID),
        ({"nickname": "ana"}, ErrorCode.USER_IDENTITY_INVALID),
        ("crm-ana", ErrorCode.USER_IDENTITY_INVALID),
        (None, ErrorCode.USER_IDENTITY_INVALID),
        ({"phoneNumber": "12"}, ErrorCode.PHONE_INVALID),
        ({"externalId": "crm-1", "phoneNumber": "abc"}, ErrorCode.PHONE_INVALID),
        ({"email": "ana@"}, ErrorCode.EMAIL_INVALID),
        ({"externalId": 42}, ErrorCode.REQUEST_FORMAT_INVALID),
        ({"externalId": "x" * 257}, ErrorCode.BAD_REQUEST),
    ],
)
def test_an_invalid_identity_is_rejected_with_its_code(register, identity, code):
    installation = register("reg-1")
    with pytest.raises(DomainError) as caught:
        personalize(installation, identity)
    assert caught.value.code == code
    person = Person.objects.get(pk=installation.person_id)
    assert person.external_id is None and not ContactIdentity.objects.exists()
    assert person.type == PersonType.LEAD
