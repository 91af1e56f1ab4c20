"""The project is clean for Django's checks, and the demo data keeps every rule."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count, Q

from installations.models import Installation
from people.apply import custom_attribute_values
from people.custom_attributes import MAX_STRING_LENGTH
from people.identities import normalize_email, normalize_phone
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    DataType,
    Event,
    Person,
    PersonType,
    Tag,
)

pytestmark = pytest.mark.django_db


def test_django_system_checks_are_clean():
    out = StringIO()
    call_command("check", stdout=out, stderr=out)
    assert "no issues" in out.getvalue()


def test_the_models_have_no_migration_missing():
    out = StringIO()
    # Exits with status 1 (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Person,
            ContactIdentity,
            Installation,
            Tag,
            AttributeDefinition,
            AttributeValue,
            Event,
            User,
        )
    }


def test_seed_demo_runs_twice_without_duplicating_and_its_data_keeps_the_rules():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    call_command("seed_demo", stdout=out)
    assert counts() == first, "a second run adds nothing"
    assert "demo-portal" in out.getvalue(), "the demo login is printed"
    assert User.objects.filter(username="demo").count() == 1

    assert 150 <= first["Person"] <= 250
    assert first["Installation"] > 100

    # At most one primary installation per person, and one where a person has several.
    per_person = Person.objects.annotate(
        devices=Count("installations"),
        primaries=Count("installations", filter=Q(installations__is_primary=True)),
    )
    assert not per_person.filter(primaries__gt=1).exists()
    assert per_person.filter(devices__gt=1).exists()
    assert not per_person.filter(devices__gt=1, primaries=0).exists()

    # Identities are stored normalized, unique, and valid.
    for kind, value in ContactIdentity.objects.values_list("kind", "value"):
        normalize = normalize_phone if kind == "PHONE" else normalize_email
        assert normalize(value) == value
    phones = ContactIdentity.objects.filter(kind="PHONE")
    assert phones.values("value").distinct().count() == phones.count()
    regions = {value[:2] for value in phones.values_list("value", flat=True)}
    assert len(regions) >= 4, "phones from several countries"
    assert not Person.objects.filter(external_id__iexact="null").exists()
    assert Person.objects.filter(external_id__isnull=False).exists()

    # Leads and customers; anonymous profiles are leads with a device.
    assert set(Person.objects.values_list("type", flat=True)) == set(PersonType.values)
    anonymous = Person.objects.filter(external_id__isnull=True, identities__isnull=True)
    assert anonymous.exists()
    assert not anonymous.exclude(type=PersonType.LEAD).exists()
    assert not anonymous.filter(installations__isnull=True).exists()

    # One definition of each type, and values that read back through their type.
    assert set(AttributeDefinition.objects.values_list("data_type", flat=True)) == set(
        DataType.values
    )
    for person in Person.objects.filter(attribute_values__isnull=False).distinct()[:20]:
        values = custom_attribute_values(person)
        assert values
        assert all(not isinstance(v, str) or len(v) <= MAX_STRING_LENGTH for v in values.values())

    # Every person has a history, and every installation an Install event somewhere.
    assert not Person.objects.filter(events__isnull=True).exists()
    assert Event.objects.filter(kind="INSTALL").count() == first["Installation"]
    assert Installation.objects.exclude(additional_data={}).exists()
    assert Tag.objects.filter(people__isnull=False).exists()
