"""The history's Revert button: Editors see it on revertible rows, Viewers neither see it nor
may POST; the answer updates the history and the sections the revert changed, or shows the
conflict without changing anything."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from installations import services as installation_services
from people import services
from people.models import Event, EventKind
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def newest(person) -> Event:
    return person.events.order_by("-id").first()


def revert_url(event: Event) -> str:
    return reverse("people:event_revert", args=[event.person_id, event.pk])


def revert_buttons(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-dialog-open="revert-dialog-(\d+)"', html)}


def test_an_editor_sees_revert_on_revertible_rows_only(profile, editor_client, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    tag_event = newest(person)
    created = person.events.get(kind=EventKind.PERSON_CREATED)
    html = editor_client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert tag_event.pk in revert_buttons(html)
    assert created.pk not in revert_buttons(html)
    # The confirmation says what the revert restores.
    dialog = html[html.index(f'id="revert-dialog-{tag_event.pk}"') :]
    assert "Removed tag gold" in dialog[: dialog.index("</dialog>")]


def test_the_history_pages_of_an_editor_carry_the_button(profile, editor_client, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    url = reverse("people:history", args=[person.pk])
    html = editor_client.get(url, {"kind": EventKind.TAGS_CHANGED}, **HTMX).content.decode()
    assert newest(person).pk in revert_buttons(html)


def test_a_viewer_sees_no_button_and_may_not_revert(profile, viewer_client, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    event = newest(person)
    html = viewer_client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert not revert_buttons(html)
    assert viewer_client.post(revert_url(event), **HTMX).status_code == 403
    assert "gold" in {t.name for t in person.tags.all()}
    assert newest(person).pk == event.pk


def test_reverting_a_tag_answers_the_tags_history_and_header(
    profile, editor_client, operator_actor
):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    event = newest(person)
    with CaptureQueriesContext(connection) as queries:
        response = editor_client.post(revert_url(event), **HTMX)
    assert response.status_code == 200, response.content[:400]
    html = response.content.decode()
    recorded = newest(person)
    assert recorded.reverts_id == event.pk
    assert "gold" not in {t.name for t in person.tags.all()}
    # The history is the answer, with the result read out; the tags and header out of band.
    assert html.lstrip().startswith('<section id="history"')
    assert 'data-testid="revert-result"' in html and "Reverted: Removed tag gold." in html
    assert 'id="tags" class="tags" hx-swap-oob="true"' in html
    assert 'id="person-header" class="person-header" hx-swap-oob="true"' in html
    assert 'id="identities"' not in html
    # The new row can be reverted in turn.
    assert recorded.pk in revert_buttons(html)
    expected = REVERT_TAG_STATEMENTS + (0 if connection.vendor == "postgresql" else 6)
    assert len(queries) == expected, [q["sql"] for q in queries]


# The session, the user and its two permission reads (4); the event of this person (1); the
# revert, 14 with its savepoints: the event, the person locked and its tags, then
# person_update's own lock and read of the tags, the tag removed, the person saved, the
# event recorded; the person page's read model (1; on SQLite 7, one per part); the session
# saved (3, with a savepoint).
REVERT_TAG_STATEMENTS = 23


def test_reverting_basic_information_answers_the_overview(profile, editor_client, operator_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Split"})
    response = editor_client.post(revert_url(newest(person)), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#overview"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="overview"')
    assert '<section id="history" class="section card" aria-labelledby="history-title"' in html
    assert 'hx-swap-oob="true">' in html
    assert "Zagreb" in html
    person.refresh_from_db()
    assert person.city == "Zagreb"


def test_reverting_push_answers_the_installation_cards(profile, editor_client, operator_actor):
    installation_services.installation_set_push_enabled(
        installation=profile.primary, actor=operator_actor, enabled=False
    )
    response = editor_client.post(revert_url(newest(profile.person)), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="cards" id="installation-cards" hx-swap-oob="true">' in html
    assert "Turn push off" in html
    profile.primary.refresh_from_db()
    assert profile.primary.registration_enabled is True


def test_a_conflict_is_shown_in_place_and_nothing_changes(profile, editor_client, operator_actor):
    person = profile.person
    services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Split"})
    event = newest(person)
    services.person_set_fields(person=person, actor=operator_actor, fields={"city": "Rijeka"})
    count = person.events.count()
    response = editor_client.post(revert_url(event), **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-testid="revert-conflict"' in html
    row = re.search(r"<tr><th scope=\"row\">City</th><td>(.*?)</td><td>(.*?)</td></tr>", html)
    assert row is not None and row.groups() == ("Rijeka", "Zagreb")
    assert "hx-swap-oob" not in html.split('<section id="history"', 1)[0]
    assert person.events.count() == count
    person.refresh_from_db()
    assert person.city == "Rijeka"


def test_a_phone_owned_by_another_person_names_the_owner(profile, editor_client, operator_actor):
    person = profile.person
    services.person_remove_phone(person=person, actor=operator_actor, number="38516419710")
    event = newest(person)
    other = services.person_create(actor=operator_actor, phones=["38516419710"])
    html = editor_client.post(revert_url(event), **HTMX).content.decode()
    assert f"Belongs to person {other.pk}" in html
    assert "+385 1 6419 710" in html


def test_a_kind_without_a_revert_is_refused_in_place(profile, editor_client):
    created = profile.person.events.get(kind=EventKind.PERSON_CREATED)
    response = editor_client.post(revert_url(created), **HTMX)
    assert response.status_code == 422
    assert 'data-testid="revert-error"' in response.content.decode()


def test_an_event_of_another_person_is_not_found(profile, editor_client, operator_actor):
    other = services.person_create(actor=operator_actor, fields={"city": "Osijek"})
    services.person_set_fields(person=other, actor=operator_actor, fields={"city": "Pula"})
    url = reverse("people:event_revert", args=[profile.person.pk, newest(other).pk])
    assert editor_client.post(url, **HTMX).status_code == 404


def test_without_htmx_it_goes_back_to_the_history(profile, editor_client, operator_actor):
    person = profile.person
    services.person_add_tags(person=person, actor=operator_actor, names=["gold"])
    response = editor_client.post(revert_url(newest(person)))
    assert response.status_code == 302
    assert response["Location"] == reverse("people:detail", args=[person.pk]) + "#history"
    assert "gold" not in {t.name for t in person.tags.all()}
