"""Faults in the middle of a multi-step write leave nothing half-written (issue 8, item 5).

Each test replaces an inner step of an operation (recording the history event, moving the
installation, applying the attributes) with one that fails after the earlier steps wrote,
and checks that every table is exactly as before. A batch writes all its valid items in one
transaction: a fault part way writes nothing of any item (a rule an item breaks is that
item's error in the per-item report, tests/people/test_api_person_batches.py).
"""

from __future__ import annotations

from typing import Any

import pytest

import installations.depersonalize as depersonalization
import installations.personalize as personalization
import people.services as person_services
from core.models import ApiKeyRole
from installations.models import Installation
from people import batches
from people.apply import custom_attribute_values
from people.changes import replace_changes
from people.history import Actor
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    DataType,
    Event,
    Person,
    Tag,
)
from tests.factories import ApplicationFactory, InstallationFactory
from tests.vendor_api import key_client

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("faults")
BATCH = "/people/2/persons/batch"
PERSONS = "/people/2/persons"


class InjectedFault(RuntimeError):
    """The failure a test injects; nothing in the code under test expects it."""


def database_state() -> dict[str, list[dict[str, Any]]]:
    """Every row an operation on people could write, in a stable order."""
    return {
        "people": list(Person.objects.order_by("pk").values()),
        "identities": list(ContactIdentity.objects.order_by("pk").values()),
        "installations": list(Installation.objects.order_by("pk").values()),
        "events": list(Event.objects.order_by("pk").values()),
        "attribute values": list(AttributeValue.objects.order_by("pk").values()),
        "tags": list(Tag.objects.order_by("pk").values()),
        "person tags": list(Person.tags.through.objects.order_by("pk").values()),
    }


def fail_after(original, wrote: list, *, when=lambda *a, **k: True):
    """``original`` that runs, then raises InjectedFault (when ``when`` says so)."""

    def step(*args, **kwargs):
        result = original(*args, **kwargs)
        if when(*args, **kwargs):
            wrote.append(True)
            raise InjectedFault("injected")
        return result

    return step


def fail_before(original, wrote: list, *, when=lambda *a, **k: True, check=lambda: True):
    """A step that raises instead of running; ``check`` confirms earlier steps wrote."""

    def step(*args, **kwargs):
        if when(*args, **kwargs):
            assert check(), "the fault must come after earlier writes of the operation"
            wrote.append(True)
            raise InjectedFault("injected")
        return original(*args, **kwargs)

    return step


@pytest.fixture
def application():
    return ApplicationFactory(name="Shop", code="shop")


@pytest.fixture
def score():
    return AttributeDefinition.objects.create(name="Score", data_type=DataType.INTEGER)


# ---------------------------------------------------------------------------------------------
# Personalize


def test_a_fault_after_the_anonymous_profile_took_the_identity_writes_nothing(
    monkeypatch, application, score
):
    device = InstallationFactory(application=application)
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        personalization,
        "record_event",
        fail_before(
            personalization.record_event,
            injected,
            check=lambda: ContactIdentity.objects.filter(value="385916419710").exists(),
        ),
    )

    with pytest.raises(InjectedFault):
        personalization.installation_personalize(
            installation=device.push_registration_id,
            actor=ACTOR,
            identity={"phoneNumber": "+385 91 641 9710", "externalId": "crm-1"},
            attributes={"firstName": "Ana", "tags": ["vip"], "customAttributes": {"Score": 3}},
        )

    assert injected
    assert database_state() == before


def test_a_fault_after_the_installation_moved_to_its_owner_writes_nothing(monkeypatch, application):
    owner = person_services.person_create(
        actor=ACTOR, fields={"firstName": "Ana"}, phones=["+385 91 641 9710"]
    )
    device = InstallationFactory(application=application)
    person_services.person_add_tags(person=device.person, actor=ACTOR, names=["anonymous-history"])
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        personalization,
        "_move_installation",
        fail_after(personalization._move_installation, injected),
    )

    with pytest.raises(InjectedFault):
        personalization.installation_personalize(
            installation=device.push_registration_id,
            actor=ACTOR,
            identity={"phoneNumber": "+385916419710"},
        )

    assert injected
    assert database_state() == before
    assert Installation.objects.get(pk=device.pk).person_id != owner.pk


