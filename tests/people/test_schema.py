"""The schema is what the models say: the migrations agree with them, every index they
declare is in the database, the triggers are installed, and a save through the ORM never
writes back the tag ids that the database keeps."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from people import services
from people.changes import merge_changes
from people.db_fields import PostgreSQLOnly
from people.history import Actor
from people.models import Person, Source
from tests.factories import PersonFactory

APPS = ("people", "installations")


def declared_indexes() -> dict[str, object]:
    return {
        index.name: index
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        for index in model._meta.indexes
    }


def database_indexes() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name
            for model in (m for label in APPS for m in apps.get_app_config(label).get_models())
            for name, info in connection.introspection.get_constraints(
                cursor, model._meta.db_table
            ).items()
            if info["index"]
        }


@pytest.mark.django_db
def test_the_migrations_say_what_the_models_say():
    out = StringIO()
    call_command("makemigrations", *APPS, check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_every_declared_index_is_in_the_database():
    declared = declared_indexes()
    expected = {
        name
        for name, index in declared.items()
        if connection.vendor == "postgresql" or not isinstance(index, PostgreSQLOnly)
    }
    assert expected - database_indexes() == set()
    if connection.vendor != "postgresql":
        assert {n for n, i in declared.items() if isinstance(i, PostgreSQLOnly)}.isdisjoint(
            database_indexes()
        )


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_declared_triggers_are_installed_and_nothing_else():
    triggers = [
        (trigger, model)
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        for trigger in getattr(model._meta, "triggers", [])
    ]
    declared = {trigger.get_pgid(model) for trigger, model in triggers}
    assert len(declared) == 6
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text"
            " IN ('people_person', 'people_person_tags')"
        )
        installed = {row[0] for row in cursor.fetchall()}
    assert installed == declared
    statuses = {trigger.get_installation_status(model) for trigger, model in triggers}
    assert statuses == {("INSTALLED", True)}


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_saving_a_person_read_before_a_tag_change_keeps_the_new_tag_ids():
    actor = Actor.system("schema tests", source=Source.COMMAND)
    gold = services.tag_create(name="Gold")
    person = PersonFactory()
    read_before = Person.objects.get(pk=person.pk)
    assert read_before.tag_ids == []

    Person.tags.through.objects.create(person=person, tag=gold)
    read_before.first_name = "Ana"
    read_before.save()

    assert Person.objects.get(pk=person.pk).tag_ids == [gold.pk]
    # The service reads the person, changes its tags, then saves the whole row.
    services.person_update(
        person=person.pk,
        actor=actor,
        changes=merge_changes(fields={"lastName": "Horvat"}, tags=["Silver"]),
    )
    person = Person.objects.get(pk=person.pk)
    assert person.tag_ids == sorted(person.tags.values_list("pk", flat=True))
    assert person.last_name == "Horvat"


@pytest.mark.django_db
def test_a_person_starts_with_no_tag_ids_on_every_database():
    person = PersonFactory()
    person.save()
    assert Person.objects.get(pk=person.pk).tag_ids == []
