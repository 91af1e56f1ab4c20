"""Custom event definitions and the properties of reported events.

A definition (the vendor's event definition, ``/peopleevents/2/definitions``) names a custom
event that apps report (the mobile SDKs' ``definitionId``) and the properties it carries, each
with a type. Like custom attribute definitions, they are managed by administrators (admin or
a manage key); a field's type never changes and fields are never removed, so events recorded
before keep their meaning.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from core.errors import DomainError, ErrorCode, reject_nul
from people import custom_attributes as attribute_types
from people.history import Actor, record_audit
from people.models import CustomEventDefinition, DataType, EventFieldType

MAX_FIELDS = 120
MAX_TITLE = 100
MAX_DESCRIPTION = 2000
_DEFINITION_ID_RE = re.compile(r"^[A-Za-z0-9]{1,36}$")
# Event field type -> the custom attribute type that reads its values.
SCALAR_READERS = {
    EventFieldType.STRING: DataType.STRING,
    EventFieldType.BOOLEAN: DataType.BOOLEAN,
    EventFieldType.DATE_TIME: DataType.DATE_TIME,
    EventFieldType.NUMERIC: DataType.DECIMAL,
    EventFieldType.DECIMAL: DataType.DECIMAL,
}


def _bad(field: str, message: str, code: str = ErrorCode.BAD_REQUEST) -> DomainError:
    return DomainError(code, message, field)


def definition_named(definition_id: Any) -> CustomEventDefinition | None:
    if not isinstance(definition_id, str) or not _DEFINITION_ID_RE.match(definition_id):
        return None
    return CustomEventDefinition.objects.filter(definition_id__iexact=definition_id).first()


def _clean_text(value: Any, name: str, limit: int, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise _bad(name, f"{name} is required.")
        return ""
    if not isinstance(value, str):
        raise _bad(name, f"{name} must be a string.", ErrorCode.REQUEST_FORMAT_INVALID)
    value = reject_nul(value.strip(), name)
    if required and not value:
        raise _bad(name, f"{name} is required.")
    if len(value) > limit:
        raise _bad(name, f"{name} must be at most {limit} characters.")
    return value


def _clean_field(raw: Any, index: int, *, in_list: bool = False, prefix: str = "fields") -> dict:
    where = f"{prefix}[{index}]"
    if not isinstance(raw, dict):
        raise _bad(where, "A field must be an object with name and type.")
    unknown = sorted(set(raw) - {"name", "type", "schema"})
    if unknown:
        raise _bad(f"{where}.{unknown[0]}", f"{unknown[0]} is not a property of a field.")
    name = attribute_types.validate_definition_name(raw.get("name"), field=f"{where}.name")
    allowed = [t for t in EventFieldType.values if not (in_list and t == EventFieldType.LIST)]
    kind = raw.get("type")
    if kind not in allowed:
        raise _bad(f"{where}.type", f"type must be one of {', '.join(allowed)}, not {kind!r}.")
    field: dict[str, Any] = {"name": name, "type": kind}
    if kind == EventFieldType.LIST:
        schema = raw.get("schema")
        if not isinstance(schema, dict) or schema.get("type") != "Object":
            raise _bad(
                f"{where}.schema",
                'A List field needs a schema {"type": "Object", "fields": [...]}.',
            )
        items = schema.get("fields")
        if not isinstance(items, list) or not items:
            raise _bad(f"{where}.schema.fields", "A List field's schema needs fields.")
        inner = [
            _clean_field(item, n, in_list=True, prefix=f"{where}.schema.fields")
            for n, item in enumerate(items)
        ]
        _refuse_duplicates(inner, f"{where}.schema.fields")
        field["schema"] = {"type": "Object", "fields": inner}
    elif raw.get("schema") is not None:
        raise _bad(f"{where}.schema", "Only a List field has a schema.")
    return field


def _refuse_duplicates(fields: list[dict], where: str) -> None:
    seen: set[str] = set()
    for field in fields:
        key = field["name"].casefold()
        if key in seen:
            raise _bad(where, f"Field names must be unique (case-insensitive): {field['name']!r}.")
        seen.add(key)


def clean_fields(raw: Any) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("fields", "fields must be a list.", ErrorCode.REQUEST_FORMAT_INVALID)
    if len(raw) > MAX_FIELDS:
        raise _bad("fields", f"A definition has at most {MAX_FIELDS} fields.")
    fields = [_clean_field(item, n) for n, item in enumerate(raw)]
    _refuse_duplicates(fields, "fields")
    if sum(1 for f in fields if f["type"] == EventFieldType.LIST) > 1:
        raise _bad("fields", "A definition has at most one List field.")
    return fields


def check_definition_id(definition_id: Any) -> str:
    """A new definitionId's form: 1 to 36 letters or digits."""
    if not isinstance(definition_id, str) or not _DEFINITION_ID_RE.match(definition_id):
        raise _bad(
            "definitionId", "definitionId must be 1 to 36 letters or digits (a-z, A-Z, 0-9)."
        )
    return definition_id


def _exists(definition_id: str) -> DomainError:
    return _bad(
        "definitionId", f"Event definition {definition_id!r} exists already.", ErrorCode.CONFLICT
    )


