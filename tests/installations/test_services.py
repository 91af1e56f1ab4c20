"""Register, set primary, push on/off, additionalData, depersonalize and uninstall."""

import inspect

import pytest
from django.db import IntegrityError, transaction

from core.errors import DomainError, ErrorCode
from installations import services
from installations.applications import application_create
from installations.depersonalize import installation_depersonalize
from installations.models import Installation
from installations.personalize import installation_personalize
from people import services as person_services
from people.history import Actor
from people.models import Event, Person, PersonType
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db

SYSTEM_DATA = {
    "os": "Android",
    "osVersion": "14",
    "deviceManufacturer": "Google",
    "deviceModel": "Pixel 8",
    "sdkVersion": "12.4.0",
    "appVersion": "3.2.1",
    "deviceSecure": True,
    "notificationsEnabled": True,
    "cloudType": "FCM",
}


def reload(installation: Installation) -> Installation:
    return Installation.objects.select_related("person").get(pk=installation.pk)


# --- Register


def test_registering_a_device_creates_an_anonymous_lead_and_an_install_event(application):
    installation, created = services.installation_register(
        application=application,
        actor=Actor.device(application.code),
        push_registration_id="reg-1",
        system_data=SYSTEM_DATA,
        additional_data={"theme": "dark"},
    )
    assert created is True
    installation = reload(installation)
    person = installation.person
    assert person.type == PersonType.LEAD
    assert person.external_id is None and not person.identities.exists()
    assert person.origin == "DEVICE"
    assert (installation.is_primary, installation.registration_enabled) == (False, True)
    assert installation.system_data["deviceModel"] == "Pixel 8"
    assert installation.additional_data == {"theme": "dark"}
    (event,) = person.events.all()
    assert (event.kind, event.actor_kind, event.source) == ("INSTALL", "DEVICE", "DEVICE")
    assert event.push_registration_id == "reg-1"
    assert event.changes == {"application": application.code, "os": "Android"}


def test_every_registration_gets_its_own_fresh_profile(register):
    first, second = register("reg-1"), register("reg-2")
    assert first.person_id != second.person_id


def test_a_registration_without_an_id_gets_a_generated_one(application):
    installation, _ = services.installation_register(
        application=application, actor=Actor.device(application.code)
    )
    assert len(installation.push_registration_id) == 36


def test_a_registration_id_with_a_slash_is_refused_as_no_url_could_reach_it(application):
    with pytest.raises(DomainError) as caught:
        services.installation_register(
            application=application,
            actor=Actor.device(application.code),
            push_registration_id="abc/def",
        )
    assert caught.value.code == ErrorCode.BAD_REQUEST
    assert caught.value.field == "pushRegId"
    assert not Installation.objects.exists()
    assert not Person.objects.exists()


def test_registering_the_same_id_again_updates_it_and_never_duplicates(application, register):
    first = register("reg-1", system_data=SYSTEM_DATA)
    again, created = services.installation_register(
        application=application,
        actor=Actor.device(application.code),
        push_registration_id="reg-1",
        system_data={**SYSTEM_DATA, "appVersion": "4.0.0"},
    )
    assert created is False
    assert (again.pk, again.person_id) == (first.pk, first.person_id)
    assert Installation.objects.count() == 1 and Person.objects.count() == 1
    assert reload(first).app_version == "4.0.0"
    event = first.person.events.first()
    assert event.kind == "INSTALLATION_CHANGED"
    assert event.changes == {"appVersion": {"before": "3.2.1", "after": "4.0.0"}}


