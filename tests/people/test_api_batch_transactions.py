"""Batches are validated first and written in one transaction (issue 24, item 3).

A rule an item breaks is that item's error in the per-item report; a database failure part
way through the write leaves nothing of any item (503), so the same request sent again
duplicates nothing; the statements of a batch do not grow with its items; the tag batch is
all or nothing, also when a person is deleted while it runs.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    DataType,
    Event,
    Person,
    Tag,
)
from people.services import person_create
from tests.vendor_api import assert_vendor_error, assert_vendor_response

BATCH = "/people/2/persons/batch"


@pytest.fixture
def score(db):
    return AttributeDefinition.objects.create(name="Score", data_type=DataType.INTEGER)


def person_item(n: int, *, external_id: bool = True) -> dict:
    item = {
        "firstName": f"First{n}",
        "tags": [f"Segment {n % 5}", "Batch"],
        "contactInformation": {"email": [{"address": f"p{n}.{k}@example.com"} for k in range(3)]},
        "customAttributes": {"Score": n},
    }
    if external_id:
        item["externalId"] = f"crm-{n}"
    return item


def written() -> dict[str, int]:
    return {
        "people": Person.objects.count(),
        "identities": ContactIdentity.objects.count(),
        "attribute values": AttributeValue.objects.count(),
        "tag links": Person.tags.through.objects.count(),
        "events": Event.objects.count(),
    }


@pytest.mark.django_db
def test_a_mixed_batch_reports_each_item_and_writes_exactly_the_valid_ones(
    manage_client, score, system_actor
):
    jane = person_create(actor=system_actor, fields={"externalId": "jane"}, emails=["j@x.example"])
    people = [
        person_item(0),
        {"firstName": "Taken", "contactInformation": {"email": [{"address": "J@X.example"}]}},
        {"firstName": "Twin", "contactInformation": {"email": [{"address": "p0.1@example.com"}]}},
        {"firstName": "Bad", "customAttributes": {"Score": "many"}},
        {"firstName": "Undefined", "customAttributes": {"Nope": 1}},
        {"firstName": "Phone", "contactInformation": {"phone": [{"number": "0"}]}},
        {"externalId": "crm-0"},
        {"firstName": 7},
        person_item(1, external_id=False),
    ]

    response = manage_client.post(BATCH, {"people": people}, format="json")

    assert response.status_code == 207
    results = assert_vendor_response(response, BATCH, "post")["results"]
    assert [r["index"] for r in results] == list(range(len(people)))
    assert [r["status"] for r in results] == [200, 409, 409, 400, 400, 400, 409, 400, 200]
    errors = [r.get("errors", [{}])[0] for r in results]
    first = results[0]["id"]
    assert errors[1]["messageId"] == "USER_MERGE_INTERRUPTED"
    assert errors[1]["message"] == f"email j@x.example already belongs to person {jane.pk}."
    # Unique within the batch too: the earlier item has it, and the error names its person.
    assert errors[2]["message"] == f"email p0.1@example.com already belongs to person {first}."
    assert errors[3]["field"] == "customAttributes.Score"
    assert errors[4]["field"] == "customAttributes.Nope"
    assert errors[5]["messageId"] == "PHONE_INVALID"
    assert errors[6]["field"] == "externalId" and str(first) in errors[6]["message"]
    assert errors[7]["field"] == "firstName"
    created = Person.objects.exclude(pk=jane.pk)
    assert sorted(created.values_list("first_name", flat=True)) == ["First0", "First1"]
    person = Person.objects.get(pk=first)
    assert person.external_id == "crm-0" and person.version == 1
    assert sorted(person.tags.values_list("name", flat=True)) == ["Batch", "Segment 0"]
    assert person.identities.count() == 3
    assert AttributeValue.objects.get(person=person).value_number == 0
    event = Event.objects.get(person=person)
    assert event.kind == "PERSON_CREATED"
    assert event.changes["externalId"] == {"before": None, "after": "crm-0"}
    assert event.changes["tags"] == {"added": ["Batch", "Segment 0"], "removed": []}
    assert event.changes["customAttributes"] == {"Score": {"before": None, "after": 0}}
    assert len(event.changes["emails"]["added"]) == 3


@pytest.mark.django_db
def test_a_batch_update_applies_the_items_in_order_and_reports_each(
    manage_client, score, system_actor
):
    ana = person_create(actor=system_actor, fields={"externalId": "ana"}, tags=["Old"])
    ivo = person_create(actor=system_actor, fields={"externalId": "ivo"}, emails=["i@x.example"])
    query = {"type": "EXTERNAL_ID", "identifier": "ana"}
    people = [
        {"query": query, "update": {"lastName": "One", "customAttributes": {"Score": 1}}},
        {"query": query, "update": {"tags": ["New"], "customAttributes": {"Score": 2}}},
        {"query": query, "update": {"contactInformation": {"email": [{"address": "i@x.example"}]}}},
        {"query": query, "update": {"lastName": "One"}},
        {"query": {"type": "ID", "identifier": "999999"}, "update": {}},
        {"query": query, "update": {"customAttributes": {"Score": None}}},
    ]

    response = manage_client.patch(BATCH, {"people": people}, format="json")

    results = assert_vendor_response(response, BATCH, "patch")["results"]
    assert [r["status"] for r in results] == [200, 200, 409, 200, 404, 200]
    assert [r.get("isModified") for r in results] == [True, True, None, False, None, True]
    assert str(ivo.pk) in results[2]["errors"][0]["message"]
    ana.refresh_from_db()
    assert ana.last_name == "One" and ana.version == 4
    assert sorted(ana.tags.values_list("name", flat=True)) == ["New", "Old"]
    assert not AttributeValue.objects.filter(person=ana).exists()
    assert not ana.identities.exists()
    history = list(
        Event.objects.filter(person=ana).order_by("pk").values_list("changes", flat=True)
    )
    assert history[-3:] == [
        {
            "lastName": {"before": "", "after": "One"},
            "customAttributes": {"Score": {"before": None, "after": 1}},
        },
        {
            "tags": {"added": ["New"], "removed": []},
            "customAttributes": {"Score": {"before": 1, "after": 2}},
        },
        {"customAttributes": {"Score": {"before": 2, "after": None}}},
    ]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_a_database_failure_part_way_through_a_batch_writes_nothing_and_a_retry_duplicates_nothing(
    manage_client, score
):
    # A real failure of the database in the middle of the write: a trigger refuses the identity
    # of item 250 as a full disk would (SQLSTATE 53100), after the people were inserted.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.value = 'p250.2@example.com' THEN
                    RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_disk_full BEFORE INSERT ON people_contactidentity
                FOR EACH ROW EXECUTE FUNCTION test_disk_full();
            """
        )
    # Half the people have no externalId: nothing but the transaction keeps them single.
    body = {"people": [person_item(n, external_id=n % 2 == 0) for n in range(400)]}
    before = written()

    response = manage_client.post(BATCH, body, format="json")

    assert_vendor_error(response, 503)
    assert written() == before

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_disk_full ON people_contactidentity")
    response = manage_client.post(BATCH, body, format="json")
    assert response.status_code == 200
    assert written() == {
        "people": 400,
        "identities": 1200,
        "attribute values": 400,
        "tag links": 800,
        "events": 400,
    }
    assert Person.objects.filter(first_name="First251").count() == 1


