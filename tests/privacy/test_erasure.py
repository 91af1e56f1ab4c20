"""Erasure (DOMAIN.md): requested by an Administrator, pending for the cooling-off period,
cancellable, then run: nothing personal is left in any table, the history stays as tombstones
and the erasure record stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from people import services as people_services
from people.models import (
    AttributeValue,
    ContactIdentity,
    Event,
    NameTerm,
    Person,
    SuppressedIdentifier,
)
from privacy import services
from privacy.models import Erasure, ErasureState
from tests.profiles import make_profile

# What make_profile stores of Ana that is personal, as the tables would hold it.
PERSONAL = ["Horvat", "horvat", "crm-42", "38516419710", "ana.horvat@example.com", "push-ana"]


def every_row_as_text() -> str:
    """Every row of every table of the database, as one text to search."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(parts)


@pytest.fixture
def ana(db, system_actor, operator_actor):
    made = make_profile(system_actor)
    # More history: an edit by an operator, a tag change, a removed phone.
    people_services.person_set_fields(
        person=made.person, actor=operator_actor, fields={"city": "Split"}
    )
    people_services.person_add_phone(
        person=made.person, actor=operator_actor, number="+385 91 111 2222"
    )
    people_services.person_remove_phone(
        person=made.person, actor=operator_actor, number="+385 91 111 2222"
    )
    return made


def test_an_erasure_waits_for_its_cooling_off_then_leaves_nothing_personal(
    ana, administrator, settings
):
    settings.ERASURE_COOLING_OFF_DAYS = 7
    pk = ana.person.pk
    before = every_row_as_text()
    assert all(value in before for value in PERSONAL)  # the check below can fail
    events = Event.objects.filter(person_id=pk).count()
    requested = timezone.now()
    erasure = services.request_erasure(
        person_id=pk, reason="Asked by email, ticket 77", user=administrator, now=requested
    )
    assert erasure.due_at == requested + dt.timedelta(days=7)

    # Not yet due: nothing happens.
    assert services.run_due_erasures(now=requested + dt.timedelta(days=6, hours=23)) == []
    assert Person.objects.filter(pk=pk).exists()

    (done,) = services.run_due_erasures(now=requested + dt.timedelta(days=7, seconds=1))
    assert done.pk == erasure.pk and done.state == ErasureState.DONE
    assert done.erased == {
        "identities": 3,
        "installations": 2,
        "attributeValues": 2,
        "tags": 2,
        "events": events,
        "eventsOfOthers": 0,
        "suppressed": 5,
    }
    assert not Person.objects.filter(pk=pk).exists()
    assert not ContactIdentity.objects.filter(person_id=pk).exists()
    assert not Installation.objects.filter(person_id=pk).exists()
    assert not AttributeValue.objects.filter(person_id=pk).exists()

    after = every_row_as_text()
    leaks = [value for value in PERSONAL if value in after]
    assert leaks == [], after
    # The history stays, as tombstones: kinds, times and actors, no values.
    tombstones = list(Event.objects.filter(erased_person_id=pk))
    assert len(tombstones) == events
    assert all(event.person_id is None for event in tombstones)
    assert all(set(event.changes.values()) <= {"erased"} for event in tombstones)
    assert any(event.changes for event in tombstones)
    # The erasure record stays, without personal data.
    record = Erasure.objects.get(pk=erasure.pk)
    assert (record.person_id, record.requested_label) == (pk, administrator.username)
    assert SuppressedIdentifier.objects.filter(erasure_id=erasure.pk).count() == 5


@pytest.mark.postgres_only
def test_the_erased_names_leave_the_name_dictionary(ana, administrator):
    assert NameTerm.objects.filter(term="horvat").exists()
    erasure = services.request_erasure(person_id=ana.person.pk, reason="asked", user=administrator)
    services.run_due_erasures(now=erasure.due_at)
    assert not NameTerm.objects.filter(term="horvat").exists()


def test_the_history_of_others_keeps_no_erased_registration(ana, administrator, operator_actor):
    """A device that moved from someone else: that person's history named its registration."""
    other = people_services.person_create(actor=operator_actor, fields={"firstName": "Iva"})
    Event.objects.create(
        person=other,
        kind="DEPERSONALIZE",
        actor_kind="SYSTEM",
        actor_label="system",
        source="SYSTEM",
        push_registration_id=ana.primary.push_registration_id,
    )
    erasure = services.request_erasure(person_id=ana.person.pk, reason="asked", user=administrator)
    (done,) = services.run_due_erasures(now=erasure.due_at)
    assert done.erased["eventsOfOthers"] == 1
    assert not Event.objects.filter(push_registration_id=ana.primary.push_registration_id).exists()
    assert Event.objects.filter(person=other, kind="DEPERSONALIZE").exists()


