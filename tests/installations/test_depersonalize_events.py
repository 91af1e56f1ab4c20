"""One depersonalize: every caller records the same Depersonalize events.

Remote logout (the person page's card, the push API, the device API, admin's action), a forced
personalization and deleting a person (the page, the API, a batch, admin) all move an
installation with installations.depersonalize.depersonalize_locked. The person it left gets
{"installation", "movedTo"}; the fresh anonymous profile gets {"installation", "movedFrom"}
(deleting the person takes the first with its history).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client, TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import ApiKeyRole
from installations.models import Installation
from people import services as person_services
from people.history import Actor
from people.models import Event, EventKind, Person, PersonType
from tests.factories import ApplicationFactory, InstallationFactory
from tests.vendor_api import key_client

pytestmark = pytest.mark.django_db
PUSH_ID = "push-ana-phone"
BY_EXTERNAL_ID = "?identifier=crm-ana&type=EXTERNAL_ID"


@dataclass
class World:
    person: Person
    installation: Installation
    editor: Client
    administrator: Client
    api: APIClient
    device: APIClient


@pytest.fixture
def world(editor, administrator) -> World:
    app = ApplicationFactory(name="Shop", code="shop")
    person = person_services.person_create(
        actor=Actor.system("setup"), fields={"firstName": "Ana", "externalId": "crm-ana"}
    )
    installation = InstallationFactory(
        person=person, application=app, push_registration_id=PUSH_ID, is_primary=True
    )
    InstallationFactory(person=person, application=app, push_registration_id="push-ana-tablet")
    editor_client, admin_client = Client(), Client()
    editor_client.force_login(editor)
    admin_client.force_login(administrator)
    api = key_client(ApiKeyRole.MANAGE)
    api.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"], HTTP_APPCODE="shop")
    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION="App shop")
    return World(person, installation, editor_client, admin_client, api, device)


def admin_logout(world: World) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        ok(
            world.administrator.post(
                reverse("admin:installations_installation_changelist"),
                {"action": "remote_logout", "_selected_action": [world.installation.pk]},
            )
        )


def ok(response) -> None:
    assert response.status_code < 400, (response.status_code, response.content[:500])


# Remote logout and a forced personalization: the person stays, with its event.
MOVES: dict[str, Callable[[World], None]] = {
    "person page card": lambda w: ok(
        w.editor.post(reverse("installations:depersonalize", args=[w.installation.pk]))
    ),
    "push API": lambda w: ok(
        w.api.post(f"/people/2/contactInformation/push/{PUSH_ID}/depersonalize")
    ),
    "device API": lambda w: ok(w.device.post(f"/mobile/1/appinstance/{PUSH_ID}/depersonalize")),
    # Admin's remote logout starts a job, sent when its transaction commits (then run in
    # the tests' eager mode).
    "admin action": lambda w: admin_logout(w),
    "forced personalization": lambda w: ok(
        w.api.post(
            f"/people/2/contactInformation/push/{PUSH_ID}/personalize?forceDepersonalize=true",
            {"identity": {"externalId": "crm-ivo"}},
            format="json",
        )
    ),
}

# Deleting the person: its history goes, the new profiles keep theirs.
DELETES: dict[str, Callable[[World], None]] = {
    "person page": lambda w: ok(w.administrator.post(reverse("people:delete", args=[w.person.pk]))),
    "API": lambda w: ok(w.api.delete("/people/2/persons" + BY_EXTERNAL_ID)),
    "API batch": lambda w: ok(
        w.api.delete(
            "/people/2/persons/batch",
            {"people": [{"query": {"identifier": "crm-ana", "type": "EXTERNAL_ID"}}]},
            format="json",
        )
    ),
    "admin": lambda w: ok(
        w.administrator.post(
            reverse("admin:people_person_delete", args=[w.person.pk]), {"post": "yes"}
        )
    ),
}


def depersonalize_events(**filters) -> list[Event]:
    return list(Event.objects.filter(kind=EventKind.DEPERSONALIZE, **filters).order_by("id"))


@pytest.mark.parametrize("caller", list(MOVES))
def test_every_remote_logout_records_the_same_two_events(world, caller):
    MOVES[caller](world)

    moved = Installation.objects.get(push_registration_id=PUSH_ID)
    anonymous = Person.objects.get(
        pk=depersonalize_events(person=world.person)[0].changes["movedTo"]
    )
    if caller != "forced personalization":  # there the new profile then takes the identity
        assert anonymous.type == PersonType.LEAD and anonymous.external_id is None
        assert moved.is_primary is False
    assert moved.person_id == anonymous.pk
    (left,) = depersonalize_events(person=world.person)
    (arrived,) = depersonalize_events(person=anonymous)
    assert left.changes == {"installation": PUSH_ID, "movedTo": anonymous.pk}
    assert arrived.changes == {"installation": PUSH_ID, "movedFrom": world.person.pk}
    assert left.push_registration_id == arrived.push_registration_id == PUSH_ID
    assert (left.actor_label, left.source) == (arrived.actor_label, arrived.source)


@pytest.mark.parametrize("caller", list(DELETES))
def test_every_person_delete_records_the_same_event_on_each_new_profile(world, caller):
    person_id = world.person.pk
    DELETES[caller](world)

    assert not Person.objects.filter(pk=person_id).exists()
    assert not Event.objects.filter(person_id=person_id).exists()
    moved = Installation.objects.filter(push_registration_id__startswith="push-ana-")
    assert moved.count() == 2
    for installation in moved:
        assert installation.is_primary is False
        assert installation.person.type == PersonType.LEAD
        (arrived,) = depersonalize_events(person=installation.person)
        assert arrived.changes == {
            "installation": installation.push_registration_id,
            "movedFrom": person_id,
        }
        assert arrived.push_registration_id == installation.push_registration_id
    assert len({installation.person_id for installation in moved}) == 2
