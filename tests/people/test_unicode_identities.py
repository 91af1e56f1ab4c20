"""One mailbox, one owner, whatever its Unicode spelling (issue 24, item 5).

Emails are stored as NFKC, case-folded, with the domain in its IDNA (punycode) form;
invisible and format characters are refused with EMAIL_INVALID. externalIds are NFC and
keep their case. Phones are unchanged.
"""

from __future__ import annotations

import json

import pytest

from core.errors import DomainError, ErrorCode
from directory.search import SearchQuery, search_people
from people import services
from people.identities import normalize_email, normalize_external_id
from people.models import ContactIdentity, Person
from tests.vendor_api import assert_vendor_error

pytestmark = pytest.mark.django_db
PERSONS = "/people/2/persons"

# Each pair: two spellings of one mailbox.
LOOK_ALIKES = [
    ("stan@example.com", "ſtan@example.com"),  # long s
    ("ivan@example.com", "İvan@example.com"),  # dotted capital I
    ("joe@example.com", "joe@ｅｘａｍｐｌｅ.com"),  # fullwidth domain
    ("joe@bücher.de", "joe@xn--bcher-kva.de"),  # Unicode domain and its punycode
    ("Ana@Example.COM", "ana@example.com"),
]
INVISIBLE = ["eve@exa\u00admple.com", "zed@exam\u200bple.com", "\u2060amy@example.com"]


@pytest.mark.parametrize(("first", "second"), LOOK_ALIKES)
def test_look_alike_spellings_of_one_mailbox_normalize_alike(first, second):
    assert normalize_email(first) == normalize_email(second)
    assert normalize_email(second).isascii()


def test_a_unicode_domain_is_stored_in_its_punycode_form():
    assert normalize_email("Joe@Bücher.DE") == "joe@xn--bcher-kva.de"
    assert normalize_email("joe@ＥＸＡＭＰＬＥ.com") == "joe@example.com"


@pytest.mark.parametrize("address", INVISIBLE)
def test_invisible_and_format_characters_in_an_email_are_email_invalid(address):
    with pytest.raises(DomainError) as caught:
        normalize_email(address)
    assert caught.value.code == ErrorCode.EMAIL_INVALID
    assert "invisible" in caught.value.message


def test_an_external_id_is_nfc_keeps_its_case_and_refuses_invisible_characters():
    assert normalize_external_id("Cafe\u0301-7") == "Caf\u00e9-7"
    assert normalize_external_id("AbC") == "AbC" != normalize_external_id("abc")
    with pytest.raises(DomainError) as caught:
        normalize_external_id("crm\u200b-1")
    assert "invisible" in caught.value.message


@pytest.mark.parametrize(("first", "second"), LOOK_ALIKES)
def test_a_second_person_cannot_take_a_look_alike_of_an_email_over_http(
    manage_client, first, second
):
    created = manage_client.post(
        PERSONS, {"contactInformation": {"email": [{"address": first}]}}, format="json"
    )
    assert created.status_code == 200, created.content[:300]
    taken = manage_client.post(
        PERSONS, {"contactInformation": {"email": [{"address": second}]}}, format="json"
    )
    assert_vendor_error(taken, 400, "USER_MERGE_INTERRUPTED")
    other = manage_client.post(PERSONS, {"externalId": "other"}, format="json")
    assert other.status_code == 200
    patched = manage_client.patch(
        f"{PERSONS}?externalId=other",
        {"contactInformation": {"email": [{"address": second}]}},
        format="json",
    )
    assert_vendor_error(patched, 400, "USER_MERGE_INTERRUPTED")
    assert ContactIdentity.objects.filter(kind="EMAIL").count() == 1


@pytest.mark.parametrize("address", INVISIBLE)
def test_an_email_with_an_invisible_character_is_refused_over_http(manage_client, address):
    response = manage_client.post(
        PERSONS, {"contactInformation": {"email": [{"address": address}]}}, format="json"
    )
    assert_vendor_error(response, 400, "EMAIL_INVALID")
    assert not Person.objects.exists()


def test_an_external_id_with_a_zero_width_space_is_refused_over_http(manage_client):
    response = manage_client.post(PERSONS, {"externalId": "crm\u200b-1"}, format="json")
    assert_vendor_error(response, 400)
    assert not Person.objects.exists()


def test_composed_and_decomposed_external_ids_are_one_owner_over_http(manage_client):
    assert (
        manage_client.post(PERSONS, {"externalId": "Caf\u00e9"}, format="json").status_code == 200
    )
    taken = manage_client.post(PERSONS, {"externalId": "Cafe\u0301"}, format="json")
    assert_vendor_error(taken, 400, "USER_MERGE_INTERRUPTED")
    found = manage_client.get(PERSONS, {"externalId": "Cafe\u0301"})
    assert found.status_code == 200 and found.json()["externalId"] == "Caf\u00e9"


def test_searching_a_look_alike_email_finds_the_stored_one(manage_client, read_client):
    manage_client.post(
        PERSONS,
        {"externalId": "joe", "contactInformation": {"email": [{"address": "joe@example.com"}]}},
        format="json",
    )
    found = read_client.get(PERSONS, {"type": "EMAIL", "identifier": "Joe@ＥＸＡＭＰＬＥ.com"})
    assert found.status_code == 200 and found.json()["externalId"] == "joe"
    listed = read_client.get(
        PERSONS,
        {"filter": json.dumps({"contactInformation.email.address": "Joe@ＥＸＡＭＰＬＥ.com"})},
    )
    assert [p["externalId"] for p in listed.json()["persons"]] == ["joe"]


def test_the_search_box_finds_a_look_alike_email(system_actor):
    person = services.person_create(actor=system_actor, emails=["joe@bücher.de"])
    for typed in ("Joe@BÜCHER.de", "joe@xn--bcher-kva.de", "ＪＯＥ@bücher.de"):
        page = search_people(SearchQuery(q=typed))
        assert [row.pk for row in page.people] == [person.pk], typed
