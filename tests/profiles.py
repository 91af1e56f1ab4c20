"""The operator UI tests' profile: a person with contact data, devices, tags and values (its
fixtures are in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from installations.models import Application, Installation
from people import services
from people.history import Actor
from people.models import AttributeDefinition, DataType, Person
from tests.factories import ApplicationFactory, InstallationFactory


@dataclass
class Profile:
    person: Person
    primary: Installation
    second: Installation
    app: Application
    definitions: dict[str, AttributeDefinition]


def define_attributes() -> dict[str, AttributeDefinition]:
    specs = {
        "Nickname": (DataType.STRING, None),
        "Visits": (DataType.INTEGER, None),
        "Balance": (DataType.DECIMAL, None),
        "Newsletter": (DataType.BOOLEAN, None),
        "Anniversary": (DataType.DATE, None),
        "LastSeen": (DataType.DATE_TIME, None),
        "Orders": (
            DataType.LIST_OF_OBJECTS,
            {"sku": "STRING", "qty": "INTEGER", "paid": "BOOLEAN"},
        ),
    }
    return {
        name: services.attribute_definition_create(
            name=name, data_type=data_type, object_schema=schema
        )
        for name, (data_type, schema) in specs.items()
    }


def make_profile(actor: Actor) -> Profile:
    definitions = define_attributes()
    app = ApplicationFactory(name="Shop Android", code="shop-android")
    person = services.person_create(
        actor=actor,
        fields={"firstName": "Ana", "lastName": "Horvat", "externalId": "crm-42", "city": "Zagreb"},
        phones=["+385 1 6419-710"],
        emails=["Ana.Horvat@Example.com"],
        tags=["vip", "newsletter"],
        custom_attributes={"Nickname": "Annie", "Balance": Decimal("12.50")},
    )
    primary = InstallationFactory(
        person=person,
        application=app,
        push_registration_id="push-ana-phone",
        is_primary=True,
        os="Android",
        device_model="Pixel 8",
        additional_data={"tier": "gold"},
    )
    second = InstallationFactory(
        person=person,
        application=app,
        push_registration_id="push-ana-tablet",
        os="iOS",
        device_manufacturer="Apple",
        device_model="iPad Air",
    )
    return Profile(person, primary, second, app, definitions)


HTMX = {"HTTP_HX_REQUEST": "true"}
