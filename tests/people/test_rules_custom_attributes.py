"""Person custom attributes: definitions, each data type with its limits, and the round trip."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from core.errors import DomainError, ErrorCode
from people import custom_attributes, services
from people.apply import custom_attribute_values
from people.changes import attribute_definitions_named
from people.forms import attribute_value
from people.models import AttributeDefinition, AttributeValue, Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

MAX = 9223372036854775807
UTC = dt.UTC


def stored(person: Person) -> dict:
    """The custom attributes as read back from the database, with their Python types."""
    return custom_attribute_values(Person.objects.get(pk=person.pk))


def set_values(person, actor, values) -> Person:
    return services.person_set_custom_attributes(person=person, actor=actor, values=values)


def rejected(person, actor, values) -> DomainError:
    before = stored(person)
    with pytest.raises(DomainError) as caught:
        set_values(person, actor, values)
    assert stored(person) == before, "a rejected value must leave the stored ones alone"
    return caught.value


# --- Round trip: each type comes back with the type it went in with

ROUND_TRIPS = [
    ("Favourite store", "Zagreb Centar", "Zagreb Centar"),
    ("Favourite store", "", ""),
    ("Favourite store", "ü" * 4096, "ü" * 4096),
    ("Loyalty points", 0, 0),
    ("Loyalty points", MAX, MAX),
    ("Loyalty points", -42, -42),
    ("Lifetime value", Decimal("12.50"), Decimal("12.50")),
    ("Lifetime value", 0.1, Decimal("0.1")),
    ("Lifetime value", 7, Decimal("7")),
    ("Lifetime value", Decimal(MAX), Decimal(MAX)),
    ("Lifetime value", Decimal("0.00000000000000000001"), Decimal("0.00000000000000000001")),
    ("Newsletter opt-in", True, True),
    ("Newsletter opt-in", False, False),
    ("Contract expiry", "2027-03-15", dt.date(2027, 3, 15)),
    ("Last purchase", "2026-10-03T14:25:00Z", dt.datetime(2026, 10, 3, 14, 25, tzinfo=UTC)),
    ("Last purchase", "2026-10-03T14:25:00", dt.datetime(2026, 10, 3, 14, 25, tzinfo=UTC)),
    (
        "Last purchase",
        "2026-10-03T16:25:00+02:00",
        dt.datetime(2026, 10, 3, 14, 25, tzinfo=UTC),
    ),
    (
        "Shopping cart",
        [
            {"productName": "Sneakers", "productPrice": Decimal("25.30"), "quantity": 1},
            {"productName": "T-Shirt", "productPrice": 9.99, "quantity": 2},
        ],
        [
            {"productName": "Sneakers", "productPrice": Decimal("25.30"), "quantity": 1},
            {"productName": "T-Shirt", "productPrice": Decimal("9.99"), "quantity": 2},
        ],
    ),
    ("Shopping cart", [], []),
]


@pytest.mark.parametrize(("name", "given", "expected"), ROUND_TRIPS)
def test_a_value_comes_back_with_its_type(every_type, system_actor, name, given, expected):
    person = PersonFactory()
    set_values(person, system_actor, {name: given})
    value = stored(person)[name]
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, Decimal):
        assert str(value) == str(expected), "decimals are kept exactly, trailing zeros too"


def test_every_one_of_the_seven_types_has_a_round_trip_case(every_type):
    covered = {every_type_name for every_type_name, _, _ in ROUND_TRIPS}
    assert {d.name for d in every_type.values()} <= covered
    assert len(every_type) == 7


def test_a_date_time_without_a_zone_is_utc(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"Last purchase": "2026-01-15T08:00:00"})
    value = stored(person)["Last purchase"]
    assert value.utcoffset() == dt.timedelta(0)
    assert value.hour == 8


def test_values_serialize_with_their_json_types(every_type, system_actor):
    person = PersonFactory()
    set_values(
        person,
        system_actor,
        {
            "Lifetime value": Decimal("12.50"),
            "Newsletter opt-in": True,
            "Loyalty points": 7,
            "Contract expiry": "2027-03-15",
            "Last purchase": "2026-10-03T16:25:00+02:00",
        },
    )
    values = stored(person)
    out = {
        d.name: custom_attributes.serialize_value(d, values[d.name])
        for d in every_type.values()
        if d.name in values
    }
    assert out == {
        "Lifetime value": Decimal("12.50"),
        "Newsletter opt-in": True,
        "Loyalty points": 7,
        "Contract expiry": "2027-03-15",
        "Last purchase": "2026-10-03T14:25:00Z",
    }
    assert type(out["Newsletter opt-in"]) is bool and type(out["Loyalty points"]) is int


def test_form_text_is_read_into_each_type(every_type, system_actor):
    """The person page's editors send text; the form reads it as the attribute's type and the
    service gets typed values (people.forms.attribute_value)."""
    person = PersonFactory()
    texts = {"Loyalty points": " 42 ", "Lifetime value": "12.50", "Newsletter opt-in": "true"}
    definitions = attribute_definitions_named(texts)
    set_values(
        person,
        system_actor,
        {name: attribute_value(definitions[name], text) for name, text in texts.items()},
    )
    values = stored(person)
    assert values["Loyalty points"] == 42
    assert str(values["Lifetime value"]) == "12.50"
    assert values["Newsletter opt-in"] is True


# --- Limits and wrong types: the error names the attribute and what was expected

WRONG_TYPES = [
    ("Favourite store", 42),
    ("Favourite store", True),
    ("Loyalty points", "42"),
    ("Loyalty points", 4.5),
    ("Loyalty points", True),
    ("Lifetime value", "12.50"),
    ("Lifetime value", False),
    ("Lifetime value", float("nan")),
    ("Lifetime value", float("inf")),
    ("Newsletter opt-in", "yes"),
    ("Newsletter opt-in", 1),
    ("Contract expiry", "15.03.2027"),
    ("Contract expiry", "2027-02-30"),
    ("Contract expiry", 20270315),
    ("Last purchase", "yesterday"),
    ("Last purchase", 1700000000),
    ("Shopping cart", {"productName": "Sneakers"}),
    ("Shopping cart", ["Sneakers"]),
]


@pytest.mark.parametrize(("name", "given"), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_a_format_error_naming_the_attribute(
    every_type, system_actor, name, given
):
    error = rejected(PersonFactory(), system_actor, {name: given})
    assert error.code == ErrorCode.REQUEST_FORMAT_INVALID
    assert error.field.startswith(f"customAttributes.{name}")
    assert name in error.message and "expects" in error.message


OVER_LIMITS = [
    ("Favourite store", "x" * 4097, "4096"),
    ("Loyalty points", MAX + 1, str(MAX)),
    ("Loyalty points", -MAX - 2, str(MAX)),
    ("Lifetime value", Decimal(MAX) + Decimal("0.5"), str(MAX)),
    ("Lifetime value", Decimal("1." + "1" * 21), "decimal places"),
]


@pytest.mark.parametrize(("name", "given", "limit"), OVER_LIMITS)
def test_a_value_over_its_limit_is_rejected_naming_the_attribute_and_limit(
    every_type, system_actor, name, given, limit
):
    error = rejected(PersonFactory(), system_actor, {name: given})
    assert error.field == f"customAttributes.{name}"
    assert limit in error.message


def test_a_list_item_with_a_field_outside_the_object_schema_is_rejected(every_type, system_actor):
    error = rejected(
        PersonFactory(), system_actor, {"Shopping cart": [{"productName": "A", "colour": "red"}]}
    )
    assert error.field == "customAttributes.Shopping cart[0]"
    assert "colour" in error.message


def test_a_list_item_field_of_the_wrong_type_is_rejected_naming_it(every_type, system_actor):
    error = rejected(
        PersonFactory(),
        system_actor,
        {"Shopping cart": [{"quantity": 1}, {"quantity": "two"}]},
    )
    assert error.code == ErrorCode.REQUEST_FORMAT_INVALID
    assert error.field == "customAttributes.Shopping cart[1].quantity"


def test_a_value_for_an_undefined_name_is_rejected(every_type, system_actor):
    error = rejected(PersonFactory(), system_actor, {"Shoe size": 42})
    assert error.field == "customAttributes.Shoe size"
    assert "define" in error.message


def test_one_bad_value_rejects_the_whole_edit(every_type, system_actor):
    person = PersonFactory()
    rejected(person, system_actor, {"Loyalty points": 5, "Favourite store": 5})
    assert not AttributeValue.objects.filter(person=person).exists()


def test_attribute_names_match_regardless_of_case(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"LOYALTY POINTS": 5})
    assert stored(person) == {"Loyalty points": 5}


def test_setting_a_value_to_null_removes_it(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"Loyalty points": 5, "Favourite store": "Online"})
    set_values(person, system_actor, {"Loyalty points": None})
    assert stored(person) == {"Favourite store": "Online"}
    event = person.events.first()
    assert event.kind == "CUSTOM_ATTRIBUTES_CHANGED"
    assert event.changes == {"customAttributes": {"Loyalty points": {"before": 5, "after": None}}}


def test_changing_a_value_records_before_and_after(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"Lifetime value": Decimal("12.50")})
    set_values(person, system_actor, {"Lifetime value": Decimal("13.00")})
    first, second = person.events.order_by("id")
    assert first.changes == {
        "customAttributes": {"Lifetime value": {"before": None, "after": "12.50"}}
    }
    assert second.changes == {
        "customAttributes": {"Lifetime value": {"before": "12.50", "after": "13.00"}}
    }
    assert (second.actor_kind, second.actor_label) == ("SYSTEM", "tests")


def test_setting_the_same_value_again_records_nothing(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"Loyalty points": 5})
    set_values(person, system_actor, {"Loyalty points": 5})
    assert person.events.count() == 1


def test_appending_to_a_list_keeps_the_items_before(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"Shopping cart": [{"productName": "A", "quantity": 1}]})
    services.person_append_list_item(
        person=person, actor=system_actor, name="shopping cart", item={"productName": "B"}
    )
    assert stored(person)["Shopping cart"] == [
        {"productName": "A", "quantity": 1},
        {"productName": "B"},
    ]


# --- Definitions


def test_a_definition_name_of_256_characters_is_accepted(define):
    assert len(define("n" * 256, "STRING").name) == 256


@pytest.mark.parametrize("name", ["n" * 257, "", "   ", "cart[0]", "a{b}", "list]", "{", 42, None])
def test_a_definition_name_that_breaks_a_rule_is_rejected(define, name):
    with pytest.raises(DomainError) as caught:
        define(name, "STRING")
    assert caught.value.field == "name"
    assert not AttributeDefinition.objects.exists()


def test_definition_names_are_unique_regardless_of_case(define):
    define("Loyalty points", "INTEGER")
    with pytest.raises(DomainError) as caught:
        define("LOYALTY points", "STRING")
    assert (caught.value.field, AttributeDefinition.objects.count()) == ("name", 1)


def test_the_database_keeps_definition_names_unique_regardless_of_case(db):
    AttributeDefinition.objects.create(name="Loyalty points", data_type="INTEGER")
    with pytest.raises(IntegrityError), transaction.atomic():
        AttributeDefinition.objects.create(name="loyalty POINTS", data_type="STRING")


def test_the_database_refuses_an_unknown_data_type(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        AttributeDefinition.objects.create(name="Colour", data_type="COLOUR")


@pytest.mark.parametrize("data_type", ["COLOUR", "string", None, ""])
def test_a_definition_of_an_unknown_type_is_rejected(define, data_type):
    with pytest.raises(DomainError) as caught:
        define("Colour", data_type)
    assert caught.value.field == "dataType"


def test_a_list_of_objects_needs_an_object_schema_of_scalar_types(define):
    for schema, field in [
        (None, "objectSchema"),
        ({}, "objectSchema"),
        ({"items": "LIST_OF_OBJECTS"}, "objectSchema.items"),
        ({"colour": "COLOUR"}, "objectSchema.colour"),
        ({"bad[name]": "STRING"}, "objectSchema.bad[name]"),
    ]:
        with pytest.raises(DomainError) as caught:
            define("Cart", "LIST_OF_OBJECTS", schema)
        assert caught.value.field == field
    assert not AttributeDefinition.objects.exists()


def test_an_object_schema_on_a_scalar_type_is_rejected(define):
    with pytest.raises(DomainError) as caught:
        define("Points", "INTEGER", {"a": "STRING"})
    assert caught.value.field == "objectSchema"


def test_a_definition_keeps_its_type_once_created(define):
    definition = define("Loyalty points", "INTEGER")
    with pytest.raises(DomainError) as caught:
        services.attribute_definition_update(definition=definition, data_type="STRING")
    assert caught.value.field == "dataType"
    definition.refresh_from_db()
    assert definition.data_type == "INTEGER"


def test_a_definition_can_be_renamed_but_not_onto_another_name(define):
    definition = define("Points", "INTEGER")
    define("Store", "STRING")
    services.attribute_definition_update(definition=definition, name="Loyalty points")
    with pytest.raises(DomainError):
        services.attribute_definition_update(definition=definition, name="STORE")
    definition.refresh_from_db()
    assert definition.name == "Loyalty points"


def test_a_definition_in_use_cannot_be_deleted_and_says_by_how_many(every_type, system_actor):
    definition = every_type["INTEGER"]
    for points in (1, 2):
        set_values(PersonFactory(), system_actor, {"Loyalty points": points})
    with pytest.raises(DomainError) as caught:
        services.attribute_definition_delete(definition=definition)
    assert caught.value.code == ErrorCode.ATTRIBUTE_IN_USE
    assert caught.value.details == {"usedBy": 2}
    assert "2 people" in caught.value.message
    assert AttributeDefinition.objects.filter(pk=definition.pk).exists()


def test_the_database_refuses_to_delete_a_definition_in_use(every_type, system_actor):
    set_values(PersonFactory(), system_actor, {"Loyalty points": 1})
    with pytest.raises(ProtectedError), transaction.atomic():
        every_type["INTEGER"].delete()


def test_a_definition_no_longer_in_use_can_be_deleted(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"Loyalty points": 1})
    set_values(person, system_actor, {"Loyalty points": None})
    services.attribute_definition_delete(definition=every_type["INTEGER"])
    assert not AttributeDefinition.objects.filter(name="Loyalty points").exists()


def test_the_database_keeps_one_value_per_person_and_definition(every_type):
    person = PersonFactory()
    AttributeValue.objects.create(person=person, definition=every_type["STRING"], value_text="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        AttributeValue.objects.create(
            person=person, definition=every_type["STRING"], value_text="b"
        )


# --- Installation additionalData: free-form, typed by the value


@pytest.mark.parametrize(
    "data",
    [
        {"theme": "dark"},
        {"n" * 256: "x" * 4096},
        {"count": MAX, "negative": -MAX, "ratio": 0.25},
        {"receiveOTP": True, "beta": False},
        {"since": "2026-10-03"},
        {"removeMe": None},
    ],
)
def test_additional_data_accepts_strings_numbers_booleans_and_dates(data):
    assert custom_attributes.validate_additional_data(data) == data


def test_additional_data_dates_are_stored_as_iso_text():
    cleaned = custom_attributes.validate_additional_data(
        {"since": dt.date(2026, 10, 3), "at": dt.datetime(2026, 10, 3, 14, 25, tzinfo=UTC)}
    )
    assert cleaned == {"since": "2026-10-03", "at": "2026-10-03T14:25:00+00:00"}


def test_additional_data_decimals_become_json_numbers():
    cleaned = custom_attributes.validate_additional_data({"a": Decimal("3"), "b": Decimal("2.5")})
    assert cleaned == {"a": 3, "b": 2.5}
    assert type(cleaned["a"]) is int


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"n" * 257: "x"}, "additionalData." + "n" * 40),
        ({"": "x"}, "additionalData"),
        ({"note": "x" * 4097}, "additionalData.note"),
        ({"count": MAX + 1}, "additionalData.count"),
        ({"count": float("inf")}, "additionalData.count"),
        ({"nested": {"a": 1}}, "additionalData.nested"),
        ({"list": [1, 2]}, "additionalData.list"),
    ],
)
def test_additional_data_that_breaks_a_rule_is_rejected_naming_it(data, field):
    with pytest.raises(DomainError) as caught:
        custom_attributes.validate_additional_data(data)
    assert caught.value.field == field


def test_additional_data_must_be_an_object():
    with pytest.raises(DomainError) as caught:
        custom_attributes.validate_additional_data(["theme", "dark"])
    assert caught.value.code == ErrorCode.REQUEST_FORMAT_INVALID


# --- Input PostgreSQL cannot store, or Python cannot represent, is a rule, not a 500


@pytest.mark.parametrize("given", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_date_time_outside_the_representable_range_is_a_format_error(
    every_type, system_actor, given
):
    error = rejected(PersonFactory(), system_actor, {"Last purchase": given})
    assert (error.code, error.field) == (
        ErrorCode.REQUEST_FORMAT_INVALID,
        "customAttributes.Last purchase",
    )


def test_the_last_instant_of_year_9999_in_utc_is_accepted(every_type, system_actor):
    person = PersonFactory()
    set_values(person, system_actor, {"Last purchase": "9999-12-31T23:59:59Z"})
    assert stored(person)["Last purchase"].year == 9999


@pytest.mark.parametrize(
    "values",
    [
        {"Favourite store": "Online\x00"},
        {"Shopping cart": [{"productName": "Sneakers\x00"}]},
    ],
)
def test_a_string_value_with_a_nul_character_is_rejected(every_type, system_actor, values):
    error = rejected(PersonFactory(), system_actor, values)
    assert error.field.startswith("customAttributes.")
    assert "NUL" in error.message


def test_a_definition_name_with_a_nul_character_is_rejected(define):
    with pytest.raises(DomainError) as caught:
        define("Points\x00", "INTEGER")
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    ("description", "code"),
    [("d" * 513, ErrorCode.BAD_REQUEST), ("a\x00", ErrorCode.BAD_REQUEST), (7, None)],
)
def test_a_definition_description_is_checked_before_it_is_stored(description, code):
    with pytest.raises(DomainError) as caught:
        services.attribute_definition_create(
            name="Points", data_type="INTEGER", description=description
        )
    assert caught.value.field == "description"
    assert code is None or caught.value.code == code
    assert not AttributeDefinition.objects.exists()


def test_a_definition_description_of_512_characters_is_kept(define):
    definition = services.attribute_definition_create(
        name="Points", data_type="INTEGER", description="d" * 512
    )
    services.attribute_definition_update(definition=definition, description="e" * 512)
    definition.refresh_from_db()
    assert definition.description == "e" * 512
    with pytest.raises(DomainError):
        services.attribute_definition_update(definition=definition, description="e" * 513)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"theme": "dark\x00"}, "additionalData.theme"), ({"the\x00me": "dark"}, "additionalData")],
)
def test_additional_data_with_a_nul_character_is_rejected(data, field):
    with pytest.raises(DomainError) as caught:
        custom_attributes.validate_additional_data(data)
    assert caught.value.field == field


FORM_TEXTS = [
    ("INTEGER", " 42 "),
    ("INTEGER", "+7"),
    ("INTEGER", "9" * 40),
    ("INTEGER", "5.0"),
    ("INTEGER", "abc"),
    ("DECIMAL", "12.50"),
    ("DECIMAL", ".5"),
    ("DECIMAL", "1e3"),
    ("DECIMAL", "1." + "0" * 30),
    ("DECIMAL", "9" * 40),
    ("BOOLEAN", " Yes "),
    ("BOOLEAN", "off"),
    ("BOOLEAN", "maybe"),
    ("STRING", "12"),
    ("DATE", "2027-03-15"),
    ("DATE", "15.03.2027"),
    ("DATE_TIME", "2026-10-03T14:25"),
]


@pytest.mark.parametrize(("data_type", "text"), FORM_TEXTS)
def test_form_text_read_by_the_form_gets_the_answer_text_got_from_the_service(data_type, text):
    """The form reads text (read_text) and the service checks typed values: the value, or the
    error's code, message and field, are what reading the text in the service gave."""

    def outcome(raw, from_text):
        try:
            return custom_attributes.parse_scalar(
                data_type, raw, name="A", field="customAttributes.A", from_text=from_text
            )
        except DomainError as error:
            return (error.code, error.message, error.field)

    assert outcome(custom_attributes.read_text(data_type, text), False) == outcome(text, True)
