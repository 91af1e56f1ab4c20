"""/people/2/tags and /people/2/customAttributes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from people.models import AttributeDefinition, DataType, Event, Person, Tag
from people.services import person_create
from tests.vendor_api import (
    assert_vendor_error,
    assert_vendor_list,
    assert_vendor_response,
    schema_errors,
)

pytestmark = pytest.mark.django_db
TAGS = "/people/2/tags"
ATTRIBUTES = "/people/2/customAttributes"


@pytest.fixture
def two_people(system_actor) -> list[Person]:
    return [
        person_create(actor=system_actor, fields={"externalId": "a"}, tags=["Old"]),
        person_create(actor=system_actor, fields={"externalId": "b"}),
    ]


def people_query(*external_ids):
    return {"people": [{"query": {"type": "EXTERNAL_ID", "identifier": e}} for e in external_ids]}


def test_it_creates_a_tag_and_gets_it_by_name_in_any_case(manage_client):
    created = assert_vendor_response(
        manage_client.post(TAGS, {"name": "VIP Customers"}, format="json"), TAGS, "post"
    )
    assert created["name"] == "VIP Customers"
    response = manage_client.get(f"{TAGS}/vip%20customers")
    assert assert_vendor_response(response, "/people/2/tags/{name}", "get") == created


def test_a_duplicate_or_bad_tag_name_is_a_400(manage_client):
    manage_client.post(TAGS, {"name": "VIP"}, format="json")
    assert_vendor_error(manage_client.post(TAGS, {"name": "vip"}, format="json"), 400)
    assert_vendor_error(manage_client.post(TAGS, {"name": "x" * 257}, format="json"), 400)
    assert_vendor_error(
        manage_client.post(TAGS, {"name": 3}, format="json"), 400, "REQUEST_FORMAT_INVALID"
    )
    assert_vendor_error(manage_client.post(TAGS, {}, format="json"), 400, "REQUEST_FORMAT_INVALID")
    assert Tag.objects.count() == 1


def test_the_tag_list_is_paged_and_ordered(read_client):
    for name in ["beta", "Alpha", "gamma"]:
        Tag.objects.create(name=name)
    response = read_client.get(
        TAGS, {"limit": 2, "orderBy": "name:desc", "includeTotalCount": True}
    )
    body = assert_vendor_list(response, "tags", "IamTagV2")
    assert [t["name"] for t in body["tags"]] == ["gamma", "beta"]
    assert body["totalCount"] == 3 and body["orderBy"] == "name:desc"
    page_two = read_client.get(TAGS, {"limit": 2, "page": 2, "orderBy": "name:desc"}).json()
    assert [t["name"] for t in page_two["tags"]] == ["Alpha"]
    assert_vendor_error(read_client.get(TAGS, {"orderBy": "size"}), 400, "BAD_REQUEST")


def test_an_unknown_tag_is_a_404(read_client):
    assert_vendor_error(read_client.get(f"{TAGS}/nope"), 404, "NOT_FOUND")


def test_deleting_a_tag_removes_it_from_its_people_with_history(manage_client, two_people):
    response = manage_client.delete(f"{TAGS}/old")
    assert response.status_code == 200
    assert not schema_errors(response.json(), {"type": "string"})
    assert not Tag.objects.exists()
    assert Event.objects.filter(person=two_people[0], changes__tags__removed=["Old"]).exists()
    assert_vendor_error(manage_client.delete(f"{TAGS}/old"), 404)


def test_a_tag_is_added_to_and_removed_from_many_people(manage_client, two_people):
    Tag.objects.create(name="Newsletter")
    added = manage_client.patch(f"{TAGS}/newsletter/persons", people_query("a", "b"), format="json")
    assert added.status_code == 200
    for person in two_people:
        assert "Newsletter" in person.tags.values_list("name", flat=True)
    assert Event.objects.filter(actor_label="API key crm-sync").count() == 2

    removed = manage_client.delete(f"{TAGS}/Newsletter/persons", people_query("a"), format="json")
    assert removed.status_code == 200
    assert not schema_errors(removed.json(), {"type": "string"})
    assert list(two_people[0].tags.values_list("name", flat=True)) == ["Old"]
    assert list(two_people[1].tags.values_list("name", flat=True)) == ["Newsletter"]


def test_tagging_people_that_do_not_exist_changes_nobody(manage_client, two_people):
    Tag.objects.create(name="Newsletter")
    response = manage_client.patch(
        f"{TAGS}/Newsletter/persons", people_query("a", "ghost"), format="json"
    )
    exception = assert_vendor_error(response, 404, "NOT_FOUND")
    assert "people[1].query" in exception["validationErrors"]
    assert not two_people[0].tags.filter(name="Newsletter").exists()


def test_tagging_needs_an_existing_tag_and_a_list_of_queries(manage_client, two_people):
    assert_vendor_error(
        manage_client.patch(f"{TAGS}/ghost/persons", people_query("a"), format="json"), 404
    )
    Tag.objects.create(name="T")
    exception = assert_vendor_error(
        manage_client.patch(
            f"{TAGS}/T/persons", {"people": [{"query": {"identifier": "a"}}]}, format="json"
        ),
        400,
    )
    assert "people[0].query.type" in exception["validationErrors"]
    assert_vendor_error(
        manage_client.patch(f"{TAGS}/T/persons", {"people": [{"query": {}}] * 1001}, format="json"),
        400,
    )


def test_it_defines_custom_attributes_and_lists_them(manage_client, administrator):
    response = manage_client.post(
        ATTRIBUTES, {"name": "Contract Expiry", "dataType": "DATE"}, format="json"
    )
    created = assert_vendor_response(response, ATTRIBUTES, "post")
    assert created["name"] == "Contract Expiry" and created["dataType"] == "DATE"
    cart = {
        "name": "Cart",
        "dataType": "LIST_OF_OBJECTS",
        "objectSchema": {"product": "STRING", "price": "DECIMAL"},
    }
    body = assert_vendor_response(
        manage_client.post(ATTRIBUTES, cart, format="json"), ATTRIBUTES, "post"
    )
    assert body["objectSchema"] == cart["objectSchema"]

    listed = manage_client.get(ATTRIBUTES, {"includeTotalCount": "true"})
    body = assert_vendor_response(listed, ATTRIBUTES, "get")
    assert [a["name"] for a in body["customAttributes"]] == ["Cart", "Contract Expiry"]
    assert body["totalCount"] == 2 and body["limit"] == 20 and body["page"] == 1

    one = manage_client.get(f"{ATTRIBUTES}/contract expiry")
    assert assert_vendor_response(one, "/people/2/customAttributes/{name}", "get") == created


@pytest.mark.parametrize(
    ("body", "message_id"),
    [
        ({"name": "Age", "dataType": "NUMBER"}, "REQUEST_FORMAT_INVALID"),
        ({"name": "A[b]", "dataType": "STRING"}, "BAD_REQUEST"),
        ({"name": "x" * 257, "dataType": "STRING"}, "BAD_REQUEST"),
        ({"name": "Cart", "dataType": "LIST_OF_OBJECTS"}, "BAD_REQUEST"),
        ({"name": "Age", "dataType": "INTEGER", "objectSchema": {"a": "STRING"}}, "BAD_REQUEST"),
        ({"name": 5, "dataType": "STRING"}, "REQUEST_FORMAT_INVALID"),
        ({"dataType": "STRING"}, "REQUEST_FORMAT_INVALID"),
    ],
)
def test_a_bad_definition_is_a_400(manage_client, body, message_id):
    assert_vendor_error(manage_client.post(ATTRIBUTES, body, format="json"), 400, message_id)
    assert not AttributeDefinition.objects.exists()


def test_a_duplicate_definition_name_is_a_400(manage_client):
    manage_client.post(ATTRIBUTES, {"name": "Age", "dataType": "INTEGER"}, format="json")
    response = manage_client.post(ATTRIBUTES, {"name": "AGE", "dataType": "STRING"}, format="json")
    assert_vendor_error(response, 400, "BAD_REQUEST")


def test_a_definition_in_use_cannot_be_deleted(manage_client, system_actor):
    AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    person = person_create(actor=system_actor, custom_attributes={"Age": 3})
    assert_vendor_error(manage_client.delete(f"{ATTRIBUTES}/Age"), 400, "ATTRIBUTE_IN_USE")
    manage_client.patch(
        f"/people/2/persons?type=ID&identifier={person.pk}",
        {"customAttributes": {"Age": None}},
        format="json",
    )
    response = manage_client.delete(f"{ATTRIBUTES}/age")
    assert response.status_code == 200
    assert not schema_errors(response.json(), {"type": "string"})
    assert not AttributeDefinition.objects.exists()
    assert_vendor_error(manage_client.get(f"{ATTRIBUTES}/Age"), 404, "NOT_FOUND")


def test_append_adds_one_item_to_a_list_of_objects(manage_client, system_actor):
    AttributeDefinition.objects.create(
        name="Cart",
        data_type=DataType.LIST_OF_OBJECTS,
        object_schema={"product": "STRING", "price": "DECIMAL"},
    )
    person_create(
        actor=system_actor,
        fields={"externalId": "shopper"},
        custom_attributes={"Cart": [{"product": "Sneakers", "price": Decimal("25.33")}]},
    )
    url = f"{ATTRIBUTES}/cart/append?type=EXTERNAL_ID&identifier=shopper"
    response = manage_client.generic(
        "POST", url, '{"product": "Cap", "price": 11.30}', content_type="application/json"
    )
    path = "/people/2/customAttributes/{name}/append"
    body = assert_vendor_response(response, path, "post")
    assert body == [{"product": "Sneakers", "price": 25.33}, {"product": "Cap", "price": 11.3}]
    assert b'"price":11.30' in response.content


def test_append_refuses_bad_items_unknown_attributes_and_unknown_people(
    manage_client, system_actor
):
    AttributeDefinition.objects.create(
        name="Cart", data_type=DataType.LIST_OF_OBJECTS, object_schema={"product": "STRING"}
    )
    AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    person_create(actor=system_actor, fields={"externalId": "shopper"})
    query = "?type=EXTERNAL_ID&identifier=shopper"
    assert_vendor_error(
        manage_client.post(f"{ATTRIBUTES}/Cart/append{query}", {"colour": "red"}, format="json"),
        400,
    )
    assert_vendor_error(
        manage_client.post(f"{ATTRIBUTES}/Cart/append{query}", [1], format="json"),
        400,
        "REQUEST_FORMAT_INVALID",
    )
    assert_vendor_error(
        manage_client.post(f"{ATTRIBUTES}/Age/append{query}", {"product": "x"}, format="json"),
        400,
    )
    assert_vendor_error(
        manage_client.post(f"{ATTRIBUTES}/Nope/append{query}", {"product": "x"}, format="json"),
        404,
        "NOT_FOUND",
    )
    assert_vendor_error(
        manage_client.post(
            f"{ATTRIBUTES}/Cart/append?externalId=ghost", {"product": "x"}, format="json"
        ),
        404,
        "NOT_FOUND",
    )
    assert_vendor_error(
        manage_client.post(f"{ATTRIBUTES}/Cart/append", {"product": "x"}, format="json"), 400
    )


def test_read_keys_cannot_change_tags_or_definitions(read_client):
    Tag.objects.create(name="T")
    assert_vendor_error(read_client.post(TAGS, {"name": "N"}, format="json"), 403)
    assert_vendor_error(read_client.delete(f"{TAGS}/T"), 403)
    assert_vendor_error(
        read_client.post(ATTRIBUTES, {"name": "A", "dataType": "STRING"}, format="json"), 403
    )


def test_an_editor_may_create_tags_but_only_an_administrator_defines_attributes(
    editor, administrator
):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(editor)
    assert client.post(TAGS, {"name": "N"}, format="json").status_code == 200
    body = {"name": "A", "dataType": "STRING"}
    assert_vendor_error(client.post(ATTRIBUTES, body, format="json"), 403)
    assert_vendor_error(client.delete(f"{TAGS}/N"), 403)
    client.force_login(administrator)
    assert client.post(ATTRIBUTES, body, format="json").status_code == 200
    assert client.delete(f"{TAGS}/N").status_code == 200
