import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import transaction

from core import roles
from core.models import ApiKey
from installations.models import Installation
from people import services
from people.history import Actor
from people.models import AttributeDefinition, Person
from tests.conftest import make_operator
from tests.factories import ApplicationFactory, InstallationFactory

# Rows compared by "nothing changed": every table of the product and of the accounts.
SNAPSHOT_APPS = {"people", "installations", "portal", "auth"}
# Columns a read legitimately touches.
IGNORED_COLUMNS = {"last_used_at", "last_login"}


def snapshot() -> dict[str, list[dict]]:
    """Every row of every product table, to compare before and after a refused write."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in SNAPSHOT_APPS:
            continue
        rows = model.objects.order_by("pk").values()
        state[model._meta.label] = [
            {k: v for k, v in row.items() if k not in IGNORED_COLUMNS} for row in rows
        ]
    return state


@dataclass
class World:
    person: Person
    installation: Installation
    other_installation: Installation
    used_definition: AttributeDefinition
    unused_definition: AttributeDefinition
    read_key: str
    manage_key: str

    def value(self, name: str, kind: str, route: str):
        """A plausible value for a path parameter, chosen by its name and route."""
        lowered = name.lower()
        if "push" in lowered or "reg" in lowered:
            return self.installation.push_registration_id
        if "definition" in lowered:
            return self.used_definition.pk
        if lowered == "name":
            if "customattributes" in route.lower():
                return self.unused_definition.name
            return "VIP"
        if lowered in ("pk", "id", "object_id"):
            if "installation" in route:
                return self.installation.pk
            if "attributedefinition" in route:
                return self.unused_definition.pk
            if "apikey" in route:
                return ApiKey.objects.first().pk
            if "/user" in route:
                return 1
            return self.person.pk
        return None


def build_world() -> dict:
    """The rows of the world, made through the services; returns what finds them again."""
    actor = Actor.system("tests")
    application = ApplicationFactory(name="Shop", code="shop-app-code")
    used = services.attribute_definition_create(name="Age", data_type="INTEGER")
    unused = services.attribute_definition_create(name="Unused", data_type="STRING")
    person = services.person_create(
        actor=actor,
        fields={"firstName": "Ana", "lastName": "Kovac", "externalId": "crm-1001"},
        phones=["+385 1 6419 710"],
        emails=["ana@example.com"],
        tags=["VIP"],
        custom_attributes={"Age": 30},
    )
    first = InstallationFactory(
        person=person, application=application, push_registration_id="push-1", is_primary=True
    )
    second = InstallationFactory(
        person=person, application=application, push_registration_id="push-2"
    )
    _, read_key = ApiKey.issue(name="reader", role="read")
    _, manage_key = ApiKey.issue(name="manager", role="manage")
    operators = {
        role: make_operator(username, role).pk
        for role, username in (
            (roles.VIEWER, "vera.viewer"),
            (roles.EDITOR, "eddie.editor"),
            (roles.ADMINISTRATOR, "ada.admin"),
        )
    }
    return {
        "person": person.pk,
        "installation": first.pk,
        "other_installation": second.pk,
        "used_definition": used.pk,
        "unused_definition": unused.pk,
        "read_key": read_key,
        "manage_key": manage_key,
        "operators": operators,
    }


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """The world built once for the module, in a transaction rolled back after its last test.

    Each test runs inside it in a transaction of its own (pytest-django's ``db``: a savepoint
    here), rolled back after the test, so every test starts from the world as built.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            rows = build_world()
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield rows
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(request, db, shared_world) -> World:
    """The shared world's rows, read again for this test (its own transaction, rolled back)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction")
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        pytest.fail("the shared world needs the test's own transaction (db, not transactional_db)")
    return World(
        person=Person.objects.get(pk=shared_world["person"]),
        installation=Installation.objects.get(pk=shared_world["installation"]),
        other_installation=Installation.objects.get(pk=shared_world["other_installation"]),
        used_definition=AttributeDefinition.objects.get(pk=shared_world["used_definition"]),
        unused_definition=AttributeDefinition.objects.get(pk=shared_world["unused_definition"]),
        read_key=shared_world["read_key"],
        manage_key=shared_world["manage_key"],
    )


def world_operator(shared_world: dict, role: str) -> User:
    """One of the shared world's operators (the usernames of tests/conftest.py's fixtures)."""
    return User.objects.get(pk=shared_world["operators"][role])
