"""Tag and definition names that only Unicode case folding makes equal (issue 24, item 4).

Python's lower() and PostgreSQL's lower() disagree on Greek final sigma and Turkish dotted
I; the names now fold by one rule (people.name_keys: NFKC, then casefold), stored in a
column the unique constraint is on, so every door finds the row the index holds.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.db import IntegrityError, transaction

from people.models import AttributeDefinition, DataType, Person, Tag
from people.name_keys import name_key
from people.services import person_create
from tests.vendor_api import assert_vendor_error, assert_vendor_response

pytestmark = pytest.mark.django_db
PERSONS = "/people/2/persons"
TAGS = "/people/2/tags"
ATTRIBUTES = "/people/2/customAttributes"


@pytest.fixture
def customer(system_actor) -> Person:
    return person_create(actor=system_actor, fields={"externalId": "crm-7"})


def patch_tags(client, tags: list[str]):
    return client.patch(f"{PERSONS}?externalId=crm-7", {"tags": tags}, format="json")


def test_name_keys_fold_final_sigma_dotted_i_and_compatibility_forms_alike():
    assert name_key("ΟΔΟΣ") == name_key("οδος") == name_key("οδοσ")
    assert name_key("İstanbul") == name_key("i̇stanbul")
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("ＶＩＰ") == name_key("vip")
    assert name_key("I") != name_key("İ")
    assert name_key(name_key("ǰ İ ΣΑΣ")) == name_key("ǰ İ ΣΑΣ")


@pytest.mark.parametrize("tag", ["ΑΣ", "İstanbul"])
def test_patching_the_same_non_ascii_tag_twice_answers_200_both_times(manage_client, customer, tag):
    for _ in range(2):
        response = patch_tags(manage_client, [tag])
        assert response.status_code == 200, response.content[:300]
        assert response.json()["tags"] == [tag]
    assert list(Tag.objects.values_list("name", flat=True)) == [tag]


def test_a_tag_in_another_case_is_the_same_tag(manage_client, customer):
    assert patch_tags(manage_client, ["ΑΣ"]).status_code == 200
    response = patch_tags(manage_client, ["ας"])
    assert response.status_code == 200
    assert response.json()["tags"] == ["ΑΣ"]
    assert Tag.objects.count() == 1


def test_i_then_dotted_i_are_two_tags_and_neither_answers_500(manage_client, customer):
    assert patch_tags(manage_client, ["I"]).status_code == 200
    response = patch_tags(manage_client, ["İ"])
    assert response.status_code == 200, response.content[:300]
    assert sorted(response.json()["tags"]) == ["I", "İ"]
    assert Tag.objects.count() == 2


def test_a_tag_with_a_final_sigma_is_read_and_deleted_by_its_name(manage_client, customer):
    assert patch_tags(manage_client, ["ΟΔΟΣ"]).status_code == 200
    for spelling in ("ΟΔΟΣ", "οδος", "Οδοσ"):
        response = manage_client.get(f"{TAGS}/{quote(spelling)}")
        assert assert_vendor_response(response, "/people/2/tags/{name}", "get")["name"] == "ΟΔΟΣ"
    response = manage_client.delete(f"{TAGS}/{quote('ΟΔΟΣ')}")
    assert response.status_code == 200, response.content[:300]
    assert not Tag.objects.exists()
    assert not customer.tags.exists()


def test_a_tag_name_search_finds_people_by_the_folded_name(read_client, customer, manage_client):
    assert patch_tags(manage_client, ["ΟΔΟΣ"]).status_code == 200
    for query in ({"tags": "οδος"}, {"#contains": {"tags": "Οδοσ"}}):
        response = read_client.get(PERSONS, {"filter": json.dumps(query)})
        assert response.status_code == 200
        assert [p["externalId"] for p in response.json()["persons"]] == ["crm-7"], query


def test_a_definition_with_a_final_sigma_is_read_and_deleted_by_its_name(manage_client):
    created = manage_client.post(
        ATTRIBUTES, {"name": "ΛΙΣΤΑΣ", "dataType": "STRING"}, format="json"
    )
    assert created.status_code == 200
    for spelling in ("ΛΙΣΤΑΣ", "λιστας", "λιστασ"):
        response = manage_client.get(f"{ATTRIBUTES}/{quote(spelling)}")
        body = assert_vendor_response(response, "/people/2/customAttributes/{name}", "get")
        assert body["name"] == "ΛΙΣΤΑΣ"
    assert_vendor_error(
        manage_client.post(ATTRIBUTES, {"name": "λιστασ", "dataType": "STRING"}, format="json"),
        400,
    )
    response = manage_client.delete(f"{ATTRIBUTES}/{quote('ΛΙΣΤΑΣ')}")
    assert response.status_code == 200, response.content[:300]
    assert not AttributeDefinition.objects.exists()


def test_appending_to_a_list_named_in_another_case_answers_the_list(manage_client, customer):
    AttributeDefinition.objects.create(
        name="ΛΙΣΤΑΣ", data_type=DataType.LIST_OF_OBJECTS, object_schema={"sku": "STRING"}
    )
    url = f"{ATTRIBUTES}/{quote('λιστασ')}/append?externalId=crm-7"
    response = manage_client.post(url, {"sku": "A-1"}, format="json")
    assert response.status_code == 200, response.content[:300]
    assert response.json() == [{"sku": "A-1"}]
    response = manage_client.patch(
        f"{PERSONS}?externalId=crm-7", {"customAttributes": {"λιστας": None}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["customAttributes"] == {}


def test_the_database_refuses_two_tags_or_definitions_of_one_folded_name():
    Tag.objects.create(name="ΑΣ")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="ας")
    AttributeDefinition.objects.create(name="İl", data_type=DataType.STRING)
    with pytest.raises(IntegrityError), transaction.atomic():
        AttributeDefinition.objects.create(name="i̇L", data_type=DataType.STRING)