def test_a_pending_erasure_can_be_cancelled_and_then_never_runs(ana, administrator):
    pk = ana.person.pk
    erasure = services.request_erasure(person_id=pk, reason="asked", user=administrator)
    with pytest.raises(DomainError) as again:
        services.request_erasure(person_id=pk, reason="twice", user=administrator)
    assert again.value.code == ErrorCode.CONFLICT
    cancelled = services.cancel_erasure(erasure_id=erasure.pk, user=administrator)
    assert cancelled.state == ErasureState.CANCELLED and cancelled.cancelled_by == administrator
    assert services.run_due_erasures(now=erasure.due_at + dt.timedelta(days=1)) == []
    assert Person.objects.filter(pk=pk).exists()
    with pytest.raises(DomainError) as twice:
        services.cancel_erasure(erasure_id=erasure.pk, user=administrator)
    assert twice.value.code == ErrorCode.CONFLICT
    # A new request is possible after a cancellation.
    assert services.request_erasure(person_id=pk, reason="again", user=administrator).pk


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 2001])
def test_an_erasure_needs_a_reason(ana, administrator, reason):
    with pytest.raises(DomainError) as refused:
        services.request_erasure(person_id=ana.person.pk, reason=reason, user=administrator)
    assert refused.value.field == "reason"
    assert not Erasure.objects.exists()


def test_an_erasure_of_nobody_is_not_found(db, administrator):
    with pytest.raises(DomainError) as refused:
        services.request_erasure(person_id=999_999, reason="asked", user=administrator)
    assert refused.value.code == ErrorCode.NOT_FOUND


def test_the_command_runs_the_due_erasures(ana, administrator):
    from io import StringIO

    from django.core.management import call_command

    Erasure.objects.create(
        person_id=ana.person.pk,
        reason="asked",
        requested_label="admin",
        due_at=timezone.now() - dt.timedelta(seconds=1),
    )
    out = StringIO()
    call_command("run_erasures", stdout=out)
    assert f"Erased person {ana.person.pk}" in out.getvalue()
    assert "1 erasure(s) run." in out.getvalue()
    assert not Person.objects.filter(pk=ana.person.pk).exists()


def test_a_tombstone_cannot_be_reverted(ana, administrator, operator_actor):
    from directory.revert import revert_event

    erasure = services.request_erasure(person_id=ana.person.pk, reason="asked", user=administrator)
    services.run_due_erasures(now=erasure.due_at)
    tombstone = Event.objects.get(erased_person_id=ana.person.pk, kind="ATTRIBUTES_CHANGED")
    with pytest.raises(DomainError) as refused:
        revert_event(event_id=tombstone.pk, actor=operator_actor)
    assert refused.value.code == ErrorCode.NOT_FOUND


def test_an_administrator_requests_the_erasure_of_everyone_a_search_finds(
    db, client, administrator, editor, operator_actor, settings
):
    for index in range(3):
        people_services.person_create(
            actor=operator_actor, fields={"firstName": "Bulk", "lastName": f"Gone{index}"}
        )
    keep = people_services.person_create(actor=operator_actor, fields={"firstName": "Stays"})
    client.force_login(editor)
    assert client.post("/search/erase", {"query": "q=bulk", "reason": "x"}).status_code == 403
    client.force_login(administrator)
    page = client.get("/", {"q": "bulk"}).content.decode()
    assert 'data-testid="erase-population"' in page and 'value="q=bulk"' in page
    assert 'data-testid="erase-population"' not in client.get("/").content.decode()

    everyone = client.post("/search/erase", {"query": "", "reason": "x"}, follow=True)
    assert "narrow the list with a search first" in everyone.content.decode()
    settings.BULK_ERASURE_MAX = 2
    too_many = client.post("/search/erase", {"query": "q=bulk", "reason": "x"}, follow=True)
    assert "more than 2 people" in too_many.content.decode()
    assert not Erasure.objects.exists()

    settings.BULK_ERASURE_MAX = 10
    services.request_erasure(
        person_id=Person.objects.get(last_name="Gone0").pk, reason="one", user=administrator
    )
    done = client.post("/search/erase", {"query": "q=bulk", "reason": "list"}, follow=True)
    assert "Erasure requested for 2 people (1 already pending)" in done.content.decode()
    pending = Erasure.objects.filter(state=ErasureState.PENDING)
    assert sorted(
        Person.objects.filter(pk__in=pending.values("person_id")).values_list(
            "last_name", flat=True
        )
    ) == ["Gone0", "Gone1", "Gone2"]
    assert not pending.filter(person_id=keep.pk).exists()
    services.run_due_erasures(now=timezone.now() + dt.timedelta(days=8))
    assert list(Person.objects.values_list("first_name", flat=True)) == ["Stays"]
