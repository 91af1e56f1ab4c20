"""Clients with API keys (their fixtures are in tests/conftest.py), and the vendor's OpenAPI
document as response validators."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from core.models import ApiKey

VENDOR_DOCUMENT = Path("/work/shared/reference/infobip-people-openapi.json")
if not VENDOR_DOCUMENT.exists():  # a checkout next to the shared folder
    VENDOR_DOCUMENT = (
        Path(__file__).resolve().parents[2] / "shared/reference/infobip-people-openapi.json"
    )


def _free_form_maps_take_any_value(node: Any) -> Any:
    """The vendor types free-form map values (customAttributes, systemData, additionalData)
    as {"type": "object"}, a generator artifact its own examples contradict: any JSON value."""
    if isinstance(node, dict):
        out = {key: _free_form_maps_take_any_value(value) for key, value in node.items()}
        if out.get("additionalProperties") == {"type": "object"}:
            out["additionalProperties"] = {}
        return out
    if isinstance(node, list):
        return [_free_form_maps_take_any_value(item) for item in node]
    return node


_DOCUMENT = _free_form_maps_take_any_value(json.loads(VENDOR_DOCUMENT.read_text()))


def vendor_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON schema of one response of one operation, with the document's components."""
    responses = _DOCUMENT["paths"][path][method.lower()]["responses"]
    response = responses.get(str(status)) or responses[f"{str(status)[0]}XX"]
    schema = response["content"]["application/json"]["schema"]
    return {**copy.deepcopy(schema), "components": _DOCUMENT["components"]}


def vendor_component(name: str) -> dict[str, Any]:
    """A component by its short name (the document prefixes names with a hash)."""
    full = next(key for key in _DOCUMENT["components"]["schemas"] if key.endswith(f".{name}"))
    return {"$ref": f"#/components/schemas/{full}", "components": _DOCUMENT["components"]}


def schema_errors(body: Any, schema: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def assert_vendor_response(response, path: str, method: str) -> Any:
    """The body, after checking it against the vendor's schema for this operation."""
    body = response.json()
    errors = schema_errors(body, vendor_schema(path, method, response.status_code))
    assert not errors, errors
    return body


# The list wrappers the vendor's document leaves out (issue 4): items are validated against
# the document's item schema.
LIST_WRAPPER = {
    "type": "object",
    "required": ["limit", "page", "orderBy"],
    "properties": {
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "page": {"type": "integer", "minimum": 1},
        "orderBy": {"type": "string"},
        "totalCount": {"type": "integer", "minimum": 0},
    },
}


def assert_vendor_list(response, key: str, item_component: str) -> dict[str, Any]:
    body = response.json()
    wrapper = copy.deepcopy(LIST_WRAPPER)
    wrapper["required"].append(key)
    wrapper["properties"][key] = {"type": "array"}
    errors = schema_errors(body, wrapper)
    for index, item in enumerate(body.get(key, [])):
        errors += [
            f"{key}[{index}] {e}" for e in schema_errors(item, vendor_component(item_component))
        ]
    assert not errors, errors
    return body


def assert_vendor_error(response, status: int, message_id: str | None = None) -> dict[str, Any]:
    """A 4xx in the vendor's body (ApiException), with the messageId when given."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    errors = schema_errors(body, vendor_component("ApiException"))
    assert not errors, errors
    exception = body["requestError"]["serviceException"]
    assert exception["text"]
    if message_id is not None:
        assert exception["messageId"] == message_id, exception
    return exception


def key_client(role: str, name: str = "crm-sync") -> APIClient:
    _, raw = ApiKey.issue(name=name, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"App {raw}")
    return client
