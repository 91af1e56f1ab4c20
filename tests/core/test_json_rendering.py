"""The API's JSON out: orjson's bytes are simplejson's, and what orjson cannot write still goes out.

The renderer writes with orjson and falls back to simplejson; the person rows' related JSON
(people.profiles.RelatedRowsField) is read with orjson and falls back to Django's JSONField.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
import simplejson
from django.db.models import JSONField
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.api.json import ExactJSONRenderer
from people.profiles import RelatedRowsField


def simplejson_bytes(data) -> bytes:
    """What the renderer wrote before orjson (and writes when orjson cannot)."""
    return simplejson.dumps(
        data,
        use_decimal=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=lambda value: JSONEncoder().default(value),
    ).encode("utf-8")


BODY = ReturnDict(
    {
        "id": 42,
        "firstName": "Zoë",
        "lastName": 'Horvat 𝄞 \u2028 "quoted" \\ tab\t',
        "balance": Decimal("12345678901234.50"),
        "tiny": Decimal("0.00000000000000000001"),
        "negative": Decimal("-0"),
        "exponent": Decimal("1E+2"),
        "ratio": 0.1,
        "big": 9223372036854775807,
        "small": -9223372036854775807,
        "optIn": False,
        "nothing": None,
        "createdAt": dt.datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=dt.UTC),
        "localTime": dt.datetime(2026, 11, 24, 9, 30, 15),
        "birthDate": dt.date(1990, 2, 28),
        "at": dt.time(8, 15, 30),
        "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "label": gettext_lazy("Customer"),
        "error": ErrorDetail("firstName must be text.", code="invalid"),
        "tags": ReturnList(["VIP", "Newsletter"], serializer=None),
        "tuple": ("a", 1),
        "nested": {"list": [{"Amount": Decimal("1.10")}], 1: "an integer key", None: "no key"},
    },
    serializer=None,
)


def test_the_renderer_writes_what_simplejson_wrote_byte_for_byte():
    assert ExactJSONRenderer().render(BODY) == simplejson_bytes(BODY)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(2**70, id="an integer beyond 64 bits"),
    ],
)
def test_what_orjson_cannot_write_as_simplejson_did_goes_out_as_before(value):
    body = {"value": value, "balance": Decimal("0.50")}
    rendered = ExactJSONRenderer().render(body)
    assert rendered == simplejson_bytes(body)
    assert b'"balance":0.50' in rendered


def test_a_value_neither_can_write_is_still_a_type_error():
    with pytest.raises(TypeError):
        ExactJSONRenderer().render({"value": object()})


def test_nothing_renders_as_an_empty_body():
    assert ExactJSONRenderer().render(None) == b""


DOCUMENTS = [
    '[{"id": 1, "value": "+385 1 6419 710", "kind": "PHONE"}]',
    '[{"id": 2, "additional_data": {"n": 9223372036854775807, "m": -9223372036854775807,'
    ' "f": 1.10, "t": true, "s": "Zoë 𝄞"}, "created_at": "2026-11-24T09:30:15.123456+00:00"}]',
    '[{"value_number": "12.50", "value_json": [{"a": null}], "definition": {"id": 3}}]',
    "[]",
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_related_rows_read_as_the_standard_decoder_reads_them(document):
    field = RelatedRowsField()
    value = field.from_db_value(document, None, None)
    assert value == json.loads(document)
    assert value == JSONField().from_db_value(document, None, None)
    assert [type(v) for v in _leaves(value)] == [type(v) for v in _leaves(json.loads(document))]


def test_related_rows_orjson_refuses_go_to_the_standard_decoder():
    # A lone surrogate escape: PostgreSQL's jsonb never sends one, json.loads reads it.
    document = '[{"value": "\\ud800"}]'
    assert RelatedRowsField().from_db_value(document, None, None) == [{"value": "\ud800"}]


def test_related_rows_leave_a_null_alone():
    assert RelatedRowsField().from_db_value(None, None, None) is None


def _leaves(value):
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value
