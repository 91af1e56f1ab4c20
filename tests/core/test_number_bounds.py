"""A number from outside is range-checked before anything converts it (issue 24, item 2).

``int(Decimal("1E+1000000"))`` alone keeps a worker busy for about 30 s: one short JSON
number in a filter, a PATCH, a device's personalize or admin's JSON editor was a denial of
service. Each request here must answer a 4xx naming the field; it runs in a thread that is
given a few seconds (on the old code the join timed out: the number was still being
converted), so the data is committed (``transactional_db``) for the thread's own connection.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from core.models import ApiKeyRole
from people import services
from people.history import Actor
from people.models import AttributeValue, DataType, Person
from tests.factories import ApplicationFactory, InstallationFactory
from tests.installations.push_support import device_client, device_url
from tests.vendor_api import assert_vendor_error, key_client

pytestmark = pytest.mark.django_db(transaction=True)

# Far below the ~30 s the old code took per number, far above what a refusal takes.
ANSWER_WITHIN = 5.0
HUGE = ["1E+1000000", "-1E+1000000", "1e+999999", "9.5E+1000000"]
# Refused too, though the old code answered these quickly.
OTHER_BAD = ["1E+400", "1e-1000000", "NaN", "Infinity", "-Infinity", "9" * 5000]
NOT_JSON = ("NaN", "Infinity", "-Infinity")
PERSONS = "/people/2/persons"


def answered_quickly(send: Callable[[], Any]) -> Any:
    """What ``send()`` returned, or a failure when it took longer than ANSWER_WITHIN."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["response"] = send()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(ANSWER_WITHIN)
    assert not thread.is_alive(), f"no answer within {ANSWER_WITHIN} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["response"]


@pytest.fixture
def visits(db):
    return services.attribute_definition_create(name="Visits", data_type=DataType.INTEGER)


@pytest.fixture
def person(visits) -> Person:
    return services.person_create(
        actor=Actor.system("tests"),
        fields={"firstName": "Ana", "externalId": "crm-1"},
        custom_attributes={"Visits": 3},
    )


def stored_visits(person: Person) -> str:
    return AttributeValue.objects.get(person=person, definition__name="Visits").value_text


def error_fields(response) -> dict[str, list[str]]:
    return assert_vendor_error(response, 400).get("validationErrors", {})


def send_json(client: APIClient, method: str, url: str, text: str):
    return getattr(client, method)(url, data=text, content_type="application/json")


# ---------------------------------------------------------------------------------------------
# The API's filter


@pytest.mark.parametrize(
    ("template", "number"),
    [('{"id": NUMBER}', number) for number in HUGE + OTHER_BAD]
    + [
        ('{"customAttributes.Visits": NUMBER}', "1E+1000000"),
        ('{"#gt": {"customAttributes.Visits": NUMBER}}', "-1E+1000000"),
        ('{"customAttributes": {"Visits": {"#lte": NUMBER}}}', "1E+1000000"),
    ],
)
def test_a_filter_with_a_number_out_of_range_is_refused_at_once(person, template, number):
    client = key_client(ApiKeyRole.READ)
    text = template.replace("NUMBER", number)
    response = answered_quickly(lambda: client.get(PERSONS, {"filter": text}))
    assert list(error_fields(response)) == ["filter"]


def test_a_filter_with_the_largest_number_still_works(person):
    client = key_client(ApiKeyRole.READ)
    response = client.get(PERSONS, {"filter": '{"customAttributes.Visits": 9223372036854775807}'})
    assert response.status_code == 200, response.content
    assert response.json()["persons"] == []


# ---------------------------------------------------------------------------------------------
# PATCH of an INTEGER attribute


@pytest.mark.parametrize("number", HUGE + OTHER_BAD)
def test_a_patch_of_an_integer_attribute_out_of_range_is_refused_at_once(person, number):
    client = key_client(ApiKeyRole.MANAGE)
    url = f"{PERSONS}?type=ID&identifier={person.pk}"
    body = '{"customAttributes": {"Visits": NUMBER}}'.replace("NUMBER", number)
    response = answered_quickly(lambda: send_json(client, "patch", url, body))
    fields = assert_vendor_error(response, 400).get("validationErrors", {})
    if number not in NOT_JSON:  # else the body as a whole is not JSON
        assert list(fields) == ["customAttributes.Visits"]
    assert stored_visits(person) == "3"


