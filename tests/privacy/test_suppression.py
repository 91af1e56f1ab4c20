"""Suppression (DOMAIN.md): an erased person's phones, emails, externalId and push
registrations cannot be stored again, through the services, the UI, the API, batches and the
device API, until an Administrator lifts the suppression of one identifier (recorded)."""

from __future__ import annotations

import pytest

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from people import services as people_services
from people.models import Person, SuppressedIdentifier
from privacy import services
from privacy.models import AccessKind, AccessRecord
from tests.factories import InstallationFactory
from tests.installations.push_support import api_client, push_url, send
from tests.profiles import make_profile
from tests.vendor_api import assert_vendor_error

PHONE = "+385 1 6419-710"  # Ana's, written as she gave it
EMAIL = "ana.horvat@example.com"


@pytest.fixture
def erased(db, system_actor, administrator):
    ana = make_profile(system_actor)
    erasure = services.request_erasure(person_id=ana.person.pk, reason="asked", user=administrator)
    services.run_due_erasures(now=erasure.due_at)
    return ana


def refused(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == ErrorCode.IDENTIFIER_SUPPRESSED
    return caught.value


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"phones": ["+385 1 6419 710"]}, "contactInformation.phone"),  # another spelling
        ({"emails": ["Ana.Horvat@EXAMPLE.com"]}, "contactInformation.email"),
        ({"fields": {"externalId": "crm-42"}}, "externalId"),
    ],
)
def test_creating_a_person_with_an_erased_identifier_is_refused(
    erased, operator_actor, arguments, field
):
    people = Person.objects.count()
    error = refused(lambda: people_services.person_create(actor=operator_actor, **arguments))
    assert error.field == field
    assert "erased" in error.message and "administrator can lift" in error.message
    assert Person.objects.count() == people


def test_adding_an_erased_identifier_to_someone_else_is_refused(erased, operator_actor):
    iva = people_services.person_create(actor=operator_actor, fields={"firstName": "Iva"})
    refused(
        lambda: people_services.person_add_phone(person=iva, actor=operator_actor, number=PHONE)
    )
    refused(
        lambda: people_services.person_add_email(person=iva, actor=operator_actor, address=EMAIL)
    )
    refused(
        lambda: people_services.person_set_fields(
            person=iva, actor=operator_actor, fields={"externalId": "crm-42"}
        )
    )
    iva.refresh_from_db()
    assert iva.external_id is None and not iva.identities.exists()


def test_the_api_and_its_batches_answer_the_vendor_error(erased, manage_client):
    response = manage_client.post(
        "/people/2/persons",
        {"firstName": "Again", "contactInformation": {"email": [{"address": EMAIL}]}},
        format="json",
    )
    exception = assert_vendor_error(response, 400, "IDENTIFIER_SUPPRESSED")
    assert "erased" in exception["text"]

    batch = manage_client.post(
        "/people/2/persons/batch",
        {"people": [{"firstName": "Fine"}, {"externalId": "crm-42"}]},
        format="json",
    )
    assert batch.status_code == 207
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [200, 400], results
    assert results[1]["errors"][0]["messageId"] == "IDENTIFIER_SUPPRESSED"
    assert results[1]["errors"][0]["field"] == "externalId"
    assert not Person.objects.filter(external_id="crm-42").exists()


