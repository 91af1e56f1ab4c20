"""Custom attribute types: parse, validate, store and serialize each type with its limits.

One module that the services, the forms, the API and admin share, so that a value is read the
same way everywhere and comes back with the type it went in with.

Values in Python:
  STRING -> str, INTEGER -> int, DECIMAL -> Decimal, BOOLEAN -> bool, DATE -> date,
  DATE_TIME -> aware datetime in UTC, LIST_OF_OBJECTS -> list of {field: scalar value}.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from typing import Any

from core.api.fields import json_kind
from core.errors import DomainError, ErrorCode, reject_nul
from core.numbers import (
    integer_text_in_range,
    number_in_range,
    out_of_range_message,
)
from people.models import AttributeDefinition, AttributeValue, DataType

MAX_NAME_LENGTH = 256
MAX_STRING_LENGTH = 4096
MAX_DECIMAL_PLACES = 20
MAX_LIST_ITEMS = 1000
FORBIDDEN_NAME_CHARACTERS = set("{}[]")
SCALAR_TYPES = (
    DataType.STRING,
    DataType.INTEGER,
    DataType.DECIMAL,
    DataType.BOOLEAN,
    DataType.DATE,
    DataType.DATE_TIME,
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE_TEXT = {"true", "1", "yes", "on"}
_FALSE_TEXT = {"false", "0", "no", "off"}


def _error(field: str, message: str, code: str = ErrorCode.BAD_REQUEST) -> DomainError:
    return DomainError(code, message, field=field)


def _type_error(field: str, name: str, expected: str, raw: Any) -> DomainError:
    return _error(
        field,
        f"{name} expects {expected}, not {raw!r}.",
        ErrorCode.REQUEST_FORMAT_INVALID,
    )


# ---------------------------------------------------------------------------------------------
# Definitions


def validate_definition_name(name: object, *, field: str = "name") -> str:
    if not isinstance(name, str):
        raise _error(field, "Attribute name must be a string.", ErrorCode.REQUEST_FORMAT_INVALID)
    name = reject_nul(name.strip(), field, "Attribute name")
    if not name:
        raise _error(field, "Attribute name is required.")
    if len(name) > MAX_NAME_LENGTH:
        raise _error(field, f"Attribute name must be at most {MAX_NAME_LENGTH} characters.")
    bad = sorted(FORBIDDEN_NAME_CHARACTERS.intersection(name))
    if bad:
        raise _error(field, f"Attribute name must not contain {' '.join(bad)}.")
    return name


def validate_data_type(data_type: object, *, field: str = "dataType") -> str:
    if data_type not in DataType.values:
        raise _error(
            field,
            f"dataType must be one of {', '.join(DataType.values)}, not {data_type!r}.",
            ErrorCode.REQUEST_FORMAT_INVALID,
        )
    return str(data_type)


def validate_object_schema(
    data_type: str, schema: object, *, field: str = "objectSchema"
) -> dict[str, str] | None:
    if data_type != DataType.LIST_OF_OBJECTS:
        if schema:
            raise _error(field, "objectSchema is only for LIST_OF_OBJECTS attributes.")
        return None
    if not isinstance(schema, dict) or not schema:
        raise _error(field, "LIST_OF_OBJECTS needs an objectSchema: field name -> scalar type.")
    cleaned: dict[str, str] = {}
    for key, value in schema.items():
        validate_definition_name(key, field=f"{field}.{key}")
        if value not in SCALAR_TYPES:
            raise _error(
                f"{field}.{key}",
                f"Field {key!r} must have one of {', '.join(SCALAR_TYPES)}, not {value!r}.",
            )
        cleaned[key.strip()] = str(value)
    return cleaned


# ---------------------------------------------------------------------------------------------
# Scalar values


def parse_scalar(data_type: str, raw: Any, *, name: str, field: str, from_text: bool) -> Any:
    """Read one scalar value of a type. ``from_text`` accepts the strings an HTML form sends."""
    if data_type == DataType.STRING:
        if not isinstance(raw, str):
            raise _type_error(field, name, "a string", raw)
        if len(raw) > MAX_STRING_LENGTH:
            raise _error(field, f"{name} must be at most {MAX_STRING_LENGTH} characters.")
        return reject_nul(raw, field, name)
    if data_type == DataType.INTEGER:
        return _parse_integer(raw, name=name, field=field, from_text=from_text)
    if data_type == DataType.DECIMAL:
        return _parse_decimal(raw, name=name, field=field, from_text=from_text)
    if data_type == DataType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        if from_text and isinstance(raw, str) and raw.strip().lower() in _TRUE_TEXT | _FALSE_TEXT:
            return raw.strip().lower() in _TRUE_TEXT
        raise _type_error(field, name, "true or false", raw)
    if data_type == DataType.DATE:
        return parse_date(raw, name=name, field=field)
    if data_type == DataType.DATE_TIME:
        return parse_datetime(raw, name=name, field=field)
    raise _error(field, f"{name}: {data_type} is not a scalar type.")


def check_number_range(value: int | float | Decimal, *, name: str, field: str) -> None:
    """A DomainError naming ``field`` unless ``value`` is in range (see number_in_range)."""
    if not number_in_range(value):
        raise _error(field, out_of_range_message(name))


def _is_whole(value: Decimal | float) -> bool:
    number = Decimal(str(value)) if isinstance(value, float) else value
    return number.is_finite() and number == number.to_integral_value()


def _parse_integer(raw: Any, *, name: str, field: str, from_text: bool) -> int:
    if isinstance(raw, bool):
        raise _type_error(field, name, "a whole number", raw)
    if isinstance(raw, int):
        check_number_range(raw, name=name, field=field)
        return raw
    if isinstance(raw, Decimal | float) and _is_whole(raw):
        check_number_range(raw, name=name, field=field)  # before int(), which is the cost
        return int(raw)
    if from_text and isinstance(raw, str) and re.fullmatch(r"\s*[-+]?\d+\s*", raw):
        if not integer_text_in_range(raw):
            raise _error(field, out_of_range_message(name))
        return int(raw)
    raise _type_error(field, name, "a whole number", raw)


def _parse_decimal(raw: Any, *, name: str, field: str, from_text: bool) -> Decimal:
    if isinstance(raw, bool):
        raise _type_error(field, name, "a number", raw)
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        # repr() gives the shortest text that reads back as the same float.
        value = Decimal(repr(raw))
    elif from_text and isinstance(raw, str) and re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)\s*", raw):
        value = Decimal(raw.strip())
    else:
        raise _type_error(field, name, "a number such as 12.5", raw)
    if not value.is_finite():
        raise _type_error(field, name, "a finite number", raw)
    check_number_range(value, name=name, field=field)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
        raise _error(field, f"{name} must have at most {MAX_DECIMAL_PLACES} decimal places.")
    return value


def parse_date(raw: Any, *, name: str, field: str) -> dt.date:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    if isinstance(raw, str) and _DATE_RE.match(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise _type_error(field, name, "a date YYYY-MM-DD", raw)


def parse_datetime(raw: Any, *, name: str, field: str) -> dt.datetime:
    """ISO 8601; a value without a zone is UTC. Returned in UTC."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str) and len(raw.strip()) >= 10:
        text = raw.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _type_error(field, name, "an ISO 8601 date-time", raw) from None
    else:
        raise _type_error(field, name, "an ISO 8601 date-time", raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        # 9999-12-31T23:00:00-05:00 is past the last representable instant.
        raise _type_error(field, name, "a date-time between years 1 and 9999 in UTC", raw) from None


def serialize_scalar(data_type: str, value: Any) -> Any:
    """A JSON-ready value: Decimal stays Decimal (the renderer writes it as an exact number)."""
    if value is None:
        return None
    if data_type == DataType.DATE:
        return value.isoformat()
    if data_type == DataType.DATE_TIME:
        value = value.astimezone(dt.UTC)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond // 1000:03d}"
        return text + "Z"
    if data_type == DataType.INTEGER:
        return int(value)
    return value


def format_decimal(value: Decimal) -> str:
    return format(value, "f")


def read_text(data_type: str, text: Any) -> Any:
    """A scalar as an HTML form sends it (text) read as a value of ``data_type``: "12" as 12,
    "12.5" as Decimal("12.5"), "yes" as True. Text that does not read as the type is answered
    as it is, for ``parse_scalar`` to refuse with the type's own message; dates and date-times
    stay text (ISO 8601, as the API sends them). Reading only: ranges and limits are
    ``parse_scalar``'s."""
    if not isinstance(text, str):
        return text
    if data_type == DataType.INTEGER and re.fullmatch(r"\s*[-+]?\d+\s*", text):
        # A number past the range stays exact (a Decimal) for parse_scalar to name the range;
        # int() of thousands of digits is the slow part.
        return int(text) if integer_text_in_range(text) else Decimal(text.strip())
    if data_type == DataType.DECIMAL and re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)\s*", text):
        return Decimal(text.strip())
    if data_type == DataType.BOOLEAN and text.strip().lower() in _TRUE_TEXT | _FALSE_TEXT:
        return text.strip().lower() in _TRUE_TEXT
    return text