def test_a_fault_after_a_forced_depersonalize_and_move_writes_nothing(monkeypatch, application):
    first = person_services.person_create(actor=ACTOR, fields={"externalId": "crm-1"})
    second = person_services.person_create(actor=ACTOR, fields={"externalId": "crm-2"})
    device = InstallationFactory(application=application, person=first, is_primary=True)
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        personalization,
        "apply_person_changes",
        fail_before(
            personalization.apply_person_changes,
            injected,
            check=lambda: Installation.objects.get(pk=device.pk).person_id == second.pk,
        ),
    )

    with pytest.raises(InjectedFault):
        personalization.installation_personalize(
            installation=device.push_registration_id,
            actor=ACTOR,
            identity={"externalId": "crm-2"},
            attributes={"firstName": "Ivo"},
            force_depersonalize=True,
        )

    assert injected
    assert database_state() == before


def test_a_fault_while_personalizing_over_the_push_api_answers_500_and_writes_nothing(
    monkeypatch, client, application
):
    device = InstallationFactory(application=application)
    api = key_client(ApiKeyRole.MANAGE)
    api.raise_request_exception = False
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        personalization,
        "record_event",
        fail_before(personalization.record_event, injected),
    )

    response = api.post(
        f"/people/2/contactInformation/push/{device.push_registration_id}/personalize",
        {"identity": {"externalId": "crm-9"}, "attributes": {"firstName": "Ana"}},
        format="json",
        HTTP_APPCODE="shop",
    )

    assert response.status_code == 500
    assert response.json()["requestError"]["serviceException"]["messageId"] == "GENERAL_ERROR"
    assert injected
    assert database_state() == before


# ---------------------------------------------------------------------------------------------
# Edit and delete


def test_a_fault_after_every_part_of_an_edit_was_applied_writes_nothing(monkeypatch, score):
    person = person_services.person_create(
        actor=ACTOR, fields={"firstName": "Ana"}, tags=["old"], emails=["ana@example.com"]
    )
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        person_services,
        "record_event",
        fail_before(person_services.record_event, injected),
    )

    with pytest.raises(InjectedFault):
        person_services.person_update(
            person=person,
            actor=ACTOR,
            changes=replace_changes(
                fields={"firstName": "Anna", "city": "Split"},
                tags=["new"],
                custom_attributes={"Score": 7},
                phones=["+385 91 641 9710"],
                emails=[],
            ),
        )

    assert injected
    assert database_state() == before


def test_a_fault_after_the_first_installation_left_a_deleted_person_writes_nothing(
    monkeypatch, application
):
    person = person_services.person_create(
        actor=ACTOR, fields={"firstName": "Ana"}, phones=["+385 91 641 9710"], tags=["vip"]
    )
    InstallationFactory(application=application, person=person, is_primary=True)
    InstallationFactory(application=application, person=person)
    before = database_state()
    injected: list = []
    # After both installations moved to their anonymous profiles, with their events.
    monkeypatch.setattr(
        depersonalization,
        "record_audit",
        fail_before(
            depersonalization.record_audit,
            injected,
            check=lambda: not Installation.objects.filter(person=person).exists(),
        ),
    )

    with pytest.raises(InjectedFault):
        depersonalization.person_delete(person=person, actor=ACTOR)

    assert injected
    assert database_state() == before


def test_a_fault_while_deleting_over_the_api_answers_500_and_writes_nothing(
    monkeypatch, application
):
    person = person_services.person_create(actor=ACTOR, fields={"externalId": "crm-1"})
    InstallationFactory(application=application, person=person)
    api = key_client(ApiKeyRole.MANAGE)
    api.raise_request_exception = False
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        depersonalization,
        "record_audit",
        fail_before(
            depersonalization.record_audit,
            injected,
            check=lambda: not Installation.objects.filter(person=person).exists(),
        ),
    )

    response = api.delete(f"{PERSONS}?identifier=crm-1&type=EXTERNAL_ID")

    assert response.status_code == 500
    assert "Traceback" not in response.content.decode()
    assert injected
    assert database_state() == before


def test_a_fault_between_the_person_and_its_phones_in_admin_writes_nothing(
    monkeypatch, client, administrator
):
    person = person_services.person_create(actor=ACTOR, fields={"firstName": "Ana"})
    client.force_login(administrator)
    client.raise_request_exception = False
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        person_services,
        "person_update",
        fail_before(
            person_services.person_update,
            injected,
            # The phones and emails of the change page, after the person was saved.
            when=lambda **kwargs: kwargs["changes"].phones is not None,
            check=lambda: Person.objects.get(pk=person.pk).city == "Split",
        ),
    )
    form = client.get(f"/admin/people/person/{person.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    data.update(
        {
            "city": "Split",
            "identities-TOTAL_FORMS": "1",
            "identities-INITIAL_FORMS": "0",
            "identities-0-kind": "PHONE",
            "identities-0-value": "+385 91 641 9710",
            "installations-TOTAL_FORMS": "0",
            "installations-INITIAL_FORMS": "0",
        }
    )

    response = client.post(f"/admin/people/person/{person.pk}/change/", data)

    assert response.status_code == 500
    assert injected
    assert database_state() == before


