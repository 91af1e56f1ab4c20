"""people_person.tag_ids: each person's tag ids, kept by the database from people_person_tags.

The search tests the tags of a person on the walked index's entry (search.HasTags), so a
person whose tag_ids missed a tag would be missing from the results, and one whose tag_ids
kept a removed tag would be listed. Whatever writes people_person_tags, the two agree.
PostgreSQL only (migration 0010).
"""

import threading

import psycopg
import pytest
from django.db import connection

from people import services
from people.changes import replace_changes
from people.history import Actor
from people.models import Person, Source, Tag
from tests.factories import PersonFactory

pytestmark = [pytest.mark.postgres_only]

Links = Person.tags.through


def stored_tag_ids(*people: Person) -> list[list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tag_ids FROM people_person WHERE id = ANY(%s) ORDER BY id",
            [[p.pk for p in people]],
        )
        return [row[0] for row in cursor.fetchall()]


def disagreements() -> int:
    """People whose tag_ids differ from their rows in people_person_tags."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM people_person AS p WHERE p.tag_ids <> COALESCE(("
            " SELECT array_agg(tag_id ORDER BY tag_id) FROM people_person_tags"
            " WHERE person_id = p.id), '{}')"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def actor() -> Actor:
    return Actor.system("tag ids tests", source=Source.COMMAND)


@pytest.fixture
def tags(db) -> list[Tag]:
    return [services.tag_create(name=name) for name in ("Gold", "Silver", "Bronze")]


@pytest.mark.django_db
def test_the_services_adding_and_removing_tags_keep_tag_ids(actor, tags):
    gold, silver, bronze = tags
    person = PersonFactory()
    assert stored_tag_ids(person) == [[]]

    services.person_add_tags(person=person, actor=actor, names=["Silver", "Gold"])
    assert stored_tag_ids(person) == [sorted([gold.pk, silver.pk])]

    services.person_remove_tags(person=person, actor=actor, names=["Gold"])
    assert stored_tag_ids(person) == [[silver.pk]]

    services.person_update(
        person=person,
        actor=actor,
        changes=replace_changes(fields=None, tags=["Bronze"], custom_attributes={}),
    )
    assert stored_tag_ids(person) == [[bronze.pk]]
    assert disagreements() == 0


@pytest.mark.django_db
def test_many_people_tagged_in_one_statement_and_untagged_in_one(tags):
    gold, silver, _ = tags
    people = PersonFactory.create_batch(30)
    Links.objects.bulk_create(
        [Links(person=p, tag=gold) for p in people]
        + [Links(person=p, tag=silver) for p in people[::3]]
    )
    assert stored_tag_ids(*people[:4]) == [
        sorted([gold.pk, silver.pk]),
        [gold.pk],
        [gold.pk],
        sorted([gold.pk, silver.pk]),
    ]
    assert disagreements() == 0

    Links.objects.filter(tag=gold, person__in=people[:10]).delete()
    assert stored_tag_ids(*people[:2], people[10]) == [[silver.pk], [], [gold.pk]]
    assert disagreements() == 0


@pytest.mark.django_db
def test_django_relation_set_and_clear_keep_tag_ids(tags):
    gold, silver, bronze = tags
    person = PersonFactory()
    person.tags.set([gold, bronze])
    assert stored_tag_ids(person) == [sorted([gold.pk, bronze.pk])]
    person.tags.set([silver, bronze])
    assert stored_tag_ids(person) == [sorted([silver.pk, bronze.pk])]
    person.tags.clear()
    assert stored_tag_ids(person) == [[]]


@pytest.mark.django_db
def test_a_link_moved_to_another_person_or_tag_moves_in_tag_ids(tags):
    gold, silver, _ = tags
    first, second = PersonFactory.create_batch(2)
    first.tags.add(gold)
    Links.objects.filter(person=first, tag=gold).update(person=second)
    assert stored_tag_ids(first, second) == [[], [gold.pk]]
    Links.objects.filter(person=second, tag=gold).update(tag=silver)
    assert stored_tag_ids(second) == [[silver.pk]]
    assert disagreements() == 0


@pytest.mark.django_db
def test_deleting_a_tag_takes_it_off_everyone(actor, tags):
    gold, silver, _ = tags
    people = PersonFactory.create_batch(5)
    for person in people:
        person.tags.add(gold, silver)
    services.tag_delete(tag=gold, actor=actor)
    assert stored_tag_ids(*people) == [[silver.pk]] * 5
    # Without the service: the database's cascade of a plain delete.
    silver.delete()
    assert stored_tag_ids(*people) == [[]] * 5
    assert disagreements() == 0


@pytest.mark.django_db
def test_deleting_a_tagged_person_leaves_the_others(tags):
    gold, *_ = tags
    gone, kept = PersonFactory.create_batch(2)
    gone.tags.add(gold)
    kept.tags.add(gold)
    gone.delete()
    assert stored_tag_ids(kept) == [[gold.pk]]
    assert disagreements() == 0


@pytest.mark.django_db
def test_truncating_the_links_empties_everyones_tag_ids(tags):
    """TRUNCATE fires no row events: migration 0011's statement trigger clears tag_ids."""
    gold, silver, _ = tags
    people = PersonFactory.create_batch(3)
    for person in people:
        person.tags.add(gold, silver)
    with connection.cursor() as cursor:
        # The links' deferred foreign key checks first: TRUNCATE refuses pending ones.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {Links._meta.db_table}")
    assert stored_tag_ids(*people) == [[]] * 3
    assert disagreements() == 0
    # Tags given afterwards are counted from empty again.
    people[0].tags.add(silver)
    assert stored_tag_ids(*people) == [[silver.pk], [], []]


@pytest.mark.django_db(transaction=True)
def test_two_transactions_tagging_one_person_both_count(tags):
    """The second waits for the first's lock on the person, then adds to the row as the first
    left it: recomputing from its own snapshot would drop the first's tag."""
    gold, silver, _ = tags
    person = PersonFactory()
    dsn = connection.get_connection_params()
    with psycopg.connect(**dsn) as first, psycopg.connect(**dsn) as second:
        first.execute(
            "INSERT INTO people_person_tags (person_id, tag_id) VALUES (%s, %s)",
            [person.pk, gold.pk],
        )  # open transaction: holds the person's row
        done = threading.Event()

        def tag_in_second() -> None:
            second.execute(
                "INSERT INTO people_person_tags (person_id, tag_id) VALUES (%s, %s)",
                [person.pk, silver.pk],
            )
            second.commit()
            done.set()

        worker = threading.Thread(target=tag_in_second)
        worker.start()
        assert not done.wait(0.5), "the second transaction should wait for the first"
        first.commit()
        worker.join(10)
        assert done.is_set()
    assert stored_tag_ids(person) == [sorted([gold.pk, silver.pk])]
    assert disagreements() == 0
