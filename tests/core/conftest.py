from dataclasses import dataclass

import pytest
from django.apps import apps

from installations.models import Installation
from people import services
from people.history import Actor
from people.models import AttributeDefinition, Person
from portal.models import ApiKey
from tests.factories import InstallationFactory

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


@pytest.fixture
def world(db, application) -> World:
    actor = Actor.system("tests")
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
    return World(person, first, second, used, unused, read_key, manage_key)