# ---------------------------------------------------------------------------------------------
# Batches: all valid items in one transaction (issue 24, item 3): a fault part way through the
# write leaves nothing of any item, so that a retry of the same request duplicates nothing.


@pytest.fixture
def manage_api():
    client = key_client(ApiKeyRole.MANAGE)
    client.raise_request_exception = False
    return client


def assert_general_error_and_nothing_written(response, injected: list, before) -> None:
    assert response.status_code == 500
    assert response.json()["requestError"]["serviceException"]["messageId"] == "GENERAL_ERROR"
    assert injected
    assert database_state() == before


def test_a_fault_part_way_through_a_batch_update_writes_nothing_of_any_item(
    monkeypatch, manage_api, score
):
    people = [
        person_services.person_create(actor=ACTOR, fields={"externalId": f"crm-{n}"})
        for n in range(3)
    ]
    failing = people[1]
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        batches,
        "event_row",
        fail_before(
            batches.event_row,
            injected,
            when=lambda **kwargs: kwargs["person"].pk == failing.pk,
            check=lambda: Tag.objects.filter(name="batch").exists(),
        ),
    )
    update = {"firstName": "Changed", "tags": ["batch"], "customAttributes": {"Score": 5}}
    body = {
        "people": [
            {
                "query": {"identifier": f"crm-{n}", "type": "EXTERNAL_ID"},
                "update": {
                    **update,
                    "contactInformation": {"email": [{"address": f"p{n}@example.com"}]},
                },
            }
            for n in range(3)
        ]
    }

    response = manage_api.patch(BATCH, body, format="json")

    assert_general_error_and_nothing_written(response, injected, before)
    # The same request again, with nothing in the way, writes every item once.
    monkeypatch.undo()
    response = manage_api.patch(BATCH, body, format="json")
    assert response.status_code == 200
    for person in people:
        person.refresh_from_db()
        assert person.first_name == "Changed"
        assert custom_attribute_values(person) == {"Score": 5}


def test_a_fault_part_way_through_a_batch_create_creates_nothing(monkeypatch, manage_api):
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        batches,
        "event_row",
        fail_before(
            batches.event_row,
            injected,
            when=lambda **kwargs: kwargs["person"].first_name == "Faulty",
            check=lambda: Person.objects.filter(first_name="Ana").exists(),
        ),
    )
    body = {
        "people": [
            {"firstName": name, "contactInformation": {"phone": [{"number": phone}]}}
            for name, phone in [
                ("Ana", "+385 91 641 9710"),
                ("Faulty", "+385 91 641 9711"),
                ("Ivo", "+385 91 641 9712"),
            ]
        ]
    }

    response = manage_api.post(BATCH, body, format="json")

    assert_general_error_and_nothing_written(response, injected, before)
    monkeypatch.undo()
    assert manage_api.post(BATCH, body, format="json").status_code == 200
    assert sorted(Person.objects.values_list("first_name", flat=True)) == ["Ana", "Faulty", "Ivo"]


def test_a_fault_part_way_through_a_batch_delete_keeps_every_person_whole(
    monkeypatch, manage_api, application
):
    people = [
        person_services.person_create(
            actor=ACTOR, fields={"externalId": f"crm-{n}"}, phones=[f"+385 91 641 971{n}"]
        )
        for n in range(3)
    ]
    for person in people:
        InstallationFactory(application=application, person=person, is_primary=True)
    failing = people[1]
    before = database_state()
    injected: list = []
    monkeypatch.setattr(
        depersonalization,
        "event_row",
        fail_before(
            depersonalization.event_row,
            injected,
            when=lambda **kwargs: kwargs["changes"].get("movedFrom") == failing.pk,
            check=lambda: Person.objects.count() > len(before["people"]),
        ),
    )
    body = {
        "people": [{"query": {"identifier": f"crm-{n}", "type": "EXTERNAL_ID"}} for n in range(3)]
    }

    response = manage_api.delete(BATCH, body, format="json")

    assert_general_error_and_nothing_written(response, injected, before)
    monkeypatch.undo()
    assert manage_api.delete(BATCH, body, format="json").status_code == 200
    assert not Person.objects.filter(pk__in=[person.pk for person in people]).exists()
    # Each deleted person left a fresh anonymous profile for its installation.
    assert Person.objects.count() == 3
    assert Installation.objects.count() == 3
