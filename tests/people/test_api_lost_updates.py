"""No lost updates (issue 8, item 1).

An edit of the whole profile carries the version it started from: the API's ETag and If-Match,
the operator form's hidden version. A stale one is refused (412 / a message naming who changed
the profile and when) and writes nothing. Writes of one part (a tag, one attribute, the primary
device) need no version: they lock the person row in their own transaction.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import ApiKeyRole
from installations import services as installation_services
from installations.models import Installation
from people import services
from people.apply import custom_attribute_values
from people.history import Actor
from people.models import AttributeDefinition, DataType, Event, Person
from tests.factories import ApplicationFactory, InstallationFactory
from tests.vendor_api import assert_vendor_error, key_client

PERSONS = "/people/2/persons"
CONTACTS = "/people/2/persons/contactInformation"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manage_client(db):
    return key_client(ApiKeyRole.MANAGE)


@pytest.fixture
def ana(db, system_actor) -> Person:
    return services.person_create(
        actor=system_actor,
        fields={"firstName": "Ana", "lastName": "Horvat", "externalId": "crm-42", "city": "Zagreb"},
    )


def by_id(person: Person) -> str:
    return f"?identifier={person.pk}&type=ID"


def snapshot(person: Person) -> tuple:
    """What an edit could change, and the history length."""
    person.refresh_from_db()
    phones = sorted(person.identities.values_list("value", flat=True))
    return (
        person.version,
        person.first_name,
        person.city,
        tuple(phones),
        Event.objects.filter(person=person).count(),
    )


# ---------------------------------------------------------------------------------------------
# API: ETag and If-Match


@pytest.mark.django_db
def test_getting_a_person_sends_its_version_as_etag(manage_client, ana):
    response = manage_client.get(PERSONS + by_id(ana))

    assert response.status_code == 200
    assert response["ETag"] == f'W/"{ana.pk}-{ana.version}"'


@pytest.mark.django_db
def test_an_edit_with_the_current_etag_is_applied_and_answers_the_new_etag(manage_client, ana):
    etag = manage_client.get(PERSONS + by_id(ana))["ETag"]

    response = manage_client.patch(
        PERSONS + by_id(ana), {"city": "Split"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200, response.content
    ana.refresh_from_db()
    assert ana.city == "Split"
    assert response["ETag"] == f'W/"{ana.pk}-{ana.version}"' != etag
    assert manage_client.get(PERSONS + by_id(ana))["ETag"] == response["ETag"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_edit_with_a_stale_etag_is_refused_with_412_and_writes_nothing(
    manage_client, ana, system_actor, method
):
    stale = manage_client.get(PERSONS + by_id(ana))["ETag"]
    services.person_set_fields(person=ana, actor=system_actor, fields={"city": "Rijeka"})
    before = snapshot(ana)

    response = getattr(manage_client, method)(
        PERSONS + by_id(ana),
        {"firstName": "Anna", "contactInformation": {"phone": [{"number": "+385 91 234 5678"}]}},
        format="json",
        HTTP_IF_MATCH=stale,
    )

    exception = assert_vendor_error(response, 412, "VERSION_CONFLICT")
    assert "If-Match" in exception["validationErrors"]
    assert snapshot(ana) == before
    assert before[2] == "Rijeka"


@pytest.mark.django_db
def test_a_strong_form_of_the_current_tag_and_a_star_both_match(manage_client, ana):
    strong = f'"{ana.pk}-{ana.version}"'
    first = manage_client.patch(
        PERSONS + by_id(ana), {"city": "Split"}, format="json", HTTP_IF_MATCH=strong
    )
    second = manage_client.patch(
        PERSONS + by_id(ana), {"city": "Pula"}, format="json", HTTP_IF_MATCH="*"
    )

    assert (first.status_code, second.status_code) == (200, 200)
    ana.refresh_from_db()
    assert ana.city == "Pula"


@pytest.mark.django_db
def test_a_list_of_tags_matches_when_one_names_the_current_version(manage_client, ana):
    tags = f'W/"{ana.pk}-{ana.version + 5}", W/"{ana.pk}-{ana.version}"'

    response = manage_client.patch(
        PERSONS + by_id(ana), {"city": "Split"}, format="json", HTTP_IF_MATCH=tags
    )

    assert response.status_code == 200


@pytest.mark.django_db
def test_the_etag_of_another_person_fails_the_precondition(manage_client, ana, system_actor):
    other = services.person_create(actor=system_actor, fields={"firstName": "Ivo"})
    before = snapshot(ana)

    response = manage_client.patch(
        PERSONS + by_id(ana),
        {"city": "Split"},
        format="json",
        HTTP_IF_MATCH=f'W/"{other.pk}-{ana.version}"',
    )

    assert_vendor_error(response, 412, "VERSION_CONFLICT")
    assert snapshot(ana) == before


@pytest.mark.django_db
def test_a_malformed_if_match_is_a_400_that_names_the_header(manage_client, ana):
    before = snapshot(ana)

    response = manage_client.patch(
        PERSONS + by_id(ana), {"city": "Split"}, format="json", HTTP_IF_MATCH="version 1"
    )

    exception = assert_vendor_error(response, 400, "BAD_REQUEST")
    assert exception["validationErrors"]["If-Match"]
    assert snapshot(ana) == before


@pytest.mark.django_db
def test_contact_information_edits_honour_if_match_too(manage_client, ana, system_actor):
    stale = f'W/"{ana.pk}-{ana.version}"'
    services.person_set_fields(person=ana, actor=system_actor, fields={"city": "Rijeka"})
    before = snapshot(ana)

    response = manage_client.patch(
        CONTACTS + by_id(ana),
        {"contactInformation": {"phone": [{"number": "+385 91 234 5678"}]}},
        format="json",
        HTTP_IF_MATCH=stale,
    )

    assert_vendor_error(response, 412, "VERSION_CONFLICT")
    assert snapshot(ana) == before


@pytest.mark.django_db
def test_an_edit_without_if_match_applies_to_the_current_version(manage_client, ana):
    response = manage_client.patch(PERSONS + by_id(ana), {"city": "Split"}, format="json")

    assert response.status_code == 200
    ana.refresh_from_db()
    assert (ana.city, response["ETag"]) == ("Split", f'W/"{ana.pk}-{ana.version}"')


@pytest.mark.django_db
def test_the_openapi_document_describes_etag_if_match_and_412(client, administrator):
    client.force_login(administrator)
    document = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    persons = document["paths"]["/people/2/persons"]

    assert "ETag" in persons["get"]["responses"]["200"]["headers"]
    for method in ("put", "patch"):
        operation = persons[method]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "If-Match" in headers, method
        assert "412" in operation["responses"], method
        assert "ETag" in operation["responses"]["200"]["headers"], method


# ---------------------------------------------------------------------------------------------
# Operator UI: the overview form


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def overview_post(person: Person, version: int, **fields) -> dict:
    return {
        "version": version,
        "type": "CUSTOMER",
        "externalId": person.external_id or "",
        "firstName": person.first_name,
        "lastName": person.last_name,
        "city": person.city,
        **fields,
    }


@pytest.mark.django_db
def test_a_stale_overview_edit_names_who_changed_the_profile_and_when(editor_client, ana):
    opened_at = ana.version
    other = Actor("OPERATOR", "maria.support", "UI")
    services.person_set_fields(person=ana, actor=other, fields={"city": "Rijeka"})
    event = ana.events.first()
    before = snapshot(ana)

    response = editor_client.post(
        reverse("people:overview", args=[ana.pk]),
        overview_post(ana, opened_at, firstName="Anita", city="Zagreb"),
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert snapshot(ana) == before
    assert "maria.support" in html
    assert event.created_at.strftime("%Y-%m-%d %H:%M:%S") in html
    assert "City: Zagreb → Rijeka" in html
    # What the operator typed stays in the form, beside the latest values.
    assert 'value="Anita"' in html
    assert "Where your values differ from the latest version" in html
    assert f'href="{reverse("people:detail", args=[ana.pk])}#overview"' in html
    assert f'name="reapply_version" value="{before[0]}"' in html


@pytest.mark.django_db
def test_a_conflict_names_the_other_edit_not_the_operators_own_change_after_it(
    editor_client, editor, ana
):
    """Someone else changed the city, then the operator added a tag on the page: the stale
    save is refused, and the conflict names the city change, not the operator's own tag."""
    opened_at = ana.version
    other = Actor("OPERATOR", "maria.support", "UI")
    services.person_set_fields(person=ana, actor=other, fields={"city": "Rijeka"})
    added = editor_client.post(
        reverse("people:tags_add", args=[ana.pk]), {"name": "gold", "version": opened_at}, **HTMX
    )
    assert added.status_code == 200
    assert ana.events.first().actor_user_id == editor.pk

    response = editor_client.post(
        reverse("people:overview", args=[ana.pk]),
        overview_post(ana, opened_at, firstName="Anita", city="Zagreb"),
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert '<strong data-testid="conflict-actor">maria.support</strong>' in html
    assert "City: Zagreb → Rijeka" in html
    assert Person.objects.get(pk=ana.pk).city == "Rijeka"


@pytest.mark.django_db
def test_a_conflict_with_only_the_operators_own_edits_names_the_newest(editor_client, editor, ana):
    """The same operator saved from another tab: that save is the one named."""
    opened_at = ana.version
    url = reverse("people:overview", args=[ana.pk])
    other_tab = editor_client.post(url, overview_post(ana, opened_at, city="Split"), **HTMX)
    assert other_tab.status_code == 200

    response = editor_client.post(url, overview_post(ana, opened_at, city="Pula"), **HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert f'<strong data-testid="conflict-actor">{editor.username}</strong>' in html
    assert "City: Zagreb → Split" in html


@pytest.mark.django_db
def test_saving_the_typed_values_over_the_latest_version_applies_them(editor_client, ana):
    opened_at = ana.version
    services.person_set_fields(person=ana, actor=Actor.system("crm"), fields={"lastName": "Kovač"})
    latest = Person.objects.get(pk=ana.pk).version

    data = overview_post(ana, opened_at, firstName="Anita", lastName="Kovač")
    data["reapply_version"] = latest
    response = editor_client.post(reverse("people:overview", args=[ana.pk]), data, **HTMX)

    assert response.status_code == 200, response.content.decode()
    ana.refresh_from_db()
    assert (ana.first_name, ana.last_name, ana.version) == ("Anita", "Kovač", latest + 1)


@pytest.mark.django_db
def test_reapplying_over_a_version_that_changed_again_is_refused_again(editor_client, ana):
    opened_at = ana.version
    services.person_set_fields(person=ana, actor=Actor.system("crm"), fields={"city": "Split"})
    offered = Person.objects.get(pk=ana.pk).version
    services.person_set_fields(person=ana, actor=Actor.system("crm"), fields={"city": "Pula"})

    data = overview_post(ana, opened_at, firstName="Anita")
    data["reapply_version"] = offered
    response = editor_client.post(reverse("people:overview", args=[ana.pk]), data, **HTMX)

    assert response.status_code == 422
    ana.refresh_from_db()
    assert (ana.first_name, ana.city) == ("Ana", "Pula")


@pytest.mark.django_db
def test_without_htmx_a_stale_edit_shows_the_page_with_the_typed_values(editor_client, ana):
    opened_at = ana.version
    services.person_set_fields(person=ana, actor=Actor.system("crm"), fields={"city": "Split"})

    response = editor_client.post(
        reverse("people:overview", args=[ana.pk]), overview_post(ana, opened_at, firstName="Anita")
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="edit-conflict"' in html and 'value="Anita"' in html
    # The form stays open (not the read view), and its reload link opens it again.
    assert re.search(r'<section id="overview"[^>]* class="[^"]*is-editing', html)
    assert f'href="/person/{ana.pk}/?edit=overview#overview" data-testid="reload-latest"' in html
    ana.refresh_from_db()
    assert ana.first_name == "Ana"


@pytest.mark.django_db
def test_adding_a_tag_from_an_outdated_page_keeps_the_newer_edit(editor_client, ana):
    # The page was opened at this version; someone else edits; the tag still goes on, and
    # the other edit stays: a tag write changes only the tags.
    services.person_set_fields(person=ana, actor=Actor.system("crm"), fields={"city": "Split"})

    response = editor_client.post(
        reverse("people:tags_add", args=[ana.pk]), {"name": "vip"}, **HTMX
    )

    assert response.status_code == 200
    ana.refresh_from_db()
    assert ana.city == "Split"
    assert list(ana.tags.values_list("name", flat=True)) == ["vip"]


# ---------------------------------------------------------------------------------------------
# Writes of one part: their own transaction and row locks (PostgreSQL)


def run_together(calls: list[Callable[[], object]]) -> list[BaseException]:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def work(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            call()
        except BaseException as error:  # noqa: BLE001 - every error is a test failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


@pytest.fixture
def require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and concurrent transactions")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_tags_added_at_once_by_many_writers_are_all_kept(require_postgresql):
    person = services.person_create(actor=Actor.system("t"), fields={"firstName": "Ana"})
    names = [f"tag-{n}" for n in range(16)]

    errors = run_together(
        [
            lambda name=name: services.person_add_tags(
                person=person.pk, actor=Actor.system(name), names=[name]
            )
            for name in names
        ]
    )

    assert errors == []
    assert sorted(person.tags.values_list("name", flat=True)) == sorted(names)
    assert Event.objects.filter(person=person, kind="TAGS_CHANGED").count() == 16
    person.refresh_from_db()
    assert person.version == 1 + 16


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_different_attributes_set_at_once_are_all_kept(require_postgresql):
    person = services.person_create(actor=Actor.system("t"), fields={"firstName": "Ana"})
    names = [f"Score{n}" for n in range(12)]
    for name in names:
        AttributeDefinition.objects.create(name=name, data_type=DataType.INTEGER)

    errors = run_together(
        [
            lambda name=name, value=index: services.person_set_custom_attributes(
                person=person.pk, actor=Actor.system("t"), values={name: value}
            )
            for index, name in enumerate(names)
        ]
    )

    assert errors == []
    values = custom_attribute_values(Person.objects.get(pk=person.pk))
    assert values == {name: index for index, name in enumerate(names)}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_tag_added_during_a_whole_profile_edit_is_not_lost(require_postgresql):
    person = services.person_create(
        actor=Actor.system("t"), fields={"firstName": "Ana"}, tags=["old"]
    )
    calls = [
        lambda: services.person_set_fields(
            person=person.pk, actor=Actor.system("form"), fields={"city": "Split"}
        ),
        lambda: services.person_add_tags(
            person=person.pk, actor=Actor.system("tag"), names=["new"]
        ),
    ] * 4

    errors = run_together(calls)

    assert errors == []
    person.refresh_from_db()
    assert person.city == "Split"
    assert sorted(person.tags.values_list("name", flat=True)) == ["new", "old"]


def _locks_person(queries: list[dict], person: Person) -> bool:
    table = Person._meta.db_table
    return any(
        "FOR UPDATE" in q["sql"] and f'FROM "{table}"' in q["sql"] and str(person.pk) in q["sql"]
        for q in queries
    )


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("write", ["add a tag", "set one attribute", "set primary"])
def test_a_write_of_one_part_locks_the_person_row_first(require_postgresql, system_actor, write):
    person = services.person_create(actor=system_actor, fields={"firstName": "Ana"})
    AttributeDefinition.objects.create(name="Score", data_type=DataType.INTEGER)
    installation = InstallationFactory(person=person, application=ApplicationFactory())
    calls = {
        "add a tag": lambda: services.person_add_tags(
            person=person.pk, actor=system_actor, names=["vip"]
        ),
        "set one attribute": lambda: services.person_set_custom_attributes(
            person=person.pk, actor=system_actor, values={"Score": 3}
        ),
        "set primary": lambda: installation_services.installation_set_primary(
            installation=installation.push_registration_id, actor=system_actor
        ),
    }

    with CaptureQueriesContext(connection) as captured:
        calls[write]()

    assert _locks_person(captured.captured_queries, person)
    assert Event.objects.filter(person=person).count() == 2
    assert Installation.objects.filter(person=person, is_primary=True).count() == (
        1 if write == "set primary" else 0
    )
