"""Merge two people with a choice per field, and undo it exactly (directory.merge)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from directory.merge import MERGED_AWAY_RELATIONS, MergeChoices, merge
from directory.merge_undo import undo_merge
from installations import services as installation_services
from installations.models import Installation
from people import custom_attributes as attribute_types
from people import services
from people.models import (
    AttributeValue,
    ContactIdentity,
    DuplicatePair,
    Event,
    EventKind,
    NotDuplicate,
    Person,
    PersonTag,
    PersonType,
)
from privacy.services import request_erasure
from tests.factories import InstallationFactory, PersonFactory

pytestmark = pytest.mark.django_db

PERSON_FIELDS = [
    f.attname
    for f in Person._meta.concrete_fields
    if f.attname not in ("tag_ids", "search_name", "search_name_reversed")
]


def full_snapshot(pk: int, *, with_row_times: bool = True) -> dict:
    """Everything of one person: its row, identities, tags, attribute values, installations
    and the ids of its history events."""
    row = Person.objects.filter(pk=pk).values(*PERSON_FIELDS).get()
    if not with_row_times:
        row.pop("modified_at")
        row.pop("version")
    values = {}
    for value in AttributeValue.objects.filter(person_id=pk).select_related("definition"):
        values[value.definition.name] = attribute_types.from_row(value.definition, value)
    return {
        "row": row,
        "identities": list(ContactIdentity.objects.filter(person_id=pk).order_by("pk").values()),
        "tags": sorted(PersonTag.objects.filter(person_id=pk).values_list("tag_id", flat=True)),
        "attributes": values,
        "installations": list(Installation.objects.filter(person_id=pk).order_by("pk").values()),
        "events": sorted(Event.objects.filter(person_id=pk).values_list("pk", flat=True)),
    }


def test_it_merges_with_defaults(pair, operator_actor):
    survivor, other, mine, theirs = pair
    result = merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=operator_actor)
    person = result.person
    assert not Person.objects.filter(pk=other.pk).exists()
    person.refresh_from_db()
    # The newer non-empty value (the other was modified last), a customer over a lead.
    assert person.first_name == "Anna"
    assert person.city == "Zagreb"  # the other's is empty
    assert person.country == "Croatia"
    assert person.birth_date == dt.date(1990, 4, 1)
    assert person.type == PersonType.CUSTOMER
    assert person.external_id == "ext-2"
    assert person.search_name == "anna horvat"
    assert set(person.identities.values_list("value", flat=True)) == {
        "385911111111",
        "385912222222",
        "ana@example.com",
        "anna@example.org",
    }
    assert sorted(person.tags.values_list("name", flat=True)) == ["beta", "newsletter", "vip"]
    values = {
        row.definition.name: attribute_types.from_row(row.definition, row)
        for row in person.attribute_values.select_related("definition")
    }
    assert values == {"Age": 31, "Nick": "ana", "Score": Decimal("12.50"), "Vip": True}
    installations = Installation.objects.filter(person=person)
    assert installations.count() == 5
    # The newer person's primary is kept, and it is the only one.
    assert list(installations.filter(is_primary=True)) == [theirs[1]]
    assert person.version == survivor.version + 1
    assert result.event.kind == EventKind.MERGE
    assert result.event.person_id == person.pk
    assert result.event.changes["mergedPersonId"] == other.pk
    # The history is combined.
    assert Event.objects.filter(person=person, kind=EventKind.PERSON_CREATED).count() == 2


def test_it_keeps_the_chosen_values(pair, operator_actor):
    survivor, other, mine, theirs = pair
    choices = MergeChoices(
        fields={"firstName": "survivor", "externalId": "survivor", "type": "survivor"},
        custom_attributes={"Age": "survivor", "Vip": "survivor"},
        primary=mine[1].push_registration_id,
    )
    merge(survivor_id=survivor.pk, other_id=other.pk, choices=choices, actor=operator_actor)
    person = Person.objects.get(pk=survivor.pk)
    assert person.first_name == "Ana"
    assert person.external_id is None  # the survivor had none: at most one, chosen
    assert person.type == PersonType.LEAD
    names = set(person.attribute_values.values_list("definition__name", flat=True))
    assert names == {"Age", "Nick", "Score"}  # Vip: the survivor's (none) was chosen
    assert person.attribute_values.get(definition__name="Age").value_number == 30
    primaries = Installation.objects.filter(person=person, is_primary=True)
    assert list(primaries) == [mine[1]]


def test_no_primary_may_be_chosen(pair, operator_actor):
    survivor, other, _, _ = pair
    merge(
        survivor_id=survivor.pk,
        other_id=other.pk,
        choices=MergeChoices(primary=""),
        actor=operator_actor,
    )
    assert not Installation.objects.filter(person_id=survivor.pk, is_primary=True).exists()


def test_undo_restores_both_people_exactly(pair, operator_actor):
    survivor, other, _, _ = pair
    before_survivor = full_snapshot(survivor.pk, with_row_times=False)
    before_other = full_snapshot(other.pk)
    result = merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=operator_actor)
    undone = undo_merge(event_id=result.event.pk, actor=operator_actor)
    after_survivor = full_snapshot(survivor.pk, with_row_times=False)
    after_other = full_snapshot(other.pk)
    # The history gained the merge and the undo events: the rest is as it was.
    merge_events = {result.event.pk, undone.event.pk}
    assert set(after_survivor.pop("events")) - set(before_survivor["events"]) == merge_events
    before_survivor.pop("events")
    assert len(after_other["events"]) == len(before_other["events"]) + 1
    after_other["events"] = after_other["events"][:-1]
    assert after_survivor == before_survivor
    assert after_other == before_other
    assert undone.survivor.version == result.person.version + 1
    assert undone.event.kind == EventKind.MERGE_UNDONE
    assert undone.event.reverts_id == result.event.pk


def test_undo_works_once(pair, operator_actor):
    survivor, other, _, _ = pair
    result = merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=operator_actor)
    undo_merge(event_id=result.event.pk, actor=operator_actor)
    with pytest.raises(DomainError) as caught:
        undo_merge(event_id=result.event.pk, actor=operator_actor)
    assert caught.value.code == ErrorCode.NOT_REVERTIBLE


def test_undo_after_a_later_change_lists_the_conflicts(pair, operator_actor):
    survivor, other, _, theirs = pair
    result = merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=operator_actor)
    services.person_set_fields(person=survivor.pk, actor=operator_actor, fields={"city": "Split"})
    services.person_add_tags(person=survivor.pk, actor=operator_actor, names=["late"])
    installation_services.installation_set_primary(
        installation=theirs[0].push_registration_id, actor=operator_actor
    )
    events = Event.objects.count()
    with pytest.raises(DomainError) as caught:
        undo_merge(event_id=result.event.pk, actor=operator_actor)
    assert caught.value.code == ErrorCode.REVERT_CONFLICT
    fields = [c["field"] for c in caught.value.details["conflicts"]]
    assert fields == ["city", "tags", "installation", "installation"]
    city = caught.value.details["conflicts"][0]
    assert city == {"field": "city", "now": "Split", "restore": "Zagreb"}
    # Nothing written.
    assert Event.objects.count() == events
    assert not Person.objects.filter(pk=other.pk).exists()


def test_undo_refuses_when_the_other_external_id_was_taken(pair, operator_actor):
    survivor, other, _, _ = pair
    choices = MergeChoices(fields={"externalId": "survivor"})
    result = merge(
        survivor_id=survivor.pk, other_id=other.pk, choices=choices, actor=operator_actor
    )
    third = services.person_create(actor=operator_actor, fields={"externalId": "ext-2"})
    with pytest.raises(DomainError) as caught:
        undo_merge(event_id=result.event.pk, actor=operator_actor)
    assert caught.value.details["conflicts"] == [
        {"field": "externalId", "now": "ext-2", "restore": "ext-2", "ownerId": third.pk}
    ]


def test_undo_is_refused_after_the_window(pair, operator_actor, settings):
    survivor, other, _, _ = pair
    settings.MERGE_UNDO_DAYS = 30
    result = merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=operator_actor)
    Event.objects.filter(pk=result.event.pk).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    with pytest.raises(DomainError) as caught:
        undo_merge(event_id=result.event.pk, actor=operator_actor)
    assert caught.value.code == ErrorCode.NOT_REVERTIBLE
    settings.MERGE_UNDO_DAYS = 40
    undo_merge(event_id=result.event.pk, actor=operator_actor)
    assert Person.objects.filter(pk=other.pk).exists()


def test_it_refuses_a_stale_version(pair, operator_actor):
    survivor, other, _, _ = pair
    services.person_set_fields(person=other.pk, actor=operator_actor, fields={"city": "Rijeka"})
    with pytest.raises(DomainError) as caught:
        merge(
            survivor_id=survivor.pk,
            other_id=other.pk,
            choices=None,
            actor=operator_actor,
            expected_versions={survivor.pk: survivor.version, other.pk: other.version},
        )
    assert caught.value.code == ErrorCode.VERSION_CONFLICT
    assert caught.value.details["personId"] == other.pk
    assert Person.objects.filter(pk=other.pk).exists()


def test_it_refuses_to_merge_a_person_with_itself(pair, operator_actor):
    survivor, _, _, _ = pair
    with pytest.raises(DomainError) as caught:
        merge(survivor_id=survivor.pk, other_id=survivor.pk, choices=None, actor=operator_actor)
    assert caught.value.code == ErrorCode.BAD_REQUEST


def test_it_refuses_a_primary_of_nobody_and_bad_choices(pair, operator_actor):
    survivor, other, _, _ = pair
    with pytest.raises(DomainError):
        merge(
            survivor_id=survivor.pk,
            other_id=other.pk,
            choices=MergeChoices(primary="nobody's"),
            actor=operator_actor,
        )
    with pytest.raises(DomainError):
        MergeChoices.from_data({"fields": {"firstName": "both"}})
    with pytest.raises(DomainError):
        MergeChoices.from_data({"fields": {"shoeSize": "other"}})
    assert Person.objects.filter(pk=other.pk).exists()


def test_a_lead_without_data_merges_into_a_customer(operator_actor):
    lead = PersonFactory(type=PersonType.LEAD, first_name="", last_name="")
    customer = PersonFactory(type=PersonType.CUSTOMER, first_name="Iva", last_name="Kos")
    InstallationFactory(person=lead)
    result = merge(survivor_id=lead.pk, other_id=customer.pk, choices=None, actor=operator_actor)
    assert result.person.type == PersonType.CUSTOMER
    assert result.person.first_name == "Iva"
    undo_merge(event_id=result.event.pk, actor=operator_actor)
    assert Person.objects.get(pk=customer.pk).first_name == "Iva"
    assert Person.objects.get(pk=lead.pk).type == PersonType.LEAD


def test_a_person_pending_erasure_is_not_merged(pair, operator_actor, administrator):
    survivor, other, _, _ = pair
    request_erasure(person_id=other.pk, reason="asked", user=administrator)
    with pytest.raises(DomainError) as caught:
        merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=operator_actor)
    assert caught.value.code == ErrorCode.CONFLICT
    assert caught.value.details == {"personId": other.pk}
    assert Person.objects.filter(pk=other.pk).exists()


def test_every_relation_to_a_person_is_dealt_with_before_the_merged_away_row_goes():
    """The merged-away person's row is deleted without Django's deletion collector: each
    relation must be moved or deleted by the merge (MERGED_AWAY_RELATIONS), or the database
    would refuse the delete."""
    relations = {
        f"{field.related_model.__name__}.{field.field.name}"
        for field in Person._meta.get_fields(include_hidden=True)
        if field.is_relation and field.auto_created and not field.concrete
    }
    assert relations == set(MERGED_AWAY_RELATIONS)


def test_nothing_of_the_merged_away_person_is_left(pair, operator_actor, editor):
    survivor, other, _, _ = pair
    third = PersonFactory()
    DuplicatePair.objects.create(low_id=other.pk, high_id=third.pk, reasons=["name"])
    NotDuplicate.objects.create(low_id=survivor.pk, high_id=other.pk, operator=editor)
    with CaptureQueriesContext(connection) as queries:
        merge(
            survivor_id=survivor.pk,
            other_id=other.pk,
            # The survivor's Age: the other's Age row is left behind and deleted.
            choices=MergeChoices(custom_attributes={"Age": "survivor"}),
            actor=operator_actor,
        )
    # Both people locked (with their pending erasures), their identities, values,
    # installations (locked) and tags; the identities moved, the survivor's primary unset
    # (the other's is kept), the installations and the history moved (their ids read
    # first), a tag and two values moved; what is left of the other deleted (a shared tag,
    # its Age, the pairs, the row); the survivor saved and its MERGE event.
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 19, "\n".join(statements)
    assert not PersonTag.objects.filter(person_id=other.pk).exists()
    assert not AttributeValue.objects.filter(person_id=other.pk).exists()
    assert not DuplicatePair.objects.filter(low_id=other.pk).exists()
    assert not NotDuplicate.objects.filter(high_id=other.pk).exists()
    assert not Person.objects.filter(pk=other.pk).exists()
    assert Person.objects.filter(pk=third.pk).exists()