def test_a_registration_id_of_another_application_is_refused(register):
    register("reg-1")
    with pytest.raises(DomainError) as caught:
        register("reg-1", app=ApplicationFactory())
    assert caught.value.field == "pushRegId"
    assert Installation.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"system_data": {"colour": "red"}}, ErrorCode.BAD_REQUEST, "systemData.colour"),
        ({"system_data": {"deviceSecure": "yes"}}, ErrorCode.REQUEST_FORMAT_INVALID, None),
        ({"system_data": {"os": 7}}, ErrorCode.REQUEST_FORMAT_INVALID, "systemData.os"),
        ({"system_data": {"deviceModel": "m" * 129}}, ErrorCode.BAD_REQUEST, None),
        ({"system_data": "Android"}, ErrorCode.REQUEST_FORMAT_INVALID, "systemData"),
        ({"additional_data": {"x": [1]}}, ErrorCode.REQUEST_FORMAT_INVALID, None),
        ({"push_registration_id": "r" * 256}, ErrorCode.BAD_REQUEST, "pushRegId"),
    ],
)
def test_a_registration_that_breaks_a_rule_stores_nothing(application, kwargs, code, field):
    kwargs.setdefault("push_registration_id", "reg-1")
    with pytest.raises(DomainError) as caught:
        services.installation_register(
            application=application, actor=Actor.device(application.code), **kwargs
        )
    assert caught.value.code == code
    if field:
        assert caught.value.field == field
    assert (Installation.objects.count(), Person.objects.count(), Event.objects.count()) == (
        0,
        0,
        0,
    )


# --- Database constraints


