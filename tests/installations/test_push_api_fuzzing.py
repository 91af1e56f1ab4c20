"""Schemathesis over this app's own OpenAPI document (/api/schema/), for the push API and the
device API: whatever it sends, the answer is never a server error. Then over the vendor's
document, for the four push operations: every answer is what that document gives, and every
400 its PushApiErrorResponse.

Requests carry valid credentials; most of them also a valid AppCode and the id of a real
installation (re-created when a generated DELETE removed it), so that the bodies reach the
services rather than stopping at 48012/48013.
"""

import zlib
from collections import Counter
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.generation import GenerationMode

from core.models import ApiKey, ApiKeyRole
from installations.models import Application, Installation
from tests.factories import ApplicationFactory, InstallationFactory
from tests.installations.push_support import assert_vendor_shape, vendor_document
from tests.vendor_api import VENDOR_DOCUMENT

PUSH_PATHS = r"^/(people/2/contactInformation/push|mobile/1/appinstance)"
KNOWN_ID = "8621824C-86B2-41F7-BF6F-20D3B1426005"


@dataclass
class World:
    application: Application
    api_key: str

    def known_installation(self) -> str:
        if not Installation.objects.filter(push_registration_id=KNOWN_ID).exists():
            InstallationFactory(application=self.application, push_registration_id=KNOWN_ID)
        return KNOWN_ID


@pytest.fixture
def world(db) -> World:
    _, raw = ApiKey.issue(name="schemathesis", role=ApiKeyRole.MANAGE)
    return World(application=ApplicationFactory(code="schemathesis-app"), api_key=raw)


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    # Django's test client keeps the test's transaction by not closing connections around a
    # request; requests through the WSGI handler must do the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded when the module is collected (pytest-django has configured Django by then); the
# schema view needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()).include(
    path_regex=PUSH_PATHS
)


def aim_at_real_data(case, world: World) -> dict[str, str]:
    """Valid credentials, and (for two cases in three) the real AppCode and installation."""
    generated = repr((case.body, case.path_parameters, case.query, case.headers))
    variant = zlib.crc32(generated.encode()) % 3
    if case.path.startswith("/mobile/"):
        headers = {"Authorization": f"App {world.application.code}"}
    else:
        headers = {"Authorization": f"App {world.api_key}"}
        if variant:
            case.headers = {**(case.headers or {}), "AppCode": world.application.code}
    if case.path_parameters and "pushRegId" in case.path_parameters and variant:
        case.path_parameters["pushRegId"] = world.known_installation()
    if case.path.endswith("/personalize") and isinstance(case.body, dict) and variant == 1:
        # Random identities are almost never valid phones or emails: give one that is.
        device = case.path.startswith("/mobile/")
        key = "userIdentity" if device else "identity"
        name = "externalUserId" if device else "externalId"
        case.body[key] = {name: f"person-{zlib.crc32(generated.encode())}"}
    return headers


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_push_and_device_operations_never_answer_a_server_error(case, world):
    headers = aim_at_real_data(case, world)
    response = case.call(headers=headers)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500


# --- against the vendor's own document ---------------------------------------------------------
#
# The same kind of generated requests, from the vendor's OpenAPI document instead of ours, and
# every answer checked against what that document gives for the operation and status: above
# all, every 400 of the push operations is its PushApiErrorResponse, whatever was refused.

VENDOR_PUSH_OPERATIONS = [
    ("GET", "/people/2/contactInformation/push/{pushRegId}"),
    ("PATCH", "/people/2/contactInformation/push/{pushRegId}"),
    ("POST", "/people/2/contactInformation/push/{pushRegId}/personalize"),
    ("POST", "/people/2/contactInformation/push/{pushRegId}/depersonalize"),
]
vendor_schema = schemathesis.openapi.from_dict(vendor_document(VENDOR_DOCUMENT))
vendor_schema.app = get_wsgi_application()
VENDOR_CASES = [
    (method, path, mode)
    for method, path in VENDOR_PUSH_OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
]


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("method", "path", "mode"),
    VENDOR_CASES,
    ids=[f"{method} {path} {mode.value}" for method, path, mode in VENDOR_CASES],
)
def test_push_operations_answer_as_the_vendor_document_says(world, method, path, mode):
    operation = vendor_schema[path][method]
    statuses: Counter = Counter()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        response = case.call(headers=aim_at_real_data(case, world))
        statuses[response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        if response.status_code == 400:
            assert_vendor_shape(response.json(), "PushApiErrorResponse")
            assert set(response.json()) == {"errorCode", "errorMessage"}

    check()
    assert statuses[400], statuses  # the refusals were reached and checked
