"""The seed documents' example flow (references 003 and 000), replayed over HTTP: devices
register, automation personalizes, sets the primary device, moves and logs out installations.
"""

import pytest

from installations.models import Installation
from people.models import ActorKind, EventKind, Person, PersonType, Source
from tests.factories import ApplicationFactory
from tests.installations.push_support import (
    api_client,
    assert_vendor_shape,
    device_client,
    device_url,
    push_url,
    send,
)

PHONE = "79810000000"


@pytest.fixture
def app(db):
    return ApplicationFactory(name="Shop", code="87dc5af9bb50ebe3df341c89d2463a09")


@pytest.fixture
def automation(app):
    return api_client(app=app)


def register(app, **fields) -> dict:
    response = send(device_client(app), "post", device_url(), {"os": "Android", **fields})
    assert response.status_code == 201, response.json()
    return response.json()


def kinds(person: Person) -> list[str]:
    return list(person.events.order_by("created_at", "id").values_list("kind", flat=True))


def test_the_seed_documents_flow_keeps_one_person_one_primary_and_the_history(app, automation):
    # Two devices register: two anonymous lead profiles, each with an Install event.
    first = register(app, deviceModel="ANE-LX1", deviceManufacturer="HUAWEI")["pushRegId"]
    second = register(app, os="iOS", pushServiceType="APNS")["pushRegId"]
    first_lead = Installation.objects.get(push_registration_id=first).person
    assert first_lead.type == PersonType.LEAD
    install = first_lead.events.get()
    assert (install.kind, install.actor_kind, install.source) == (
        EventKind.INSTALL,
        ActorKind.DEVICE,
        Source.DEVICE,
    )
    assert install.actor_label == f"Device of app {app.code}"

    # Personalize the first with the phone and tags of reference 003.
    body = {"identity": {"phoneNumber": PHONE}, "attributes": {"tags": ["Pizza", "Sports"]}}
    response = send(automation, "post", push_url(first, "personalize"), body)
    assert response.status_code == 200, response.json()
    assert response.json()["contactInformation"]["phones"] == [{"number": PHONE}]
    assert response.json()["tags"] == ["Pizza", "Sports"]
    assert_vendor_shape(response.json(), "PushUserPersonalizationResponse")
    person = Installation.objects.get(push_registration_id=first).person
    assert person.pk == first_lead.pk  # the anonymous profile took the identity
    assert person.type == PersonType.CUSTOMER
    personalize = person.events.get(kind=EventKind.PERSONALIZE)
    assert (personalize.actor_kind, personalize.source) == (ActorKind.API_KEY, Source.API)
    assert personalize.push_registration_id == first
    assert personalize.changes["identity"]["phones"] == [PHONE]

    # The second device with the same phone: both installations now belong to one person.
    second_lead_id = Installation.objects.get(push_registration_id=second).person_id
    response = send(automation, "post", push_url(second, "personalize") + "?returnPush=true", body)
    assert response.status_code == 200, response.json()
    assert_vendor_shape(response.json(), "PushUserPersonalizationResponse")
    pushed = {item["registrationId"] for item in response.json()["contactInformation"]["push"]}
    assert pushed == {first, second}
    assert set(person.installations.values_list("push_registration_id", flat=True)) == {
        first,
        second,
    }
    assert not Person.objects.filter(pk=second_lead_id).exists()  # emptied anonymous profile
    assert kinds(person).count(EventKind.INSTALL) == 2  # its Install event moved along

    # Primary: the second, then the first; the person has exactly one primary device.
    for push_id in (second, first):
        response = send(automation, "patch", push_url(push_id), {"isPrimary": True})
        assert response.status_code == 200, response.json()
        assert response.json()["isPrimary"] is True
        assert_vendor_shape(response.json(), "PushApiInstance")
    primaries = person.installations.filter(is_primary=True)
    assert list(primaries.values_list("push_registration_id", flat=True)) == [first]
    response = automation.get(f"/people/2/persons?identifier={person.pk}&type=ID")
    assert response.status_code == 200
    pushes = response.json()["contactInformation"]["push"]
    assert [p["registrationId"] for p in pushes if p["isPrimary"]] == [first]
    assert len(pushes) == 2
    response = automation.get(push_url(second))
    assert response.json()["isPrimary"] is False
    assert kinds(person).count(EventKind.PRIMARY_CHANGED) == 2

    # Another identity for the first: refused without forceDepersonalize ...
    other = {"identity": {"externalId": "jdoe"}, "attributes": {"firstName": "John"}}
    response = send(automation, "post", push_url(first, "personalize"), other)
    assert response.status_code == 400
    assert_vendor_shape(response.json(), "PushApiErrorResponse")
    assert response.json()["errorCode"] == 48106  # PERSONALIZATION_IMPOSSIBLE
    assert "set forceDepersonalize" in response.json()["errorMessage"]
    assert Installation.objects.get(push_registration_id=first).person_id == person.pk

    # ... and moved with it: the first leaves the person for a new one named jdoe.
    response = send(
        automation, "post", push_url(first, "personalize") + "?forceDepersonalize=true", other
    )
    assert response.status_code == 200, response.json()
    assert response.json()["externalId"] == "jdoe"
    assert response.json()["firstName"] == "John"
    assert response.json()["contactInformation"] == {"phones": [], "emails": []}
    jdoe = Person.objects.get(external_id="jdoe")
    moved = Installation.objects.get(push_registration_id=first)
    assert moved.person_id == jdoe.pk
    assert moved.is_primary is False
    assert kinds(person)[-1] == EventKind.DEPERSONALIZE
    assert kinds(jdoe)[-1] == EventKind.PERSONALIZE

    # Depersonalize the second: it leaves for a fresh anonymous lead; the person keeps history.
    response = send(automation, "post", push_url(second, "depersonalize"))
    assert response.status_code == 200
    assert response.content == b""
    lead = Installation.objects.get(push_registration_id=second).person
    assert lead.type == PersonType.LEAD and lead.pk != person.pk
    assert not person.installations.exists()
    assert person.identities.get().value == PHONE
    # In time order: the second device's Install came with it, and happened before.
    assert kinds(person) == [
        EventKind.INSTALL,
        EventKind.INSTALL,
        EventKind.PERSONALIZE,
        EventKind.PERSONALIZE,
        EventKind.PRIMARY_CHANGED,
        EventKind.PRIMARY_CHANGED,
        EventKind.DEPERSONALIZE,
        EventKind.DEPERSONALIZE,
    ]
    assert person.events.filter(kind=EventKind.DEPERSONALIZE).last().push_registration_id in {
        first,
        second,
    }


def test_personalize_with_keep_as_lead_and_set_device_as_primary(app, automation):
    push_id = register(app)["pushRegId"]
    url = push_url(push_id, "personalize") + "?keepAsLead=true&setDeviceAsPrimary=True"
    body = {"identity": {"email": "My.Email@Example.com"}}
    response = send(automation, "post", url, body)
    assert response.status_code == 200, response.json()
    assert response.json()["type"] == PersonType.LEAD
    assert response.json()["contactInformation"]["emails"] == [{"address": "my.email@example.com"}]
    assert Installation.objects.get(push_registration_id=push_id).is_primary is True


def test_personalize_with_the_same_identity_again_only_applies_the_attributes(app, automation):
    push_id = register(app)["pushRegId"]
    url = push_url(push_id, "personalize")
    send(automation, "post", url, {"identity": {"externalId": "jdoe"}})
    response = send(
        automation,
        "post",
        url,
        {"identity": {"externalId": "jdoe"}, "attributes": {"tags": ["Promotions"]}},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["Promotions"]
    assert Person.objects.filter(external_id="jdoe").count() == 1