def test_the_database_keeps_push_registration_ids_unique():
    InstallationFactory(push_registration_id="reg-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        InstallationFactory(push_registration_id="reg-1")


def test_the_database_allows_one_primary_installation_per_person():
    person = PersonFactory()
    InstallationFactory(person=person, is_primary=True)
    InstallationFactory(person=person, is_primary=False)
    InstallationFactory(person=person, is_primary=False)
    InstallationFactory(is_primary=True)  # another person's primary is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        InstallationFactory(person=person, is_primary=True)
    assert Installation.objects.filter(person=person, is_primary=True).count() == 1


def test_the_database_refuses_a_second_primary_by_update():
    person = PersonFactory()
    InstallationFactory(person=person, is_primary=True)
    other = InstallationFactory(person=person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Installation.objects.filter(pk=other.pk).update(is_primary=True)


# --- Set primary


@pytest.fixture
def three_devices(system_actor):
    person = person_services.person_create(actor=system_actor, fields={"externalId": "crm-1"})
    return person, [InstallationFactory(person=person) for _ in range(3)]


def test_making_an_installation_primary_takes_the_flag_from_the_others(
    three_devices, operator_actor, editor
):
    person, (a, b, c) = three_devices
    services.installation_set_primary(installation=a, actor=operator_actor)
    services.installation_set_primary(installation=b.push_registration_id, actor=operator_actor)
    assert [reload(i).is_primary for i in (a, b, c)] == [False, True, False]
    event = person.events.first()
    assert (event.kind, event.actor_user, event.source) == ("PRIMARY_CHANGED", editor, "UI")
    assert event.push_registration_id == b.push_registration_id
    assert event.changes == {"isPrimary": {"before": False, "after": True}}


def test_unsetting_primary_leaves_the_person_without_a_primary(three_devices, system_actor):
    person, (a, b, c) = three_devices
    services.installation_set_primary(installation=a, actor=system_actor)
    services.installation_unset_primary(installation=a, actor=system_actor)
    assert not Installation.objects.filter(person=person, is_primary=True).exists()
    assert person.events.first().changes == {"isPrimary": {"before": True, "after": False}}


def test_setting_primary_to_what_it_is_records_nothing(three_devices, system_actor):
    person, (a, _, _) = three_devices
    services.installation_unset_primary(installation=a, actor=system_actor)
    assert person.events.count() == 1  # the creation only


def test_primary_must_be_true_or_false(three_devices, system_actor):
    _, (a, _, _) = three_devices
    with pytest.raises(DomainError) as caught:
        services.installation_update(installation=a, actor=system_actor, is_primary="yes")
    assert (caught.value.code, caught.value.field) == (
        ErrorCode.REQUEST_FORMAT_INVALID,
        "isPrimary",
    )


# --- Push on/off and additionalData


def test_push_is_turned_off_and_on_with_an_event_each(register, operator_actor):
    installation = register("reg-1")
    services.installation_set_push_enabled(
        installation=installation, actor=operator_actor, enabled=False
    )
    assert reload(installation).registration_enabled is False
    services.installation_set_push_enabled(installation="reg-1", actor=operator_actor, enabled=True)
    assert reload(installation).registration_enabled is True
    on, off = installation.person.events.all()[:2]
    assert (off.kind, off.changes) == (
        "PUSH_CHANGED",
        {"registrationEnabled": {"before": True, "after": False}},
    )
    assert on.changes == {"registrationEnabled": {"before": False, "after": True}}


def test_push_must_be_true_or_false(register, system_actor):
    installation = register("reg-1")
    with pytest.raises(DomainError) as caught:
        services.installation_set_push_enabled(
            installation=installation, actor=system_actor, enabled=0
        )
    assert caught.value.code == ErrorCode.REQUEST_FORMAT_INVALID
    assert reload(installation).registration_enabled is True


def test_additional_data_is_merged_and_a_null_removes_a_name(register, system_actor):
    installation = register("reg-1", additional_data={"theme": "dark", "otp": True})
    services.installation_update(
        installation=installation,
        actor=system_actor,
        additional_data={"theme": "light", "otp": None, "n": 3},
    )
    assert reload(installation).additional_data == {"theme": "light", "n": 3}
    event = installation.person.events.first()
    assert event.kind == "INSTALLATION_CHANGED"
    assert event.changes == {
        "additionalData": {
            "before": {"theme": "dark", "otp": True},
            "after": {"theme": "light", "n": 3},
        }
    }


def test_additional_data_can_be_replaced_whole(register, system_actor):
    installation = register("reg-1", additional_data={"theme": "dark", "otp": True})
    services.installation_set_additional_data(
        installation=installation, actor=system_actor, data={"n": 3}
    )
    assert reload(installation).additional_data == {"n": 3}


@pytest.mark.parametrize(("stored", "sent"), [(1, True), (True, 1), (0, False), (1, 1.0)])
def test_a_value_of_another_json_type_is_a_change(register, system_actor, stored, sent):
    """In JSON true is not 1 (Python's == says it is): the new type is stored and recorded."""
    installation = register("reg-1", additional_data={"flag": stored})
    services.installation_update(
        installation=installation, actor=system_actor, additional_data={"flag": sent}
    )
    value = reload(installation).additional_data["flag"]
    assert type(value) is type(sent) and value == sent
    assert installation.person.events.first().changes["additionalData"]["after"] == {"flag": sent}


def test_the_same_names_and_values_in_another_order_are_no_change(register, system_actor):
    installation = register("reg-1", additional_data={"theme": "dark", "n": 3})
    events = installation.person.events.count()
    services.installation_set_additional_data(
        installation=installation, actor=system_actor, data={"n": 3, "theme": "dark"}
    )
    assert installation.person.events.count() == events


def test_an_edit_from_what_an_editor_showed_keeps_what_changed_meanwhile(register, system_actor):
    """Only what the operator changed from the shown value is written; a name changed on
    both sides is a VERSION_CONFLICT naming it, with the stored values, and writes nothing."""
    installation = register("reg-1", additional_data={"theme": "dark", "otp": True})
    shown = {"theme": "dark", "otp": True}
    services.installation_update(
        installation=installation,
        actor=system_actor,
        additional_data={"locale": "hr", "otp": False},
    )

    def typed(data: dict) -> None:  # what the operator typed in the editor that showed ``shown``
        services.installation_set_additional_data(
            installation=installation, actor=system_actor, data=data, shown=shown
        )

    typed({"theme": "light", "otp": True})
    assert reload(installation).additional_data == {"theme": "light", "otp": False, "locale": "hr"}
    with pytest.raises(DomainError) as caught:
        typed({"theme": "blue", "otp": True})
    assert caught.value.code == ErrorCode.VERSION_CONFLICT
    assert caught.value.field == "additionalData.theme"
    assert caught.value.details == {
        "additionalData": {"theme": "light", "otp": False, "locale": "hr"}
    }
    assert reload(installation).additional_data == {"theme": "light", "otp": False, "locale": "hr"}


def test_bad_additional_data_changes_nothing(register, system_actor):
    installation = register("reg-1", additional_data={"theme": "dark"})
    with pytest.raises(DomainError) as caught:
        services.installation_set_additional_data(
            installation=installation, actor=system_actor, data={"theme": "x" * 4097}
        )
    assert caught.value.field == "additionalData.theme"
    assert reload(installation).additional_data == {"theme": "dark"}
    assert installation.person.events.count() == 1


def test_system_data_of_an_installation_cannot_be_given_by_operators_as_push_data(
    register, system_actor
):
    installation = register("reg-1")
    # Only the device's own update takes system data, and only the names it knows.
    assert "system_data" not in inspect.signature(services.installation_update).parameters
    assert "system_data" not in inspect.signature(services.installation_edit).parameters
    with pytest.raises(DomainError):
        services.installation_device_update(
            installation=installation,
            actor=system_actor,
            application=installation.application,
            system_data={"colour": "red"},
        )


# --- Depersonalize


def test_depersonalize_moves_the_installation_to_a_fresh_anonymous_lead(
    three_devices, operator_actor, editor
):
    person, (a, b, _) = three_devices
    services.installation_set_primary(installation=a, actor=operator_actor)
    anonymous = installation_depersonalize(installation=a, actor=operator_actor)
    a = reload(a)
    assert a.person_id == anonymous.pk != person.pk
    assert a.is_primary is False
    assert anonymous.type == PersonType.LEAD
    assert anonymous.external_id is None and not anonymous.identities.exists()
    assert reload(b).person_id == person.pk
    kinds = list(person.events.values_list("kind", flat=True))
    assert kinds == ["DEPERSONALIZE", "PRIMARY_CHANGED", "PERSON_CREATED"]
    event = person.events.first()
    assert (event.actor_user, event.push_registration_id) == (editor, a.push_registration_id)
    assert event.changes["movedTo"] == anonymous.pk
    assert anonymous.events.get().kind == "DEPERSONALIZE"


def test_depersonalizing_a_lone_anonymous_installation_changes_nothing(register, system_actor):
    installation = register("reg-1")
    result = installation_depersonalize(installation=installation, actor=system_actor)
    assert result.pk == installation.person_id
    assert Person.objects.count() == 1
    assert reload(installation).person_id == installation.person_id


# --- Uninstall


def test_uninstall_removes_the_installation_and_leaves_an_event(three_devices, system_actor):
    person, (a, _, _) = three_devices
    services.installation_delete(installation=a, actor=system_actor)
    assert not Installation.objects.filter(pk=a.pk).exists()
    event = person.events.first()
    assert (event.kind, event.push_registration_id) == ("UNINSTALL", a.push_registration_id)
    assert Person.objects.filter(pk=person.pk).exists()


# --- Unknown registrations


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        (services.installation_set_primary, {}),
        (services.installation_unset_primary, {}),
        (services.installation_set_push_enabled, {"enabled": False}),
        (services.installation_update, {"is_primary": True}),
        (services.installation_edit, {"registration_enabled": False}),
        (services.installation_set_additional_data, {"data": {"a": 1}}),
        (installation_depersonalize, {}),
        (services.installation_delete, {}),
        (installation_personalize, {"identity": {"externalId": "crm-1"}}),
    ],
)
def test_every_operation_on_an_unknown_registration_is_no_registration(
    system_actor, operation, kwargs
):
    with pytest.raises(DomainError) as caught:
        operation(installation="no-such-registration", actor=system_actor, **kwargs)
    assert (caught.value.code, caught.value.field) == (
        ErrorCode.NO_REGISTRATION,
        "pushRegistrationId",
    )
    assert Person.objects.count() == 0


