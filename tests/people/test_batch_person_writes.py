"""The people of a batch are written as bulk_create wrote them (people.batches: on PostgreSQL
an INSERT and an UPDATE from one array per column): each answer is the person stored for
its item, in item order, and an update writes the changed columns only, one statement for
the whole batch."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.batches import person_create_batch, person_update_batch
from people.fields import search_names
from people.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_created_people_are_answered_in_item_order_with_their_stored_rows(system_actor):
    items = [
        {"fields": {"externalId": f"w-{n}", "firstName": f"Ána{n}", "lastName": "Kovač"}}
        for n in range(5)
    ]
    people = person_create_batch(actor=system_actor, items=items)
    for n, person in enumerate(people):
        stored = Person.objects.get(pk=person.pk)
        assert (stored.external_id, stored.first_name) == (f"w-{n}", f"Ána{n}")
        assert (stored.search_name, stored.search_name_reversed) == search_names(f"Ána{n}", "Kovač")
        assert stored.created_at == person.created_at and stored.modified_at is not None
        assert stored.version == 1 and list(stored.tag_ids) == []


def test_an_update_writes_the_changed_columns_of_every_person_in_one_statement(system_actor):
    people = [PersonFactory(first_name=f"Old{n}", city="Split") for n in range(30)]
    before = {p.pk: (p.version, p.modified_at) for p in people}
    items = [(p.pk, {"fields": {"firstName": f"New{n}"}}) for n, p in enumerate(people)]
    with CaptureQueriesContext(connection) as queries:
        answers = person_update_batch(actor=system_actor, items=items)
    assert answers == [True] * 30
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and '"people_person"' in q["sql"][:40]
    ]
    assert len(writes) == 1
    if connection.vendor == "postgresql":
        # One UPDATE from arrays of the changed columns (elsewhere an upsert of whole rows).
        assert writes[0].startswith("UPDATE") and '"city"' not in writes[0]
    for n, p in enumerate(people):
        stored = Person.objects.get(pk=p.pk)
        assert stored.first_name == f"New{n}" and stored.city == "Split"
        assert stored.search_name == search_names(f"New{n}", stored.last_name)[0]
        assert stored.version == before[p.pk][0] + 1
        assert stored.modified_at > before[p.pk][1]