def read_value_text(definition: AttributeDefinition, text: Any) -> Any:
    """A custom attribute's value as an HTML form sends it (``read_text``; a list of objects as
    a list of {field: text}), for ``parse_value``. None stays None (remove)."""
    if definition.data_type != DataType.LIST_OF_OBJECTS:
        return read_text(definition.data_type, text)
    if not isinstance(text, list):
        return text
    schema = definition.object_schema or {}
    return [
        {
            key: read_text(schema[key], value) if key in schema else value
            for key, value in item.items()
        }
        if isinstance(item, dict)
        else item
        for item in text
    ]


# ---------------------------------------------------------------------------------------------
# Person custom attribute values


def parse_value(definition: AttributeDefinition, raw: Any, *, from_text: bool = False) -> Any:
    """A valid value of ``definition`` or a DomainError naming the attribute and the rule."""
    name = definition.name
    field = f"customAttributes.{name}"
    if definition.data_type != DataType.LIST_OF_OBJECTS:
        return parse_scalar(definition.data_type, raw, name=name, field=field, from_text=from_text)
    if not isinstance(raw, list):
        raise _type_error(field, name, "a list of objects", raw)
    if len(raw) > MAX_LIST_ITEMS:
        raise _error(field, f"{name} must have at most {MAX_LIST_ITEMS} items.")
    return [_parse_object(definition, item, index, from_text) for index, item in enumerate(raw)]


