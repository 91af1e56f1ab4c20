"""JSON in and out with exact decimals: 12.50 stays 12.50, never 12.499999."""

from __future__ import annotations

from decimal import Decimal

import simplejson
from django.conf import settings
from rest_framework import parsers, renderers
from rest_framework.exceptions import ParseError


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class ExactJSONParser(parsers.JSONParser):
    """Numbers with a fraction are read as Decimal; NaN and Infinity are refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            return simplejson.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class ExactJSONRenderer(renderers.JSONRenderer):
    """Writes Decimal values as JSON numbers with every digit."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return simplejson.dumps(
            data,
            use_decimal=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=self._default,
        ).encode("utf-8")

    @staticmethod
    def _default(value):
        from rest_framework.utils.encoders import JSONEncoder

        return JSONEncoder().default(value)
