import pytest

from installations.models import Installation
from people import services
from people.history import Actor
from people.models import Person
from tests.factories import InstallationFactory


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def ana(db) -> Person:
    """A customer with a phone, an email, an externalId and two installations."""
    person = services.person_create(
        actor=Actor.system("tests"),
        fields={"firstName": "Ana", "lastName": "Kovačić", "externalId": "crm-1001"},
        phones=["+385 1 6419 710"],
        emails=["Ana.Kovacic@Example.com"],
    )
    InstallationFactory(person=person, push_registration_id="push-ana-phone", is_primary=True)
    InstallationFactory(person=person, push_registration_id="push-ana-tablet", os="iOS")
    return person


def installation(push_registration_id: str) -> Installation:
    return Installation.objects.get(push_registration_id=push_registration_id)