def parse_list_item(definition: AttributeDefinition, raw: Any, *, from_text: bool = False) -> dict:
    if definition.data_type != DataType.LIST_OF_OBJECTS:
        raise _error(
            f"customAttributes.{definition.name}",
            f"{definition.name} is a {definition.data_type} attribute, not a list of objects.",
        )
    return _parse_object(definition, raw, 0, from_text)


def _parse_object(definition: AttributeDefinition, item: Any, index: int, from_text: bool) -> dict:
    name = definition.name
    schema = definition.object_schema or {}
    field = f"customAttributes.{name}[{index}]"
    if not isinstance(item, dict):
        raise _type_error(field, f"{name}[{index}]", "an object", item)
    unknown = sorted(set(item) - set(schema))
    if unknown:
        raise _error(
            field,
            f"{name}[{index}] has unknown field(s) {', '.join(unknown)}; "
            f"expected {', '.join(schema)}.",
        )
    parsed = {}
    for key, value in item.items():
        if value is None:
            continue
        parsed[key] = parse_scalar(
            schema[key],
            value,
            name=f"{name}[{index}].{key}",
            field=f"{field}.{key}",
            from_text=from_text,
        )
    return parsed


def serialize_value(definition: AttributeDefinition, value: Any) -> Any:
    if definition.data_type != DataType.LIST_OF_OBJECTS:
        return serialize_scalar(definition.data_type, value)
    schema = definition.object_schema or {}
    return [
        {key: serialize_scalar(schema.get(key, DataType.STRING), v) for key, v in item.items()}
        for item in value
    ]


def fingerprint(definition: AttributeDefinition, value: Any) -> str:
    """A value as canonical JSON text ("null" when not set), to tell whether a stored value is
    still the one an editor showed: equal values give equal text, whatever their Python
    form (Decimal("12.50") and Decimal("12.5") do not, as the API shows them differently)."""
    serialized = None if value is None else serialize_value(definition, value)
    return json.dumps(
        serialized,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=lambda v: format_decimal(v) if isinstance(v, Decimal) else str(v),
    )


