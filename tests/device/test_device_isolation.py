"""A device sees and changes only its own application's installations (DOMAIN.md).

The attack: a device of App A personalizes into a victim who has a device of App B, with
returnPush and setDeviceAsPrimary, and userAttributes. It must learn nothing of App B (no
pushRegId, no application code), App B's device keeps its primary flag, and the victim's
profile is not rewritten. The vendor's SDK still gets the person's profile in the answer.
"""

import json

import pytest

from installations.models import Installation
from people import services as person_services
from people.history import Actor
from people.models import EventKind, Person
from tests.factories import ApplicationFactory
from tests.installations.push_support import device_client, device_url, send

VICTIM = "victim@example.com"


@pytest.fixture
def app_a(db):
    return ApplicationFactory(name="App A", code="app-a-code")


@pytest.fixture
def app_b(db):
    return ApplicationFactory(name="App B", code="app-b-code")


def register(client, push_id: str) -> None:
    response = send(client, "post", device_url(), {"pushRegId": push_id})
    assert response.status_code == 201, response.json()


def personalize(client, push_id: str, body: dict, query: str = ""):
    return send(client, "post", device_url(push_id, "personalize") + query, body)


@pytest.fixture
def victim(app_b) -> Person:
    """A person identified by App B's device, which is the person's primary device."""
    device_b = device_client(app_b)
    register(device_b, "b-reg")
    response = personalize(
        device_b,
        "b-reg",
        {
            "userIdentity": {"emails": [VICTIM]},
            "userAttributes": {"firstName": "Vera", "tags": ["vip"]},
        },
        "?setDeviceAsPrimary=true",
    )
    assert response.status_code == 200, response.json()
    assert Installation.objects.get(push_registration_id="b-reg").is_primary
    return Person.objects.get(identities__value=VICTIM)


ATTACK = "?returnPush=true&setDeviceAsPrimary=true"
ATTACK_BODY = {
    "userIdentity": {"emails": [VICTIM]},
    "userAttributes": {"firstName": "Mallory", "tags": ["pwned"]},
}


def test_personalizing_into_a_person_of_another_application_lists_only_own_installations(
    app_a, app_b, victim
):
    device_a = device_client(app_a)
    register(device_a, "a-reg")

    response = personalize(device_a, "a-reg", ATTACK_BODY, ATTACK)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [i["pushRegId"] for i in body["instances"]] == ["a-reg"]
    assert {i["applicationCode"] for i in body["instances"]} == {"app-a-code"}
    text = json.dumps(body)
    assert "b-reg" not in text
    assert "app-b-code" not in text
    # The person's profile is answered, as the vendor's SDK expects.
    assert body["emails"] == [{"address": VICTIM}]
    assert Installation.objects.get(push_registration_id="a-reg").person_id == victim.pk


def test_the_code_of_another_application_is_never_learnt_so_its_devices_stay_unreachable(
    app_a, app_b, victim
):
    device_a = device_client(app_a)
    register(device_a, "a-reg")
    personalize(device_a, "a-reg", ATTACK_BODY, ATTACK)

    for method in ("get", "patch", "delete"):
        response = send(device_a, method, device_url("b-reg"), {})
        assert response.status_code == 404
        assert response.json()["requestError"]["serviceException"]["messageId"] == (
            "NO_REGISTRATION"
        )
    for action in ("personalize", "depersonalize"):
        response = send(device_a, "post", device_url("b-reg", action), ATTACK_BODY)
        assert response.status_code == 404
    assert Installation.objects.get(push_registration_id="b-reg").person_id == victim.pk


def test_set_device_as_primary_does_not_take_the_flag_from_another_applications_device(
    app_a, app_b, victim
):
    device_a = device_client(app_a)
    register(device_a, "a-reg")

    response = personalize(device_a, "a-reg", ATTACK_BODY, ATTACK)

    assert response.status_code == 200
    assert response.json()["instances"][0]["isPrimary"] is False
    assert Installation.objects.get(push_registration_id="b-reg").is_primary is True
    assert Installation.objects.get(push_registration_id="a-reg").is_primary is False
    event = victim.events.filter(kind=EventKind.PERSONALIZE).order_by("-id").first()
    assert "setDeviceAsPrimary" in event.changes["notApplied"]


def test_is_primary_from_a_device_does_not_take_the_flag_from_another_applications_device(
    app_a, app_b, victim
):
    device_a = device_client(app_a)
    register(device_a, "a-reg")
    personalize(device_a, "a-reg", {"userIdentity": {"emails": [VICTIM]}})

    response = send(device_a, "patch", device_url("a-reg"), {"isPrimary": True})

    assert response.status_code == 200, response.json()
    assert response.json()["isPrimary"] is False
    assert Installation.objects.get(push_registration_id="b-reg").is_primary is True
    assert victim.installations.filter(is_primary=True).count() == 1


def test_user_attributes_do_not_rewrite_a_person_another_application_identified(
    app_a, app_b, victim
):
    device_a = device_client(app_a)
    register(device_a, "a-reg")

    response = personalize(device_a, "a-reg", ATTACK_BODY, ATTACK)
    again = personalize(device_a, "a-reg", ATTACK_BODY, ATTACK)

    assert (response.status_code, again.status_code) == (200, 200)
    victim.refresh_from_db()
    assert victim.first_name == "Vera"
    assert sorted(victim.tags.values_list("name", flat=True)) == ["vip"]
    # The answer is the profile as stored, so the app sees its attributes were not taken.
    assert again.json()["firstName"] == "Vera"
    assert again.json()["tags"] == ["vip"]
    event = victim.events.filter(kind=EventKind.PERSONALIZE).order_by("-id").first()
    assert event.changes["notApplied"]["userAttributes"] == ["firstName", "tags"]


def test_user_attributes_do_not_rewrite_a_person_made_by_the_api_even_on_a_second_login(
    app_a,
):
    customer = person_services.person_create(
        actor=Actor.api_key("crm"), fields={"firstName": "Carla"}, emails=["carla@example.com"]
    )
    device_a = device_client(app_a)
    register(device_a, "a-reg")
    body = {"userIdentity": {"emails": ["carla@example.com"]}, "userAttributes": {"firstName": "X"}}

    first = personalize(device_a, "a-reg", body)
    second = personalize(device_a, "a-reg", body)

    assert (first.status_code, second.status_code) == (200, 200)
    customer.refresh_from_db()
    assert customer.first_name == "Carla"
    assert second.json()["firstName"] == "Carla"


def test_a_devices_own_profile_still_takes_its_user_attributes_on_every_login(app_a):
    device_a = device_client(app_a)
    register(device_a, "a-reg")
    body = {"userIdentity": {"externalUserId": "own-1"}, "userAttributes": {"firstName": "Ana"}}
    assert personalize(device_a, "a-reg", body).json()["firstName"] == "Ana"

    body["userAttributes"] = {"firstName": "Ana Maria"}
    response = personalize(device_a, "a-reg", body)

    assert response.status_code == 200
    assert response.json()["firstName"] == "Ana Maria"
    assert Person.objects.get(external_id="own-1").first_name == "Ana Maria"


def test_primary_moves_between_devices_of_the_same_application(app_a):
    device_a = device_client(app_a)
    for push_id in ("a-phone", "a-tablet"):
        register(device_a, push_id)
        response = personalize(
            device_a,
            push_id,
            {"userIdentity": {"externalUserId": "own-2"}},
            "?setDeviceAsPrimary=true",
        )
        assert response.status_code == 200
    primaries = Installation.objects.filter(is_primary=True)
    assert list(primaries.values_list("push_registration_id", flat=True)) == ["a-tablet"]
