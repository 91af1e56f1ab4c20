"""Test data through the model layer (factories) and through the services (helpers below)."""

import factory

from installations.models import Application, Installation
from people.models import AttributeDefinition, DataType, Person, PersonType


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    type = PersonType.CUSTOMER
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def index_names(obj, create, extracted, **kwargs):
        from people.fields import search_names

        obj.search_name, obj.search_name_reversed = search_names(obj.first_name, obj.last_name)
        if create:
            obj.save(update_fields=["search_name", "search_name_reversed"])


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"App {n}")
    code = factory.Sequence(lambda n: f"app-code-{n:04d}")


class InstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Installation

    push_registration_id = factory.Faker("uuid4")
    application = factory.SubFactory(ApplicationFactory)
    person = factory.SubFactory(PersonFactory, type=PersonType.LEAD, first_name="", last_name="")
    os = "Android"
    os_version = "14"
    device_manufacturer = "Google"
    device_model = "Pixel 8"
    sdk_version = "12.4.0"
    app_version = "3.2.1"


class DefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeDefinition

    name = factory.Sequence(lambda n: f"Attribute{n}")
    data_type = DataType.STRING
