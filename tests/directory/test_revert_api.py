"""POST /people/2/events/{eventId}/revert: a manage key reverts one history event's change;
conflicts, kinds without a revert and read keys are refused in the vendor's error body."""

import pytest

from people import services
from people.models import Event, EventKind
from tests.vendor_api import assert_vendor_error

pytestmark = pytest.mark.django_db


def url(event: Event | int) -> str:
    return f"/people/2/events/{getattr(event, 'pk', event)}/revert"


def newest(person) -> Event:
    return person.events.order_by("-id").first()


def test_a_manage_key_reverts_a_change_and_then_the_revert(profile, manage_client, system_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=system_actor, names=["gold"])
    event = newest(person)
    response = manage_client.post(url(event))
    assert response.status_code == 200, response.content
    body = response.json()
    person.refresh_from_db()
    recorded = Event.objects.get(pk=body["revertEventId"])
    assert body == {
        "eventId": event.pk,
        "revertEventId": recorded.pk,
        "personId": person.pk,
        "version": person.version,
        "changes": {"tags": {"added": [], "removed": ["gold"]}},
    }
    assert response["ETag"] == f'W/"{person.pk}-{person.version}"'
    assert recorded.reverts_id == event.pk
    assert recorded.source == "API"
    assert recorded.actor_label.startswith("API key")
    again = manage_client.post(url(recorded))
    assert again.status_code == 200
    assert "gold" in {t.name for t in person.tags.all()}


def test_nothing_left_to_revert_answers_without_an_event(profile, manage_client, system_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=system_actor, names=["gold"])
    services.person_remove_tags(person=person, actor=system_actor, names=["gold"])
    added = person.events.filter(kind=EventKind.TAGS_CHANGED).order_by("id")[0]
    body = manage_client.post(url(added)).json()
    assert body["revertEventId"] is None
    assert body["changes"] == {}


def test_a_conflict_is_409_listing_it(profile, manage_client, system_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=system_actor, fields={"city": "Split"})
    event = newest(person)
    services.person_set_fields(person=person, actor=system_actor, fields={"city": "Rijeka"})
    response = manage_client.post(url(event))
    exception = assert_vendor_error(response, 409, "REVERT_CONFLICT")
    assert exception["conflicts"] == [{"field": "city", "now": "Rijeka", "restore": "Zagreb"}]
    assert list(exception["validationErrors"]) == ["city"]
    person.refresh_from_db()
    assert person.city == "Rijeka"


def test_a_kind_without_a_revert_is_409(profile, manage_client):
    created = profile.person.events.get(kind=EventKind.PERSON_CREATED)
    assert_vendor_error(manage_client.post(url(created)), 409, "NOT_REVERTIBLE")


def test_an_unknown_event_is_404(db, manage_client):
    assert_vendor_error(manage_client.post(url(987654)), 404, "NOT_FOUND")


def test_a_stale_if_match_is_412(profile, manage_client, system_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=system_actor, fields={"city": "Split"})
    person.refresh_from_db()
    stale = f'W/"{person.pk}-{person.version - 1}"'
    response = manage_client.post(url(newest(person)), HTTP_IF_MATCH=stale)
    assert_vendor_error(response, 412, "VERSION_CONFLICT")
    current = f'W/"{person.pk}-{person.version}"'
    assert manage_client.post(url(newest(person)), HTTP_IF_MATCH=current).status_code == 200


def test_a_read_key_may_not_revert(profile, read_client, system_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=system_actor, fields={"city": "Split"})
    response = read_client.post(url(newest(person)))
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.city == "Split"


def test_the_schema_documents_the_revert(client):
    document = client.get("/api/schema/", {"format": "json"}).json()
    operation = document["paths"]["/people/2/events/{eventId}/revert"]["post"]
    assert operation["operationId"] == "revert-a-history-event"
    assert {"200", "400", "403", "404", "409", "412"} <= set(operation["responses"])
