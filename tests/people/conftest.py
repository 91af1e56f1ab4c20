import pytest

from people import services
from people.models import AttributeDefinition


@pytest.fixture
def define(db):
    """Define a person custom attribute through the service, as an administrator would."""

    def _define(name: str, data_type: str, object_schema: dict | None = None):
        return services.attribute_definition_create(
            name=name, data_type=data_type, object_schema=object_schema
        )

    return _define


@pytest.fixture
def every_type(define) -> dict[str, AttributeDefinition]:
    """One definition of each of the seven data types."""
    return {
        "STRING": define("Favourite store", "STRING"),
        "INTEGER": define("Loyalty points", "INTEGER"),
        "DECIMAL": define("Lifetime value", "DECIMAL"),
        "BOOLEAN": define("Newsletter opt-in", "BOOLEAN"),
        "DATE": define("Contract expiry", "DATE"),
        "DATE_TIME": define("Last purchase", "DATE_TIME"),
        "LIST_OF_OBJECTS": define(
            "Shopping cart",
            "LIST_OF_OBJECTS",
            {"productName": "STRING", "productPrice": "DECIMAL", "quantity": "INTEGER"},
        ),
    }
