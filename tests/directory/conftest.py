"""Shared data of the directory tests: two people with every kind of data, to merge."""

from decimal import Decimal

import pytest

from installations import services as installation_services
from people import services
from people.models import DataType
from tests.factories import DefinitionFactory, InstallationFactory


@pytest.fixture
def pair(operator_actor):
    """Two people with every kind of data: fields, identities, tags, typed custom attributes,
    installations (each with a primary), history."""
    age = DefinitionFactory(name="Age", data_type=DataType.INTEGER)
    score = DefinitionFactory(name="Score", data_type=DataType.DECIMAL)
    nick = DefinitionFactory(name="Nick", data_type=DataType.STRING)
    DefinitionFactory(name="Vip", data_type=DataType.BOOLEAN)
    survivor = services.person_create(
        actor=operator_actor,
        fields={"firstName": "Ana", "lastName": "Horvat", "city": "Zagreb", "type": "LEAD"},
        phones=["+385 91 111 1111"],
        emails=["ana@example.com"],
        tags=["vip", "newsletter"],
        custom_attributes={"Age": 30, "Nick": "ana"},
    )
    other = services.person_create(
        actor=operator_actor,
        fields={
            "externalId": "ext-2",
            "firstName": "Anna",
            "lastName": "Horvat",
            "city": "",
            "country": "Croatia",
            "birthDate": "1990-04-01",
            "type": "CUSTOMER",
        },
        phones=["+385 91 222 2222"],
        emails=["anna@example.org"],
        tags=["newsletter", "beta"],
        custom_attributes={"Age": 31, "Score": Decimal("12.50"), "Vip": True},
    )
    mine = [InstallationFactory(person=survivor) for _ in range(2)]
    theirs = [InstallationFactory(person=other) for _ in range(3)]
    installation_services.installation_set_primary(installation=mine[0], actor=operator_actor)
    installation_services.installation_set_primary(installation=theirs[1], actor=operator_actor)
    assert {d.name for d in (age, score, nick)} == {"Age", "Score", "Nick"}
    survivor.refresh_from_db()
    other.refresh_from_db()
    return survivor, other, mine, theirs
