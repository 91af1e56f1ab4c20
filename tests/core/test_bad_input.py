"""Input that used to answer 500 answers a 4xx naming the field (issue 24, item 11).

Each reproduction of the outside attack: a charset that is a codec but not a text encoding
(or not ASCII-compatible) on an API write or the sign-in form, an If-Match tag with 5,000
digits, an INTEGER typed with 4,400 digits in the operator UI, NUL characters in query
parameters (PostgreSQL refuses them in any comparison), lone surrogates and deep nesting in
the JSON editors of the operator UI and admin.
"""

from __future__ import annotations

import io
import json
import wsgiref.util

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from core.models import ApiKey, ApiKeyRole
from people.models import AttributeValue
from tests.admin.test_person_admin import change_url, person_form, with_identities
from tests.profiles import HTMX, make_profile
from tests.vendor_api import assert_vendor_error, key_client

pytestmark = pytest.mark.django_db

PERSONS = "/people/2/persons"
CODECS = ["rot13", "base64", "hex", "zlib", "uu", "bz2", "quopri"]
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a": ' * 5000 + "1" + "}" * 5000
SURROGATE = '{"a": "\\ud800"}'


@pytest.fixture
def profile(system_actor):
    return make_profile(system_actor)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def served(method: str, url: str, body: bytes, content_type: str, **headers: str):
    """(status, headers, body) of one request through portal.wsgi.application, the callable
    gunicorn serves: Django builds the request (and decodes its query string) in there."""
    from portal.wsgi import application

    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    wsgiref.util.setup_testing_defaults(environ)
    environ["SERVER_NAME"] = environ["HTTP_HOST"] = "testserver"
    started: dict = {}

    def start_response(status, response_headers, exc_info=None):
        started.update(status=int(status.split()[0]), headers=dict(response_headers))

    # As Django's test client does: the test's connection holds its transaction open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        content = b"".join(response)
        getattr(response, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], content


def validation_errors(response, status: int = 400) -> dict[str, list[str]]:
    return assert_vendor_error(response, status).get("validationErrors", {})


# ---------------------------------------------------------------------------------------------
# Charsets


@pytest.mark.parametrize("charset", [*CODECS, "utf-16", "utf-7", "no-such-charset"])
def test_an_api_write_with_a_charset_that_is_no_text_encoding_is_refused(profile, charset):
    client = key_client(ApiKeyRole.MANAGE)
    response = client.generic(
        "POST",
        PERSONS,
        b'{"firstName": "Zed"}',
        content_type=f"application/json; charset={charset}",
    )
    assert list(validation_errors(response, 415)) == ["Content-Type"]


