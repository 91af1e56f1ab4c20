"""Helpers for the push API and device API tests: clients, the vendor's schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from rest_framework.test import APIClient

from core.models import ApiKey, ApiKeyRole
from installations.models import Application

VENDOR_SCHEMAS = Path(__file__).with_name("vendor_push_schemas.json")


def _any_value_for_free_form_maps(node: Any) -> Any:
    """The vendor types the values of its free-form maps (additionalData, customAttributes)
    as {"type": "object"}, yet its own examples put strings, numbers and booleans there: read
    them as any JSON value."""
    if isinstance(node, dict):
        out = {key: _any_value_for_free_form_maps(value) for key, value in node.items()}
        if out.get("additionalProperties") == {"type": "object"}:
            out["additionalProperties"] = {}
        return out
    if isinstance(node, list):
        return [_any_value_for_free_form_maps(item) for item in node]
    return node


_COMPONENTS = _any_value_for_free_form_maps(json.loads(VENDOR_SCHEMAS.read_text())["components"])


def vendor_document(path: Path) -> dict[str, Any]:
    """The vendor's whole OpenAPI document at ``path``, its free-form maps read as above."""
    return _any_value_for_free_form_maps(json.loads(path.read_text()))


def vendor_validator(name: str) -> Draft7Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": copy.deepcopy(_COMPONENTS)}
    return Draft7Validator(schema)


def assert_vendor_shape(body: Any, name: str) -> None:
    errors = sorted(vendor_validator(name).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def api_client(*, role: str = ApiKeyRole.MANAGE, app: Application | None = None) -> APIClient:
    """A client with an API key (and the AppCode header of ``app``)."""
    _, raw = ApiKey.issue(name=f"push-{role}", role=role)
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"App {raw}"}
    if app is not None:
        headers["HTTP_APPCODE"] = app.code
    client.credentials(**headers)
    return client


def device_client(app: Application) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"App {app.code}")
    return client


def send(client: APIClient, method: str, url: str, body: Any = None, **extra: Any):
    """A request with a JSON body (``body`` may be raw text, sent as is); GET sends none."""
    if method == "get":
        return client.get(url, **extra)
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    return getattr(client, method)(url, data=data, content_type="application/json", **extra)


def push_url(push_registration_id: str, action: str = "") -> str:
    return f"/people/2/contactInformation/push/{push_registration_id}" + (
        f"/{action}" if action else ""
    )


def device_url(push_registration_id: str = "", action: str = "") -> str:
    url = "/mobile/1/appinstance"
    if push_registration_id:
        url += f"/{push_registration_id}"
    return url + (f"/{action}" if action else "")
