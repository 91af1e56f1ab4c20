"""The data generator: its rows keep every rule of DOMAIN.md (PostgreSQL, it loads with COPY)."""

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count, Q

from installations.models import Installation
from people import custom_attributes, services
from people.fields import search_names
from people.identities import normalize_external_id
from people.models import (
    AttributeValue,
    ContactIdentity,
    DataType,
    Event,
    IdentityKind,
    Person,
    Tag,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


def test_it_makes_about_the_asked_mix_of_rows(generated):
    people = Person.objects.count()
    assert people == 400
    assert 1.3 < Installation.objects.count() / people < 1.7
    phones = ContactIdentity.objects.filter(kind=IdentityKind.PHONE).count()
    emails = ContactIdentity.objects.filter(kind=IdentityKind.EMAIL).count()
    assert 1.0 < phones / people < 1.4 and 0.75 < emails / people < 1.05
    assert 0.6 < Person.objects.exclude(external_id=None).count() / people < 0.8
    with_values = AttributeValue.objects.values("person").distinct().count()
    assert 0.4 < with_values / people < 0.6
    used_types = set(AttributeValue.objects.values_list("definition__data_type", flat=True))
    assert used_types == set(DataType.values)
    assert Tag.objects.count() == 60
    assert set(Installation.objects.values_list("os", flat=True)) == {"Android", "iOS"}
    assert Installation.objects.values("application").distinct().count() >= 4
    assert Event.objects.filter(kind="INSTALL").count() == Installation.objects.count()


def test_tags_are_spread_unevenly(generated):
    counts = sorted(Tag.objects.annotate(n=Count("people")).values_list("n", flat=True))
    assert counts[-1] > 10 * max(counts[0], 1)


def test_each_persons_tag_ids_are_written_with_the_row(generated):
    """The person rows carry their tag ids (the search tests tags on them, migration 0010):
    equal to the person's rows in people_person_tags."""
    from tests.people.test_person_tag_ids import disagreements

    assert disagreements() == 0
    assert Person.objects.filter(tags__isnull=False).distinct().count() > 200


def test_every_phone_is_valid_e164_with_its_national_number(generated):
    for value, national in ContactIdentity.objects.filter(kind=IdentityKind.PHONE).values_list(
        "value", "national_number"
    ):
        number = phonenumbers.parse("+" + value)
        assert phonenumbers.is_valid_number(number), value
        assert str(phonenumbers.national_significant_number(number)) == national


def test_emails_are_valid_and_lower_cased(generated):
    for value in ContactIdentity.objects.filter(kind=IdentityKind.EMAIL).values_list(
        "value", flat=True
    ):
        validate_email(value)
        assert value == value.lower()


def test_names_are_folded_and_external_ids_are_real_values(generated):
    for person in Person.objects.all():
        assert (person.search_name, person.search_name_reversed) == search_names(
            person.first_name, person.last_name
        )
        if person.external_id is not None:
            assert normalize_external_id(person.external_id) == person.external_id


def test_anonymous_profiles_are_leads_with_a_device(generated):
    anonymous = Person.objects.filter(external_id=None, identities=None)
    assert anonymous.exists()
    assert not anonymous.filter(installations=None).exclude(first_name__gt="").exists()
    assert not anonymous.filter(first_name="", type="CUSTOMER").exists()


def test_at_most_one_primary_and_values_that_read_back_by_type(generated):
    assert not (
        Person.objects.annotate(p=Count("installations", filter=Q(installations__is_primary=True)))
        .filter(p__gt=1)
        .exists()
    )
    for row in AttributeValue.objects.select_related("definition")[:300]:
        value = custom_attributes.from_row(row.definition, row)
        assert value is not None
        custom_attributes.parse_value(row.definition, value)


def test_the_services_keep_working_after_a_load(generated, actor):
    person = services.person_create(
        actor=actor, fields={"firstName": "Ana"}, phones=["+385 91 000 0001"]
    )
    assert person.pk > Person.objects.exclude(pk=person.pk).order_by("-pk").first().pk
    with pytest.raises(ValidationError):
        validate_email("not-an-email")


def test_it_refuses_to_mix_with_existing_people_without_reset(generated):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("generate_people", persons=10, no_vacuum=True)
    call_command("generate_people", persons=10, reset=True, no_vacuum=True, stdout=None)
    assert Person.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_the_final_vacuum_waits_for_transactions_older_than_the_load():
    """A snapshot taken during the load (an automatic ANALYZE, say) would keep VACUUM from
    marking the last pages all-visible: the command waits for it to end first."""
    import io
    import threading
    import time

    import psycopg
    from django.db import connection
    from people.management.commands.generate_people import Command

    settings = connection.settings_dict
    dsn = {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "host": settings["HOST"],
        "port": settings["PORT"],
    }
    with (
        psycopg.connect(**dsn) as older,
        psycopg.connect(**dsn, autocommit=True) as waiter,
    ):
        older.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        older.execute("SELECT count(*) FROM people_person").fetchone()
        command = Command(stdout=io.StringIO())
        command.wait_for_older_snapshots(waiter.cursor(), timeout=0)
        assert "vacuuming while older transactions run" in command.stdout.getvalue()

        command = Command(stdout=io.StringIO())
        thread = threading.Thread(
            target=command.wait_for_older_snapshots, args=(waiter.cursor(),), daemon=True
        )
        thread.start()
        time.sleep(1)
        assert thread.is_alive()
        assert "waiting for older transactions to end" in command.stdout.getvalue()
        older.rollback()
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_after_a_load_index_only_scans_need_no_table_pages():
    from django.core.management import call_command
    from django.db import connection

    call_command("generate_people", persons=300, seed=3, reset=True, stdout=None)
    with connection.cursor() as cursor:
        # The load commits asynchronously; the connection serves on with durable commits.
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
        cursor.execute(
            "SELECT relname, relpages, relallvisible FROM pg_class WHERE relname IN "
            "('people_person', 'people_person_tags', 'people_contactidentity')"
        )
        rows = cursor.fetchall()
    assert len(rows) == 3
    for name, pages, visible in rows:
        assert pages > 0 and visible == pages, name