# The registry of the scalar types' columns: where a value of each type is compared (each has
# its (definition, column) index). The search, the API's filter and the writes read it here.
COMPARED_COLUMNS = {
    DataType.STRING: "value_text",
    DataType.INTEGER: "value_number",
    DataType.DECIMAL: "value_number",
    DataType.BOOLEAN: "value_bool",
    DataType.DATE: "value_date",
    DataType.DATE_TIME: "value_datetime",
}
STORED_COLUMNS = ("value_text", "value_number", "value_bool", "value_date", "value_datetime")
STORED_COLUMNS += ("value_json",)


def to_columns(definition: AttributeDefinition, value: Any) -> dict[str, Any]:
    """The AttributeValue columns that store ``value`` (a parsed value)."""
    columns: dict[str, Any] = dict.fromkeys(STORED_COLUMNS)
    data_type = definition.data_type
    if data_type == DataType.STRING:
        columns["value_text"] = value
    elif data_type == DataType.INTEGER:
        columns["value_number"] = Decimal(value)
        # SQLite keeps numerics as 8-byte floats: the text keeps all 19 digits exactly.
        columns["value_text"] = str(value)
    elif data_type == DataType.DECIMAL:
        columns["value_number"] = value
        columns["value_text"] = format_decimal(value)
    elif data_type == DataType.BOOLEAN:
        columns["value_bool"] = value
    elif data_type == DataType.DATE:
        columns["value_date"] = value
    elif data_type == DataType.DATE_TIME:
        columns["value_datetime"] = value
    else:
        columns["value_json"] = _json_safe(serialize_value(definition, value))
    return columns


def _json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def from_row(definition: AttributeDefinition, row: AttributeValue) -> Any:
    """The Python value stored in ``row``."""
    data_type = definition.data_type
    if data_type == DataType.STRING:
        return row.value_text
    if data_type == DataType.INTEGER:
        if row.value_text is not None:
            return int(row.value_text)
        return int(row.value_number) if row.value_number is not None else None
    if data_type == DataType.DECIMAL:
        # The text keeps every digit exactly, whatever the database does to numerics.
        return Decimal(row.value_text) if row.value_text is not None else row.value_number
    if data_type == DataType.BOOLEAN:
        return row.value_bool
    if data_type == DataType.DATE:
        return row.value_date
    if data_type == DataType.DATE_TIME:
        value = row.value_datetime
        return value.astimezone(dt.UTC) if value is not None else None
    return parse_value(definition, row.value_json or [], from_text=True)


# ---------------------------------------------------------------------------------------------
# Installation additionalData: free-form, typed by the value itself


def validate_additional_data(data: Any, *, field: str = "additionalData") -> dict[str, Any]:
    """Check names and values of installation custom attributes. ``None`` values mean remove."""
    if not isinstance(data, dict):
        raise _error(field, "additionalData must be an object.", ErrorCode.REQUEST_FORMAT_INVALID)
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key.strip():
            raise _error(field, "additionalData names must be non-empty strings.")
        reject_nul(key, field, "additionalData names")
        if len(key) > MAX_NAME_LENGTH:
            raise _error(
                f"{field}.{key[:40]}", f"Names must be at most {MAX_NAME_LENGTH} characters."
            )
        item_field = f"{field}.{key}"
        if value is None or isinstance(value, bool):
            pass
        elif isinstance(value, dt.date):
            # Stored as JSON: a date (or date-time) becomes its ISO 8601 text.
            value = value.isoformat()
        elif isinstance(value, str):
            if len(value) > MAX_STRING_LENGTH:
                raise _error(item_field, f"{key} must be at most {MAX_STRING_LENGTH} characters.")
            reject_nul(value, item_field, key)
        elif isinstance(value, int | float | Decimal):
            if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
                raise _error(item_field, f"{key} must be a finite number.")
            check_number_range(value, name=key, field=item_field)
            if isinstance(value, Decimal):
                value = int(value) if value == value.to_integral_value() else float(value)
        else:
            raise _error(
                item_field,
                f"{key} must be a string, number, boolean or date, not {json_kind(value)}.",
                ErrorCode.REQUEST_FORMAT_INVALID,
            )
        cleaned[key] = value
    return cleaned