def test_the_ui_shows_the_refusal_at_the_field(erased, editor_client, operator_actor):
    iva = people_services.person_create(actor=operator_actor, fields={"firstName": "Iva"})
    response = editor_client.post(
        f"/person/{iva.pk}/identities/add",
        {"kind": "phone", "value": PHONE},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "erased at their request" in response.content.decode()
    assert not iva.identities.exists()


def test_a_device_that_registers_again_stays_anonymous(erased, operator_actor):
    """The device of an erased person registers again with its registration: it may not be
    personalized (documented), with the push API's error body."""
    again = InstallationFactory(
        person=people_services.new_anonymous_person(),
        application=erased.app,
        push_registration_id=erased.primary.push_registration_id,
    )
    client = api_client(app=erased.app)
    response = send(
        client,
        "post",
        push_url(again.push_registration_id, "personalize"),
        {"identity": {"externalId": "someone-new"}},
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errorCode"] == 48109
    again.refresh_from_db()
    assert again.person.external_id is None and not again.person.identities.exists()
    assert not Person.objects.filter(external_id="someone-new").exists()


def test_lifting_one_suppression_allows_that_identifier_only_and_is_recorded(
    erased, administrator, operator_actor
):
    assert services.lift_suppression(
        kind="PHONE",
        value="+385 (1) 6419 710",
        reason="wrong person",
        user=administrator,
        source="UI",
    )
    record = AccessRecord.objects.get(kind=AccessKind.SUPPRESSION_LIFTED)
    assert (record.actor_user, record.detail, record.reason) == (
        administrator,
        "Phone",
        "wrong person",
    )
    assert "6419" not in repr(record.__dict__)  # the value is never recorded
    person = people_services.person_create(actor=operator_actor, phones=[PHONE])
    assert person.identities.get().value == "38516419710"
    refused(lambda: people_services.person_create(actor=operator_actor, emails=[EMAIL]))
    # Lifting what is not suppressed changes nothing and says so.
    assert not services.lift_suppression(
        kind="PHONE", value=PHONE, reason="again", user=administrator, source="UI"
    )
    assert AccessRecord.objects.filter(kind=AccessKind.SUPPRESSION_LIFTED).count() == 1


def test_the_table_keeps_only_keyed_hashes(erased):
    digests = list(SuppressedIdentifier.objects.values_list("kind", "digest"))
    assert len(digests) == 5
    assert all(len(d) == 64 and "crm" not in d for _, d in digests)


def test_the_lift_page_is_for_administrators(erased, client, administrator, editor):
    client.force_login(editor)
    assert client.get("/suppressions/lift").status_code == 403
    client.force_login(administrator)
    page = client.get("/suppressions/lift")
    assert page.status_code == 200 and "Lift a suppression" in page.content.decode()
    missing = client.post("/suppressions/lift", {"kind": "EMAIL", "value": "", "reason": "x"})
    assert missing.status_code == 422 and "lift-error" in missing.content.decode()
    no_reason = client.post("/suppressions/lift", {"kind": "EMAIL", "value": EMAIL, "reason": ""})
    assert no_reason.status_code == 422 and "A reason is required." in no_reason.content.decode()
    lifted = client.post("/suppressions/lift", {"kind": "EMAIL", "value": EMAIL, "reason": "ok"})
    assert lifted.status_code == 302
    again = client.post("/suppressions/lift", {"kind": "EMAIL", "value": EMAIL, "reason": "ok"})
    assert again.status_code == 404 and "not suppressed" in again.content.decode()
    assert SuppressedIdentifier.objects.count() == 4
    assert Installation.objects.count() == 0


# Every kind of erased identifier, through each way in: the console, the People API, a device.
KINDS = [
    ("phone", "+385 1 6419 710"),
    ("email", "ANA.HORVAT@example.com"),
    ("externalId", "crm-42"),
]


@pytest.mark.parametrize(("kind", "value"), KINDS)
def test_the_console_refuses_each_erased_identifier(
    erased, editor_client, operator_actor, kind, value
):
    iva = people_services.person_create(actor=operator_actor, fields={"firstName": "Iva"})
    if kind == "externalId":
        response = editor_client.post(
            f"/person/{iva.pk}/overview",
            {"version": iva.version, "type": "CUSTOMER", "firstName": "Iva", "externalId": value},
            HTTP_HX_REQUEST="true",
        )
    else:
        response = editor_client.post(
            f"/person/{iva.pk}/identities/add",
            {"kind": kind, "value": value},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 422, response.status_code
    assert "erased at their request" in response.content.decode()
    iva.refresh_from_db()
    assert iva.external_id is None and not iva.identities.exists()


@pytest.mark.parametrize(("kind", "value"), KINDS)
def test_the_people_api_refuses_each_erased_identifier(erased, manage_client, kind, value):
    body = {
        "phone": {"contactInformation": {"phone": [{"number": value}]}},
        "email": {"contactInformation": {"email": [{"address": value}]}},
        "externalId": {"externalId": value},
    }[kind]
    response = manage_client.post("/people/2/persons", {"firstName": "X", **body}, format="json")
    exception = assert_vendor_error(response, 400, "IDENTIFIER_SUPPRESSED")
    assert exception["text"].startswith(
        {"phone": "This phone", "email": "This email", "externalId": "This externalId"}[kind]
    )
    assert not Person.objects.filter(first_name="X").exists()


@pytest.mark.parametrize(
    "identity",
    [{"phoneNumber": "38516419710"}, {"email": "ana.horvat@example.com"}, {"externalId": "crm-42"}],
)
def test_a_device_cannot_be_personalized_with_any_erased_identifier(erased, identity):
    device = InstallationFactory(
        person=people_services.new_anonymous_person(),
        application=erased.app,
        push_registration_id="push-another-phone",
    )
    response = send(
        api_client(app=erased.app),
        "post",
        push_url(device.push_registration_id, "personalize"),
        {"identity": identity},
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errorCode"] == 48109
    device.refresh_from_db()
    assert device.person.external_id is None and not device.person.identities.exists()