# The same for 10 items as for 100 (or 1,000: make bench-batch prints it). Creating the
# batch's 6 new tags takes 3 statements each (services._tags_by_name, a savepoint per tag).
BATCH_STATEMENTS = 32


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 100])
def test_the_statements_of_a_batch_do_not_grow_with_its_items(
    manage_client, score, size, django_assert_max_num_queries
):
    # SQLite takes at most 999 parameters a statement: Django splits a long INSERT there (of
    # people, identities and events, whose rows carry a dozen to twenty columns each).
    split = size // 30 if connection.vendor == "sqlite" else 0
    body = {"people": [person_item(n, external_id=n % 2 == 0) for n in range(size)]}
    with django_assert_max_num_queries(BATCH_STATEMENTS + split):
        response = manage_client.post(BATCH, body, format="json")
    assert response.status_code == 200
    ids = [result["id"] for result in response.json()["results"]]
    queries = [{"query": {"type": "ID", "identifier": str(pk)}} for pk in ids]
    updates = [
        {
            "query": {"type": "EMAIL", "identifier": f"p{n}.0@example.com"},
            "update": {
                "lastName": "Changed",
                "tags": ["Updated"],
                "contactInformation": {"email": [{"address": f"new{n}@example.com"}]},
                "customAttributes": {"Score": n + 1},
            },
        }
        for n in range(size)
    ]
    with django_assert_max_num_queries(BATCH_STATEMENTS + split):
        response = manage_client.patch(BATCH, {"people": updates}, format="json")
    assert response.status_code == 200
    assert Person.objects.filter(last_name="Changed").count() == size
    with django_assert_max_num_queries(BATCH_STATEMENTS + split):
        response = manage_client.patch(
            "/people/2/tags/Batch/persons", {"people": queries}, format="json"
        )
    assert response.status_code == 200
    with django_assert_max_num_queries(BATCH_STATEMENTS + split):
        response = manage_client.delete(BATCH, {"people": queries}, format="json")
    assert response.status_code == 200
    assert not Person.objects.exists()


