"""Refuse, for every page and API path, request parts no view can read: a body charset that
is not an ASCII-compatible text encoding, and NUL characters in query parameters.

Both used to surface deep inside a view as a 500 (issue 24, item 11): Django decodes the
query string and a form body with the request's charset, and ``rot13``, ``base64`` or
``zlib`` are codecs Python knows but not text encodings (a LookupError on the first read of
``request.GET`` or ``request.POST``); ``utf-16`` turns a form's ASCII into lone surrogates;
PostgreSQL refuses a NUL in any text it compares (a DataError in the tag suggestions, admin's
list filters and autocomplete). Here they are a 400 (a 415 for the charset of an API request)
naming the parameter, in the vendor's error body under the API's paths.

Django decodes the query string with the charset while it builds the request, before any
middleware runs: ``CharsetGuard`` wraps the WSGI application (portal/wsgi.py) to answer such
a request first; the middleware checks the same for other servers and the test client.
"""

from __future__ import annotations

import codecs
import functools
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import parse_header_parameters

from core.api.errors import error_body
from core.api.paths import is_api_path
from installations.api.push_errors import is_push_path, push_error_body

# Query strings and form bodies are ASCII (percent-encoded), read with the request's charset:
# a charset must read this text as itself (so not utf-16, utf-7, unicode_escape, EBCDIC...).
_ASCII_PROBE = "".join(chr(code) for code in range(32, 127)) + "\\u0041\\x41"


@functools.lru_cache(maxsize=64)
def charset_problem(charset: str) -> str | None:
    """Why a request may not declare ``charset``, or None when it may."""
    try:
        codecs.lookup(charset)
    except (LookupError, ValueError):
        return f"charset {charset!r} is not an encoding this server knows; send UTF-8."
    try:
        readable = (
            _ASCII_PROBE.encode(charset) == _ASCII_PROBE.encode("ascii")
            and _ASCII_PROBE.encode("ascii").decode(charset) == _ASCII_PROBE
        )
    except (LookupError, ValueError):  # rot13, base64, zlib...: codecs, not text encodings
        readable = False
    if not readable:
        return f"charset {charset!r} is not an ASCII-compatible text encoding; send UTF-8."
    return None


def request_problem(request: HttpRequest) -> tuple[int, str, str] | None:
    """(status, field, message) of the first part of ``request`` no view could read."""
    charset = request.content_params.get("charset")
    if charset is not None:
        problem = charset_problem(charset)
        if problem:
            return 415, "Content-Type", problem
    # Only now may request.GET be read: it is decoded with the charset checked above.
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            field = name.replace("\x00", "\\x00")
            return 400, field, f"Query parameter {field!r} must not contain NUL characters."
    return None


def refusal_body(path: str, status: int, field: str, message: str) -> tuple[int, str, bytes]:
    """(status, content type, body): the vendor's error body under the API's paths, else a
    small page (a page answers 400 whatever the cause: a browser shows the text either way)."""
    if is_api_path(path):
        # The push API answers its 400s in the vendor's push error body.
        make_body = push_error_body if status == 400 and is_push_path(path) else error_body
        body = make_body("BAD_REQUEST", message, {field: [message]})
        return status, "application/json", json.dumps(body).encode()
    html = render_to_string("portal/bad_request.html", {"field": field, "message": message})
    return 400, "text/html; charset=utf-8", html.encode()


def refusal(request: HttpRequest, status: int, field: str, message: str) -> HttpResponse:
    status, content_type, body = refusal_body(request.path, status, field, message)
    return HttpResponse(body, status=status, content_type=content_type)


class CharsetGuard:
    """WSGI: refuses a Content-Type charset no view can read before Django builds the request
    (building it decodes the query string with that charset: a LookupError there is
    gunicorn's bare 500)."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        _, params = parse_header_parameters(environ.get("CONTENT_TYPE", ""))
        problem = charset_problem(params["charset"]) if "charset" in params else None
        if problem is None:
            return self.application(environ, start_response)
        path = environ.get("PATH_INFO", "")
        status, content_type, body = refusal_body(path, 415, "Content-Type", problem)
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        return [body]


class RequestGuardMiddleware:
    """Place it before anything that reads request.GET or request.POST (CSRF, sessions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_problem(request)
        if problem is not None:
            return refusal(request, *problem)
        return self.get_response(request)
