"""The access request: everything about one person as one JSON document, from the person page
and the API, recorded; and the person page's privacy section by role."""

from __future__ import annotations

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from people import services as people_services
from people.history import Actor
from people.models import Person
from privacy import services
from privacy.models import AccessKind, AccessRecord, Erasure, ErasureState
from tests.profiles import make_profile
from tests.vendor_api import assert_vendor_error

EXPORT = "/people/2/persons/dataExport"


@pytest.fixture
def ana(db, system_actor, operator_actor):
    made = make_profile(system_actor)
    people_services.person_set_custom_attributes(
        person=made.person,
        actor=operator_actor,
        values={"Orders": [{"sku": "A-1", "qty": 2, "paid": True}]},
    )
    return made


def test_the_bundle_holds_every_piece_of_data_and_is_recorded(ana, editor):
    bundle = services.access_bundle(
        person_id=ana.person.pk, actor=Actor.operator(editor), user=editor
    )
    person = bundle["person"]
    assert (person["firstName"], person["lastName"], person["city"]) == ("Ana", "Horvat", "Zagreb")
    assert sorted(person["tags"]) == ["newsletter", "vip"]
    assert person["customAttributes"] == {
        "Nickname": "Annie",
        "Balance": 12.5,
        "Orders": [{"sku": "A-1", "qty": 2, "paid": True}],
    }
    assert bundle["identities"] == [
        {"kind": "externalId", "value": "crm-42"},
        {"kind": "phone", "value": "38516419710"},
        {"kind": "email", "value": "ana.horvat@example.com"},
    ]
    devices = {row["push_registration_id"]: row for row in bundle["installations"]}
    assert set(devices) == {"push-ana-phone", "push-ana-tablet"}
    phone = devices["push-ana-phone"]
    assert (phone["os"], phone["device_model"], phone["is_primary"]) == ("Android", "Pixel 8", True)
    assert phone["additional_data"] == {"tier": "gold"}
    assert phone["application"] == "shop-android"
    kinds = [event["kind"] for event in bundle["history"]]
    assert kinds == list(
        ana.person.events.order_by("created_at", "id").values_list("kind", flat=True)
    )
    assert "CUSTOM_ATTRIBUTES_CHANGED" in kinds
    json.dumps(bundle, cls=DjangoJSONEncoder)  # one JSON document
    record = AccessRecord.objects.get()
    assert (record.kind, record.person_id, record.actor_user, record.source) == (
        AccessKind.EXPORT,
        ana.person.pk,
        editor,
        "UI",
    )


def test_the_person_page_exports_for_editors_only(ana, client, editor, viewer):
    url = f"/person/{ana.person.pk}/export"
    client.force_login(viewer)
    assert client.post(url).status_code == 403
    page = client.get(f"/person/{ana.person.pk}/").content.decode()
    assert 'data-testid="export-person"' not in page
    client.force_login(editor)
    page = client.get(f"/person/{ana.person.pk}/").content.decode()
    assert 'data-testid="export-person"' in page and "Request erasure" not in page
    assert client.get(url).status_code == 405  # recorded, so never a plain link
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="person-{ana.person.pk}.json"'
    assert json.loads(response.content)["person"]["externalId"] == "crm-42"
    assert AccessRecord.objects.filter(kind=AccessKind.EXPORT, actor_user=editor).count() == 1


def test_the_api_exports_with_a_manage_key_and_records_the_key(ana, manage_client, read_client):
    params = "?identifier=crm-42&type=EXTERNAL_ID"
    assert read_client.post(EXPORT + params).status_code == 403
    response = manage_client.post(EXPORT + params)
    assert response.status_code == 200
    assert response.json()["person"]["id"] == ana.person.pk
    record = AccessRecord.objects.get()
    assert (record.actor_user, record.actor_label, record.source) == (
        None,
        "API key crm-sync",
        "API",
    )
    assert_vendor_error(manage_client.post(EXPORT + "?identifier=nobody&type=EXTERNAL_ID"), 404)
    assert AccessRecord.objects.count() == 1


def test_erasure_from_the_person_page_for_administrators(ana, client, administrator, editor):
    pk = ana.person.pk
    client.force_login(editor)
    assert client.post(f"/person/{pk}/erasure", {"reason": "asked"}).status_code == 403
    client.force_login(administrator)
    page = client.get(f"/person/{pk}/").content.decode()
    assert "Request erasure" in page
    empty = client.post(f"/person/{pk}/erasure", {"reason": " "}, follow=True)
    assert "A reason is required." in empty.content.decode()
    assert not Erasure.objects.exists()
    client.post(f"/person/{pk}/erasure", {"reason": "asked by phone"})
    erasure = Erasure.objects.get()
    page = client.get(f"/person/{pk}/").content.decode()
    assert 'data-testid="erasure-pending"' in page and "Cancel the erasure" in page
    # The due time and the cancel form's erasure, as the page reads them with the person.
    assert f'datetime="{erasure.due_at.isoformat()}"' in page
    assert f'action="/erasures/{erasure.pk}/cancel"' in page
    assert "Request erasure" not in page
    client.force_login(editor)
    assert client.post(f"/erasures/{erasure.pk}/cancel").status_code == 403
    page = client.get(f"/person/{pk}/").content.decode()
    assert 'data-testid="erasure-pending"' in page and "Cancel the erasure" not in page
    client.force_login(administrator)
    client.post(f"/erasures/{erasure.pk}/cancel")
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.CANCELLED
    assert Person.objects.filter(pk=pk).exists()