def check_definition_id_free(definition_id: str) -> None:
    """No event definition has ``definition_id`` (in any case): CONFLICT."""
    if definition_named(definition_id) is not None:
        raise _exists(definition_id)


@transaction.atomic
def event_definition_create(
    *,
    definition_id: Any,
    title: Any,
    description: Any = "",
    fields: Any = None,
    actor: Actor,
) -> CustomEventDefinition:
    check_definition_id(definition_id)
    clean = {
        "title": _clean_text(title, "title", MAX_TITLE, required=True),
        "description": _clean_text(description, "description", MAX_DESCRIPTION, required=False),
        "fields": clean_fields(fields),
    }
    check_definition_id_free(definition_id)
    try:
        with transaction.atomic():
            definition = CustomEventDefinition.objects.create(definition_id=definition_id, **clean)
    except IntegrityError:
        raise _exists(definition_id) from None
    record_audit(
        action="event definition created",
        target=f"event definition {definition.pk} {definition.definition_id!r}",
        actor=actor,
    )
    return definition


@transaction.atomic
def event_definition_update(
    *,
    definition: CustomEventDefinition,
    title: Any = None,
    description: Any = None,
    fields: Any = None,
    actor: Actor,
) -> CustomEventDefinition:
    """Change the title or description, add fields. A field is never removed or retyped:
    the events recorded before keep their meaning."""
    locked = CustomEventDefinition.objects.select_for_update().get(pk=definition.pk)
    if title is not None:
        locked.title = _clean_text(title, "title", MAX_TITLE, required=True)
    if description is not None:
        locked.description = _clean_text(
            description, "description", MAX_DESCRIPTION, required=False
        )
    added: list[str] = []
    if fields is not None:
        wanted = clean_fields(fields)
        stored = {f["name"].casefold(): f for f in locked.fields}
        given = {f["name"].casefold() for f in wanted}
        for old in locked.fields:
            if old["name"].casefold() not in given:
                raise _bad("fields", f"Field {old['name']!r} cannot be removed.")
        for field in wanted:
            old = stored.get(field["name"].casefold())
            if old is None:
                added.append(field["name"])
            elif old != field:
                raise _bad("fields", f"Field {old['name']!r} cannot be changed.")
        locked.fields = [*locked.fields, *(f for f in wanted if f["name"] in added)]
        clean_fields(locked.fields)  # the limits hold for the whole, added fields included
    locked.save()
    record_audit(
        action="event definition changed",
        target=f"event definition {locked.pk} {locked.definition_id!r}",
        actor=actor,
        fields_added=added,
    )
    return locked


def _jsonable(value: Any) -> Any:
    """A history-ready value: numbers stay numbers (a whole Decimal an int, else a float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return attribute_types.serialize_scalar(DataType.DATE_TIME, value)
    return value


def parse_event_properties(
    definition: CustomEventDefinition, raw: Any, *, field: str = "properties"
) -> dict[str, Any]:
    """The properties of one event of ``definition``, checked against its fields: each known
    by name (case-insensitive), of its type; a null value is left out. History-ready."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad(field, "properties must be an object.", ErrorCode.REQUEST_FORMAT_INVALID)
    by_name = {f["name"].casefold(): f for f in definition.fields}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        spec = by_name.get(str(name).casefold())
        where = f"{field}.{name}"
        if spec is None:
            raise _bad(where, f"{definition.definition_id} has no field {name!r}.")
        if value is None:
            continue
        if spec["type"] == EventFieldType.LIST:
            out[spec["name"]] = _parse_list(spec, value, where)
        else:
            out[spec["name"]] = _scalar(spec, value, where)
    return out


def _scalar(spec: dict, value: Any, where: str) -> Any:
    parsed = attribute_types.parse_scalar(
        SCALAR_READERS[spec["type"]], value, name=spec["name"], field=where, from_text=False
    )
    return _jsonable(parsed)


def _parse_list(spec: dict, value: Any, where: str) -> list[dict]:
    if not isinstance(value, list):
        raise _bad(where, f"{spec['name']} must be a list of objects.", "REQUEST_FORMAT_INVALID")
    if len(value) > attribute_types.MAX_LIST_ITEMS:
        raise _bad(where, f"{spec['name']} has at most {attribute_types.MAX_LIST_ITEMS} items.")
    inner = {f["name"].casefold(): f for f in spec["schema"]["fields"]}
    items = []
    for index, item in enumerate(value):
        item_where = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise _bad(item_where, "Each item must be an object.", "REQUEST_FORMAT_INVALID")
        parsed = {}
        for name, item_value in item.items():
            item_spec = inner.get(str(name).casefold())
            if item_spec is None:
                raise _bad(f"{item_where}.{name}", f"{spec['name']} items have no field {name!r}.")
            if item_value is not None:
                parsed[item_spec["name"]] = _scalar(item_spec, item_value, f"{item_where}.{name}")
        items.append(parsed)
    return items


def event_definition_body(definition: CustomEventDefinition) -> dict[str, Any]:
    """The vendor's EventDefinitionResource."""
    return {
        "isInternalDefinition": False,
        "category": "external",
        "definitionId": definition.definition_id,
        "title": definition.title,
        "description": definition.description,
        "fields": definition.fields,
    }
