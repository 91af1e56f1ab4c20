import pytest
from django.core.management import call_command

from installations.models import Installation
from people.history import Actor
from people.models import Source
from tests.factories import ApplicationFactory


@pytest.fixture
def generated(db):
    """A small generated data set (PostgreSQL: the generator loads with COPY)."""
    call_command("generate_people", persons=400, seed=11, no_vacuum=True, stdout=None)
    return Installation.objects.count()


@pytest.fixture
def actor() -> Actor:
    return Actor.system("search tests", source=Source.COMMAND)


@pytest.fixture
def shop(db):
    return ApplicationFactory(name="Shop", code="shop")
