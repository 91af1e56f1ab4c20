"""Schemathesis against the app's own /api/schema/: generated requests for every People API
operation get no server error, a documented status and a body that matches the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from core.models import ApiKey, ApiKeyRole
from people.models import AttributeDefinition, DataType
from people.services import person_create

OPERATIONS = [
    ("/people/2/persons", "GET"),
    ("/people/2/persons", "POST"),
    ("/people/2/persons", "PUT"),
    ("/people/2/persons", "PATCH"),
    ("/people/2/persons", "DELETE"),
    ("/people/2/persons/contactInformation", "PUT"),
    ("/people/2/persons/contactInformation", "PATCH"),
    ("/people/2/persons/contactInformation", "DELETE"),
    ("/people/2/persons/batch", "POST"),
    ("/people/2/persons/batch", "PATCH"),
    ("/people/2/persons/batch", "DELETE"),
    ("/people/2/persons/match", "POST"),
    ("/people/2/tags", "GET"),
    ("/people/2/tags", "POST"),
    ("/people/2/tags/{name}", "GET"),
    ("/people/2/tags/{name}", "DELETE"),
    ("/people/2/tags/{name}/persons", "PATCH"),
    ("/people/2/tags/{name}/persons", "DELETE"),
    ("/people/2/customAttributes", "GET"),
    ("/people/2/customAttributes", "POST"),
    ("/people/2/customAttributes/{name}", "GET"),
    ("/people/2/customAttributes/{name}", "DELETE"),
    ("/people/2/customAttributes/{name}/append", "POST"),
]
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}
# Operations whose only input is a path string: there is no invalid value to generate.
PATH_ONLY = {
    ("/people/2/tags/{name}", "GET"),
    ("/people/2/tags/{name}", "DELETE"),
    ("/people/2/customAttributes/{name}", "GET"),
    ("/people/2/customAttributes/{name}", "DELETE"),
}
CASES = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in EXAMPLES
    if not (mode == GenerationMode.NEGATIVE and (path, method) in PATH_ONLY)
]


@pytest.fixture
def wsgi_app():
    """The WSGI app, called in-process inside the test's transaction.

    Django closes "old" connections when a request starts and ends, which would close the
    test's connection mid-transaction; its test client disconnects those handlers, and so does
    this fixture.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db, system_actor) -> str:
    AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    AttributeDefinition.objects.create(
        name="Cart", data_type=DataType.LIST_OF_OBJECTS, object_schema={"product": "STRING"}
    )
    person_create(
        actor=system_actor,
        fields={"externalId": "0", "firstName": "Fuzz"},
        tags=["0"],
        custom_attributes={"Age": 1, "Cart": [{"product": "x"}]},
    )
    return ApiKey.issue(name="fuzzer", role=ApiKeyRole.MANAGE)[1]


@pytest.mark.postgres_only
@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "method", "mode"),
    CASES,
    ids=[f"{method} {path} {mode.value}" for path, method, mode in CASES],
)
def test_generated_requests_get_no_server_error_and_match_the_schema(
    wsgi_app, api_key, path, method, mode
):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    operation = schema[path][method]
    headers = {"Authorization": f"App {api_key}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call(headers=headers)
        # Negative cases are meant to be refused: only the shape of the refusal is checked.
        checks = (
            CONFORMANCE if mode == GenerationMode.POSITIVE else CONFORMANCE[:1] + CONFORMANCE[2:]
        )
        case.validate_response(response, checks=checks)

    check()
