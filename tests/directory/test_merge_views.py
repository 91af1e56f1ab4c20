"""The merge screen: both people side by side with the defaults, the merge with the choices
made, the message's Undo and the history row's, roles, and a stale screen refused."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from installations.models import Installation
from people import services
from people.models import Event, EventKind, Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def merge_url(survivor, other) -> str:
    return reverse("people:merge", args=[survivor.pk, other.pk])


def checked(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input [^>]*>", html):
        if f'name="{name}"' in tag and " checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def test_the_route_is_the_one_duplicates_link_to(pair):
    survivor, other, _, _ = pair
    assert merge_url(survivor, other) == f"/person/{survivor.pk}/merge/{other.pk}"


def test_the_screen_shows_both_with_the_defaults(pair, editor_client):
    survivor, other, _, theirs = pair
    with CaptureQueriesContext(connection) as queries:
        response = editor_client.get(merge_url(survivor, other))
    assert response.status_code == 200
    # The session, the operator and the role's permissions (two), both people in one
    # statement, their identities, attribute values, installations and tags (one each), and
    # the session saved (transaction savepoints aside).
    statements = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 10
    html = response.content.decode()
    # Differing fields have a choice, the newer non-empty value preselected.
    assert checked(html, "field-firstName") == "other"
    assert checked(html, "field-city") == "survivor"  # the other's is empty
    assert checked(html, "field-type") == "other"  # a customer over a lead
    assert checked(html, "field-externalId") == "other"
    assert checked(html, "field-lastName") is None  # the same: nothing to choose
    assert checked(html, "attribute-Age") == "other"
    assert checked(html, "attribute-Nick") == "survivor"
    assert checked(html, "primary") == theirs[1].push_registration_id
    assert "beta, newsletter, vip" in html


def test_an_editor_merges_with_choices_and_undoes(pair, editor_client):
    survivor, other, mine, _ = pair
    response = editor_client.post(
        merge_url(survivor, other),
        {
            "survivor_version": survivor.version,
            "other_version": other.version,
            "field-firstName": "survivor",
            "field-city": "other",
            "attribute-Age": "survivor",
            "primary": mine[1].push_registration_id,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("people:detail", args=[survivor.pk])
    person = Person.objects.get(pk=survivor.pk)
    assert person.first_name == "Ana"
    assert person.city == ""
    assert person.attribute_values.get(definition__name="Age").value_number == 30
    assert Installation.objects.get(person=person, is_primary=True) == mine[1]
    assert not Person.objects.filter(pk=other.pk).exists()
    html = response.content.decode()
    event = Event.objects.get(person=person, kind=EventKind.MERGE)
    undo = reverse("people:merge_undo", args=[survivor.pk, event.pk])
    assert f'action="{undo}"' in html  # the message's Undo button
    assert 'data-testid="history-merge-undo"' in html  # and the history row's
    response = editor_client.post(undo, follow=True)
    assert "Merge undone" in response.content.decode()
    assert Person.objects.filter(pk=other.pk).exists()
    assert Person.objects.get(pk=survivor.pk).first_name == "Ana"


def test_a_stale_screen_is_refused(pair, editor_client, operator_actor):
    survivor, other, _, _ = pair
    services.person_set_fields(person=other.pk, actor=operator_actor, fields={"city": "Pula"})
    response = editor_client.post(
        merge_url(survivor, other),
        {"survivor_version": survivor.version, "other_version": other.version},
    )
    assert response.status_code == 409
    assert 'data-testid="merge-error"' in response.content.decode()
    assert Person.objects.filter(pk=other.pk).exists()


def test_an_undo_after_a_change_shows_the_conflicts(pair, editor_client, operator_actor):
    survivor, other, _, _ = pair
    editor_client.post(merge_url(survivor, other), {})
    event = Event.objects.get(person_id=survivor.pk, kind=EventKind.MERGE)
    services.person_set_fields(person=survivor.pk, actor=operator_actor, fields={"city": "Pula"})
    response = editor_client.post(
        reverse("people:merge_undo", args=[survivor.pk, event.pk]), follow=True
    )
    html = response.content.decode()
    assert "cannot be undone" in html
    assert "city changed" in html
    assert not Person.objects.filter(pk=other.pk).exists()


def test_viewers_cannot_merge_or_undo(pair, viewer_client, operator_actor):
    survivor, other, _, _ = pair
    assert viewer_client.get(merge_url(survivor, other)).status_code == 403
    assert viewer_client.post(merge_url(survivor, other), {}).status_code == 403
    from directory.merge import merge

    made = merge(survivor_id=survivor.pk, other_id=other.pk, choices=None, actor=operator_actor)
    undo = reverse("people:merge_undo", args=[survivor.pk, made.event.pk])
    assert viewer_client.post(undo).status_code == 403
    assert not Person.objects.filter(pk=other.pk).exists()


def test_unknown_people_and_self_merges_are_404(editor_client):
    person = PersonFactory()
    assert editor_client.get(f"/person/{person.pk}/merge/{person.pk}").status_code == 404
    assert editor_client.get(f"/person/{person.pk}/merge/{person.pk + 999}").status_code == 404