# --- Input PostgreSQL cannot store is a rule, not a 500


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"push_registration_id": "reg\x00"}, "pushRegId"),
        ({"push_registration_id": 42}, "pushRegId"),
        ({"system_data": {"deviceName": "Ana's\x00phone"}}, "systemData.deviceName"),
    ],
)
def test_a_registration_with_unstorable_text_is_rejected(application, kwargs, field):
    kwargs.setdefault("push_registration_id", "reg-1")
    with pytest.raises(DomainError) as caught:
        services.installation_register(
            application=application, actor=Actor.device(application.code), **kwargs
        )
    assert caught.value.field == field
    assert not Installation.objects.exists()


def test_a_registration_id_with_a_nul_character_is_no_registration(register, system_actor):
    register("reg-1")
    with pytest.raises(DomainError) as caught:
        services.installation_set_push_enabled(
            installation="reg-1\x00", actor=system_actor, enabled=False
        )
    assert caught.value.code == ErrorCode.NO_REGISTRATION


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"name": "Shop\x00"}, "name"), ({"name": "Shop", "code": "shop\x00"}, "code")],
)
def test_an_application_with_a_nul_character_is_rejected(kwargs, field):
    with pytest.raises(DomainError) as caught:
        application_create(**kwargs)
    assert caught.value.field == field