def delete_when_the_batch_waits(person_id: int, locked: threading.Event, errors: list) -> None:
    """Lock the person, wait until the batch waits for that lock, then delete it and commit."""
    from django.db import transaction

    try:
        with transaction.atomic():
            Person.objects.select_for_update().get(pk=person_id)
            locked.set()
            deadline = time.monotonic() + 20
            with connection.cursor() as cursor:
                while time.monotonic() < deadline:
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.02)
                else:
                    errors.append("the batch never waited for the lock")
            Person.objects.filter(pk=person_id).delete()
    except Exception as error:  # reported by the test
        errors.append(error)
    finally:
        connections.close_all()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_person_deleted_while_a_tag_batch_runs_changes_nobody_and_answers_404(manage_client):
    Tag.objects.create(name="Promo")
    people = Person.objects.bulk_create(Person(external_id=f"crm-{n}") for n in range(300))
    victim = people[137]
    locked, errors = threading.Event(), []
    thread = threading.Thread(target=delete_when_the_batch_waits, args=(victim.pk, locked, errors))
    thread.start()
    assert locked.wait(10)
    body = {
        "people": [{"query": {"type": "EXTERNAL_ID", "identifier": f"crm-{n}"}} for n in range(300)]
    }

    response = manage_client.patch("/people/2/tags/Promo/persons", body, format="json")

    thread.join(20)
    assert errors == []
    exception = assert_vendor_error(response, 404, "NOT_FOUND")
    assert "nothing was changed" in exception["text"]
    assert str(victim.pk) in exception["text"]
    assert "people[137].query" in exception["validationErrors"]
    # The answer matches what was written: nobody got the tag.
    assert Person.tags.through.objects.count() == 0
    assert not Event.objects.exists()
    assert Person.objects.count() == 299


@pytest.mark.django_db
def test_two_items_of_a_batch_update_cannot_give_two_people_one_external_id(
    manage_client, system_actor
):
    ana = person_create(actor=system_actor, fields={"firstName": "Ana"})
    ivo = person_create(actor=system_actor, fields={"firstName": "Ivo"})
    people = [
        {"query": {"type": "ID", "identifier": str(person.pk)}, "update": {"externalId": "crm-1"}}
        for person in (ana, ivo)
    ]

    response = manage_client.patch(BATCH, {"people": people}, format="json")

    results = assert_vendor_response(response, BATCH, "patch")["results"]
    assert [r["status"] for r in results] == [200, 409]
    assert results[1]["errors"][0] == {
        "message": f"externalId 'crm-1' already belongs to person {ana.pk}.",
        "messageId": "USER_MERGE_INTERRUPTED",
        "field": "externalId",
    }
    assert Person.objects.get(external_id="crm-1") == ana