@pytest.mark.parametrize("charset", [*CODECS, "utf-16"])
def test_the_sign_in_form_with_a_charset_that_is_no_text_encoding_is_a_400(db, charset):
    client = Client()
    response = client.generic(
        "POST",
        reverse("login"),
        b"username=vera&password=correct-horse-battery",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 400
    assert "Content-Type" in response.content.decode()


@pytest.mark.parametrize("charset", ["rot13", "zlib", "utf-16", "no-such-charset"])
def test_an_api_write_with_a_query_and_a_bad_charset_is_refused_before_django_reads_it(
    profile, charset
):
    """PATCH /persons?type=ID&identifier=...: Django decoded the query string with the
    charset while it built the request, outside every middleware (gunicorn's bare 500)."""
    _, key = ApiKey.issue(name="crm", role=ApiKeyRole.MANAGE)
    status, headers, content = served(
        "PATCH",
        f"{PERSONS}?type=ID&identifier={profile.person.pk}",
        b'{"firstName": "Zed"}',
        f"application/json; charset={charset}",
        authorization=f"App {key}",
    )
    assert status == 415
    assert headers["Content-Type"] == "application/json"
    exception = json.loads(content)["requestError"]["serviceException"]
    assert list(exception["validationErrors"]) == ["Content-Type"]
    profile.person.refresh_from_db()
    assert profile.person.first_name != "Zed"


def test_a_page_read_with_a_bad_charset_is_a_400(profile):
    status, _, content = served("GET", "/?q=ana", b"", "text/plain; charset=rot13")
    assert status == 400
    assert b"Content-Type" in content


def test_a_good_request_passes_the_served_application(profile):
    _, key = ApiKey.issue(name="crm", role=ApiKeyRole.READ)
    url = f"{PERSONS}?type=ID&identifier={profile.person.pk}"
    status, _, content = served(
        "GET", url, b"", "application/json; charset=utf-8", authorization=f"App {key}"
    )
    assert status == 200, content
    assert json.loads(content)["id"] == profile.person.pk


def test_utf_8_in_any_spelling_is_still_read(profile):
    client = key_client(ApiKeyRole.MANAGE)
    for charset in ["utf-8", "UTF-8", "utf8", '"utf-8"']:
        response = client.generic(
            "POST",
            PERSONS,
            '{"firstName": "Žana"}'.encode(),
            content_type=f"application/json; charset={charset}",
        )
        assert response.status_code == 200, (charset, response.content)


# ---------------------------------------------------------------------------------------------
# If-Match


@pytest.mark.parametrize("tag", ['W/"1-' + "9" * 5000 + '"', '"' + "1" * 5000 + '-1"'])
def test_an_if_match_with_thousands_of_digits_is_refused_naming_the_header(profile, tag):
    client = key_client(ApiKeyRole.MANAGE)
    url = f"{PERSONS}?type=ID&identifier={profile.person.pk}"
    response = client.patch(url, {"firstName": "Zed"}, format="json", HTTP_IF_MATCH=tag)
    assert list(validation_errors(response)) == ["If-Match"]
    profile.person.refresh_from_db()
    assert profile.person.first_name != "Zed"


def test_a_person_id_with_thousands_of_digits_is_nobody(profile):
    client = key_client(ApiKeyRole.READ)
    response = client.get(PERSONS, {"type": "ID", "identifier": "9" * 5000})
    assert_vendor_error(response, 404)


# ---------------------------------------------------------------------------------------------
# The operator UI's attribute editor


def test_an_integer_of_4400_digits_in_the_attribute_editor_is_refused_at_the_attribute(
    editor_client, profile
):
    visits = profile.definitions["Visits"]
    url = reverse("people:attribute_set", args=[profile.person.pk, visits.pk])
    response = editor_client.post(url, {"value": "9" * 4400}, **HTMX)
    assert response.status_code == 422
    assert "Visits must be between" in response.content.decode()


def test_a_list_row_quantity_of_4400_digits_is_refused_at_the_attribute(editor_client, profile):
    orders = profile.definitions["Orders"]
    before = list(AttributeValue.objects.filter(definition=orders).values())
    url = reverse("people:attribute_set", args=[profile.person.pk, orders.pk])
    data = {"rows": "1", "row-0-sku": "A-1", "row-0-qty": "7" * 4400}
    response = editor_client.post(url, data, **HTMX)
    assert response.status_code == 422
    assert "Orders[0].qty must be between" in response.content.decode()
    assert list(AttributeValue.objects.filter(definition=orders).values()) == before


# ---------------------------------------------------------------------------------------------
# NUL in query parameters


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("viewer", "/tags/suggest?name=%00"),
        ("viewer", "/tags/suggest?tags=a,%00b"),
        ("viewer", "/?q=ana&%00=1"),
        ("administrator", "/admin/people/person/?type__exact=%00"),
        ("administrator", "/admin/people/person/?q=%00"),
        (
            "administrator",
            "/admin/autocomplete/?app_label=people&model_name=person&field_name=tags&term=%00",
        ),
        (
            "administrator",
            "/admin/autocomplete/?app_label=auth&model_name=user&field_name=groups&term=%00",
        ),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_the_parameter(
    client, viewer, administrator, who, url
):
    client.force_login(viewer if who == "viewer" else administrator)
    response = client.get(url)
    assert response.status_code == 400
    assert "must not contain NUL characters" in response.content.decode()


def test_a_nul_in_an_api_query_parameter_is_a_400_in_the_vendor_body(profile):
    client = key_client(ApiKeyRole.READ)
    response = client.get(PERSONS, {"orderBy": "firstName\x00"})
    assert list(validation_errors(response)) == ["orderBy"]


# ---------------------------------------------------------------------------------------------
# The additionalData editor of an installation card


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (DEEP, "additionalData"),
        (DEEP_OBJECT, "additionalData"),
        (SURROGATE, "additionalData.a"),
        ('{"\\ud800": 1}', "additionalData"),
        ('{"a": 1E+1000000}', "additionalData.a"),
    ],
)
def test_the_additional_data_editor_refuses_what_no_column_can_hold_in_place(
    editor_client, profile, text, field
):
    before = profile.primary.additional_data
    url = reverse("installations:set_additional_data", args=[profile.primary.pk])
    response = editor_client.post(url, {"additional_data": text}, **HTMX)
    assert response.status_code == 422
    assert field in response.content.decode()
    profile.primary.refresh_from_db()
    assert profile.primary.additional_data == before


def test_a_malformed_shown_value_beside_additional_data_is_ignored(editor_client, profile):
    url = reverse("installations:set_additional_data", args=[profile.primary.pk])
    data = {"additional_data": '{"tier": "gold"}', "additional_data_shown": DEEP}
    response = editor_client.post(url, data, **HTMX)
    assert response.status_code == 200
    profile.primary.refresh_from_db()
    assert profile.primary.additional_data["tier"] == "gold"


# ---------------------------------------------------------------------------------------------
# Admin's JSON editor of a person


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"Nickname": "\\ud800"}', "Nickname: text must be valid Unicode"),
        ('{"Nickname": "a\\u0000b"}', "Nickname: text must not contain NUL"),
        (DEEP, "nests more than"),
        ('{"Orders": ' + DEEP + "}", "nests more than"),
    ],
)
def test_admin_refuses_custom_attributes_no_column_can_hold_at_the_field(
    client, administrator, profile, text, says
):
    client.force_login(administrator)
    person = profile.person
    version = person.version
    data = with_identities(person, person_form(person, custom_attributes_text=text))
    response = client.post(change_url(person), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert says in " ".join(errors["custom_attributes_text"])
    person.refresh_from_db()
    assert person.version == version
