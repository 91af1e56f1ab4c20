"""Revert one history event's change (directory.revert): each kind of event, a revert of a
revert, conflicts, and the kinds that have no revert."""

from decimal import Decimal

import pytest

from core.errors import DomainError, ErrorCode
from directory.revert import revert_event
from installations import services as installation_services
from installations.models import Installation
from people import services
from people.apply import custom_attribute_values
from people.models import Event, EventKind, Person
from people.reverts import is_revertible, revert_lines
from tests.factories import InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def newest(person: Person) -> Event:
    return person.events.order_by("-id").first()


def revert(event: Event, actor) -> Event:
    result = revert_event(event_id=event.pk, actor=actor)
    assert result.recorded is not None
    assert result.recorded.reverts_id == event.pk
    return result.recorded


def refused(event: Event, actor, code: str = ErrorCode.REVERT_CONFLICT) -> DomainError:
    before = Event.objects.count()
    with pytest.raises(DomainError) as caught:
        revert_event(event_id=event.pk, actor=actor)
    assert caught.value.code == code
    assert Event.objects.count() == before  # nothing written
    return caught.value


def test_it_reverts_a_standard_attribute(profile, operator_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Split"})
    event = newest(person)
    made = revert(event, operator_actor)
    person.refresh_from_db()
    assert person.city == "Zagreb"
    assert made.kind == EventKind.ATTRIBUTES_CHANGED
    assert made.changes == {"city": {"before": "Split", "after": "Zagreb"}}
    assert made.actor_label == operator_actor.label
    assert made.source == operator_actor.source


def test_it_reverts_a_cleared_attribute_and_a_birth_date(profile, operator_actor):
    person = profile.person
    services.person_set_fields(
        person=person, actor=operator_actor, fields={"city": "", "birthDate": "1990-04-01"}
    )
    revert(newest(person), operator_actor)
    person.refresh_from_db()
    assert person.city == "Zagreb"
    assert person.birth_date is None


def test_the_revert_bumps_the_version(profile, operator_actor):
    person = profile.person
    made = services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Split"})
    result = revert_event(event_id=newest(person).pk, actor=operator_actor)
    assert result.person.version == made.version + 1


def test_it_refuses_an_older_version(profile, operator_actor):
    person = profile.person
    made = services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Split"})
    with pytest.raises(DomainError) as caught:
        revert_event(
            event_id=newest(person).pk, actor=operator_actor, expected_version=made.version - 1
        )
    assert caught.value.code == ErrorCode.VERSION_CONFLICT


def test_it_reverts_a_tag_added(profile, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    made = revert(newest(person), operator_actor)
    assert sorted(t.name for t in person.tags.all()) == ["newsletter", "vip"]
    assert made.kind == EventKind.TAGS_CHANGED
    assert made.changes == {"tags": {"added": [], "removed": ["gold"]}}


def test_it_reverts_a_tag_removed(profile, operator_actor):
    person = profile.person
    services.person_remove_tags(person=person, actor=operator_actor, names=["vip"])
    revert(newest(person), operator_actor)
    assert sorted(t.name for t in person.tags.all()) == ["newsletter", "vip"]


def test_a_revert_of_a_revert_restores_the_change(profile, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    undo = revert(newest(person), operator_actor)
    redo = revert(undo, operator_actor)
    assert "gold" in {t.name for t in person.tags.all()}
    assert redo.changes == {"tags": {"added": ["gold"], "removed": []}}
    assert redo.reverts_id == undo.pk


def test_a_tag_added_and_already_gone_is_nothing_to_do(profile, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold", "silver"])
    event = newest(person)
    services.person_remove_tags(person=person, actor=operator_actor, names=["gold"])
    made = revert(event, operator_actor)
    assert made.changes == {"tags": {"added": [], "removed": ["silver"]}}


def test_a_revert_with_nothing_left_to_do_records_nothing(profile, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    event = newest(person)
    revert(event, operator_actor)
    count = person.events.count()
    result = revert_event(event_id=event.pk, actor=operator_actor)
    assert result.recorded is None
    assert person.events.count() == count


def test_it_reverts_a_custom_attribute_set(profile, operator_actor):
    person = profile.person
    services.person_set_custom_attributes(
        person=person, actor=operator_actor, values={"Balance": Decimal("99.95"), "Visits": 3}
    )
    revert(newest(person), operator_actor)
    values = custom_attribute_values(person)
    assert values["Balance"] == Decimal("12.50")
    assert "Visits" not in values


def test_it_reverts_a_custom_attribute_removed(profile, operator_actor):
    person = profile.person
    services.person_remove_custom_attribute(person=person, actor=operator_actor, name="Nickname")
    revert(newest(person), operator_actor)
    assert custom_attribute_values(person)["Nickname"] == "Annie"


def test_it_reverts_a_list_of_objects_and_a_date_time(profile, operator_actor):
    person = profile.person
    orders = [{"sku": "A-1", "qty": 2, "paid": True}]
    services.person_set_custom_attributes(
        person=person,
        actor=operator_actor,
        values={"Orders": orders, "LastSeen": "2026-01-02T03:04:05Z"},
    )
    event = newest(person)
    services.person_set_custom_attributes(
        person=person, actor=operator_actor, values={"Orders": None, "LastSeen": None}
    )
    revert(newest(person), operator_actor)
    values = custom_attribute_values(person)
    assert values["Orders"] == orders
    assert values["LastSeen"].isoformat() == "2026-01-02T03:04:05+00:00"
    revert(event, operator_actor)
    assert "Orders" not in custom_attribute_values(person)


def test_a_custom_attribute_changed_since_is_a_conflict(profile, operator_actor):
    person = profile.person
    services.person_set_custom_attributes(
        person=person, actor=operator_actor, values={"Nickname": "Ann"}
    )
    event = newest(person)
    services.person_set_custom_attributes(
        person=person, actor=operator_actor, values={"Nickname": "Anka"}
    )
    error = refused(event, operator_actor)
    assert error.details["conflicts"] == [
        {"field": "customAttributes.Nickname", "now": "Anka", "restore": "Annie"}
    ]
    assert custom_attribute_values(person)["Nickname"] == "Anka"


def test_a_standard_attribute_changed_since_is_a_conflict(profile, operator_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Split"})
    event = newest(person)
    services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Rijeka"})
    error = refused(event, operator_actor)
    assert error.field == "city"
    assert error.details["conflicts"] == [{"field": "city", "now": "Rijeka", "restore": "Zagreb"}]
    assert "Rijeka" in error.message and "Zagreb" in error.message


def test_it_reverts_a_phone_added_and_removed(profile, operator_actor):
    person = profile.person
    services.person_add_phone(person=person, actor=operator_actor, number="+385 91 234 5678")
    revert(newest(person), operator_actor)
    assert [i.value for i in person.identities.filter(kind="PHONE")] == ["38516419710"]
    services.person_remove_phone(person=person, actor=operator_actor, number="38516419710")
    revert(newest(person), operator_actor)
    phone = person.identities.get(kind="PHONE")
    assert (phone.value, phone.national_number) == ("38516419710", "16419710")


def test_it_reverts_an_email_added_and_removed(profile, operator_actor):
    person = profile.person
    services.person_add_email(person=person, actor=operator_actor, address="ana@example.org")
    revert(newest(person), operator_actor)
    assert [i.value for i in person.identities.filter(kind="EMAIL")] == ["ana.horvat@example.com"]
    services.person_remove_email(
        person=person, actor=operator_actor, address="ana.horvat@example.com"
    )
    made = revert(newest(person), operator_actor)
    assert made.kind == EventKind.CONTACTS_CHANGED
    assert made.changes == {"emails": {"added": ["ana.horvat@example.com"], "removed": []}}


def test_a_removed_phone_now_another_persons_is_a_conflict_naming_the_owner(
    profile, operator_actor
):
    person = profile.person
    services.person_remove_phone(person=person, actor=operator_actor, number="38516419710")
    event = newest(person)
    other = services.person_create(actor=operator_actor, phones=["38516419710"])
    error = refused(event, operator_actor)
    assert error.details["conflicts"] == [
        {"field": "phones", "now": None, "restore": "38516419710", "ownerId": other.pk}
    ]
    assert f"person {other.pk}" in error.message
    assert not person.identities.filter(kind="PHONE").exists()


def test_an_external_id_now_another_persons_is_a_conflict(profile, operator_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=operator_actor, fields={"externalId": ""})
    event = newest(person)
    other = services.person_create(actor=operator_actor, fields={"externalId": "crm-42"})
    error = refused(event, operator_actor)
    assert error.details["conflicts"][0]["ownerId"] == other.pk


def test_it_reverts_push_off_and_on(profile, operator_actor):
    push_id = profile.primary.push_registration_id
    installation_services.installation_set_push_enabled(
        installation=push_id, actor=operator_actor, enabled=False
    )
    made = revert(newest(profile.person), operator_actor)
    assert Installation.objects.get(push_registration_id=push_id).registration_enabled is True
    assert made.kind == EventKind.PUSH_CHANGED
    assert made.push_registration_id == push_id
    revert(made, operator_actor)
    assert Installation.objects.get(push_registration_id=push_id).registration_enabled is False


def test_it_reverts_a_primary_change(profile, operator_actor):
    second = profile.second
    installation_services.installation_set_primary(installation=second, actor=operator_actor)
    made = revert(newest(profile.person), operator_actor)
    second.refresh_from_db()
    assert second.is_primary is False
    assert made.kind == EventKind.PRIMARY_CHANGED
    # The revert of the revert makes it primary again, and the other one not.
    revert(made, operator_actor)
    assert list(
        profile.person.installations.filter(is_primary=True).values_list("pk", flat=True)
    ) == [second.pk]


def test_it_reverts_an_unset_primary(profile, operator_actor):
    primary = profile.primary
    installation_services.installation_unset_primary(installation=primary, actor=operator_actor)
    revert(newest(profile.person), operator_actor)
    primary.refresh_from_db()
    assert primary.is_primary is True


def test_an_installation_gone_since_is_a_conflict(profile, operator_actor):
    push_id = profile.primary.push_registration_id
    installation_services.installation_set_push_enabled(
        installation=push_id, actor=operator_actor, enabled=False
    )
    event = newest(profile.person)
    installation_services.installation_delete(installation=push_id, actor=operator_actor)
    error = refused(event, operator_actor)
    assert error.details["conflicts"] == [
        {"field": "installation", "now": None, "restore": push_id}
    ]
    assert "no longer exists" in error.message


def test_an_installation_moved_to_another_person_is_a_conflict(profile, operator_actor):
    installation = profile.second
    installation_services.installation_set_push_enabled(
        installation=installation, actor=operator_actor, enabled=False
    )
    event = newest(profile.person)
    other = PersonFactory()
    Installation.objects.filter(pk=installation.pk).update(person=other)
    error = refused(event, operator_actor)
    assert error.details["conflicts"][0]["ownerId"] == other.pk


def test_a_revert_of_several_areas_reverts_them_all(profile, operator_actor):
    person = profile.person
    changes = services.merge_changes(fields={"city": "Split"}, tags=["gold"])
    services.person_update(person=person, actor=operator_actor, changes=changes)
    event = newest(person)
    assert event.kind == EventKind.PERSON_UPDATED
    made = revert(event, operator_actor)
    person.refresh_from_db()
    assert person.city == "Zagreb"
    assert "gold" not in {t.name for t in person.tags.all()}
    assert made.kind == EventKind.PERSON_UPDATED


@pytest.mark.parametrize(
    "kind",
    [
        EventKind.INSTALL,
        EventKind.APP_LAUNCH,
        EventKind.CUSTOM_EVENT,
        EventKind.PERSONALIZE,
        EventKind.DEPERSONALIZE,
        EventKind.UNINSTALL,
        EventKind.INSTALLATION_CHANGED,
    ],
)
def test_kinds_without_a_revert_are_refused(kind, profile, operator_actor):
    event = Event.objects.create(
        person=profile.person,
        kind=kind,
        actor_kind="SYSTEM",
        actor_label="tests",
        source="SYSTEM",
        changes={"application": "shop", "os": "Android"},
    )
    assert not is_revertible(event)
    error = refused(event, operator_actor, ErrorCode.NOT_REVERTIBLE)
    assert error.details == {"eventId": event.pk, "kind": kind}


def test_the_creation_of_a_person_is_not_revertible(profile, operator_actor):
    created = profile.person.events.get(kind=EventKind.PERSON_CREATED)
    assert not is_revertible(created)
    refused(created, operator_actor, ErrorCode.NOT_REVERTIBLE)


def test_an_unknown_event_is_not_found(db, operator_actor):
    with pytest.raises(DomainError) as caught:
        revert_event(event_id=987654, actor=operator_actor)
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_a_device_installation_on_another_person_left_alone(profile, operator_actor):
    """Reverting a primary change touches only that person's installations."""
    stranger = InstallationFactory(is_primary=True)
    installation_services.installation_set_primary(
        installation=profile.second, actor=operator_actor
    )
    revert(newest(profile.person), operator_actor)
    stranger.refresh_from_db()
    assert stranger.is_primary is True


def test_the_confirmation_lines_say_what_a_revert_restores(profile, operator_actor):
    person = profile.person
    changes = services.merge_changes(
        fields={"city": "Split"}, tags=["gold"], custom_attributes={"Visits": 3}
    )
    services.person_update(person=person, actor=operator_actor, changes=changes)
    assert revert_lines(newest(person)) == [
        "City: Split → Zagreb",
        "Removed tag gold",
        "Cleared Visits (was 3)",
    ]
    created = person.events.get(kind=EventKind.PERSON_CREATED)
    assert revert_lines(created) == []