def test_a_patch_of_an_integer_attribute_at_the_limit_is_stored(person):
    client = key_client(ApiKeyRole.MANAGE)
    url = f"{PERSONS}?type=ID&identifier={person.pk}"
    body = '{"customAttributes": {"Visits": 9223372036854775807}}'
    response = send_json(client, "patch", url, body)
    assert response.status_code == 200, response.content
    assert stored_visits(person) == "9223372036854775807"


# ---------------------------------------------------------------------------------------------
# A device's personalize (an application code is all it takes)


@pytest.mark.parametrize("number", HUGE + ["1E+400", "9" * 5000])
def test_a_device_personalize_with_an_integer_attribute_out_of_range_is_refused_at_once(
    visits, number
):
    app = ApplicationFactory(name="Shop", code="shop-app-code")
    installation = InstallationFactory(application=app, push_registration_id="device-1")
    device = device_client(app)
    body = (
        '{"userIdentity": {"externalUserId": "jdoe"},'
        ' "userAttributes": {"customAttributes": {"Visits": NUMBER}}}'
    ).replace("NUMBER", number)
    url = device_url("device-1", "personalize")
    response = answered_quickly(lambda: send_json(device, "post", url, body))
    fields = assert_vendor_error(response, 400)["validationErrors"]
    assert list(fields) == ["userAttributes.customAttributes.Visits"]
    assert not Person.objects.filter(external_id="jdoe").exists()
    installation.refresh_from_db()
    assert installation.person.external_id is None


def test_additional_data_out_of_range_from_a_device_is_refused_at_once(db):
    app = ApplicationFactory(name="Shop", code="shop-app-code")
    InstallationFactory(application=app, push_registration_id="device-1")
    device = device_client(app)
    body = '{"customAttributes": {"points": 1E+1000000}}'
    response = answered_quickly(lambda: send_json(device, "patch", device_url("device-1"), body))
    assert list(error_fields(response)) == ["customAttributes.points"]


# ---------------------------------------------------------------------------------------------
# Admin's JSON editor of a person


@pytest.mark.parametrize("number", ["1E+1000000", "-1E+1000000", "1E+400", "NaN", "9" * 5000])
def test_admin_refuses_an_integer_attribute_out_of_range_at_its_field_at_once(
    client, administrator, person, number
):
    from tests.admin.test_person_admin import change_url, person_form, with_identities

    client.force_login(administrator)
    text = '{"Visits": NUMBER}'.replace("NUMBER", number)
    data = person_form(person, custom_attributes_text=text)
    data = with_identities(person, data)
    response = answered_quickly(lambda: client.post(change_url(person), data))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    message = " ".join(errors["custom_attributes_text"])
    assert ("Not valid JSON" if number in NOT_JSON else "Visits") in message
    assert stored_visits(person) == "3"


# ---------------------------------------------------------------------------------------------
# The operator UI's attribute editor (text: no exponent, but digits)


@pytest.mark.parametrize("text", ["9" * 4400, "-" + "9" * 4400, "1" + "0" * 19, "1E+1000000"])
def test_the_ui_attribute_editor_refuses_an_integer_out_of_range_at_its_field(
    client, editor, person, visits, text
):
    client.force_login(editor)
    url = f"/person/{person.pk}/attributes/{visits.pk}"
    response = answered_quickly(lambda: client.post(url, {"value": text}, HTTP_HX_REQUEST="true"))
    assert response.status_code == 422
    assert "Visits" in response.content.decode()
    assert stored_visits(person) == "3"


def test_the_largest_integer_from_the_ui_editor_is_stored(client, editor, person, visits):
    client.force_login(editor)
    url = f"/person/{person.pk}/attributes/{visits.pk}"
    response = client.post(url, {"value": "9223372036854775807"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert stored_visits(person) == "9223372036854775807"


def test_a_json_number_of_the_domain_range_reads_back_exactly(person):
    """The bound is the domain's: both ends pass, one past either end does not."""
    client = key_client(ApiKeyRole.MANAGE)
    url = f"{PERSONS}?type=ID&identifier={person.pk}"
    for number, status in [
        ("-9223372036854775808", 200),
        ("-9223372036854775809", 400),
        ("9223372036854775808", 400),
        ("9.223372036854775807E+18", 200),
    ]:
        body = json.dumps({"customAttributes": {"Visits": "X"}}).replace('"X"', number)
        assert send_json(client, "patch", url, body).status_code == status, number
