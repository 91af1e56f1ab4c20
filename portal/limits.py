"""handler400: a request over one of Django's request limits, answered by that limit's name.

Django refuses a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (before reading it, by its
Content-Length) and a form with more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields or
DATA_UPLOAD_MAX_NUMBER_FILES files, and hands the refusal to handler400, whose default is an
HTML "Bad Request (400)" that names nothing (issue 24, item 12). Under the API's paths the
answer is the vendor's error body naming the limit (413 for the body size, 400 for the
counts); the pages keep HTML, a 413 page for the size and Django's 400 page otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.defaults import bad_request as django_bad_request

from core.api.errors import error_body
from core.api.paths import is_api_path
from installations.api.push_errors import is_push_path, push_error_body

REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"


def over_limit(exception: Exception) -> tuple[int, str, str] | None:
    """(status, messageId, text) for a request over a limit; None for any other 400."""
    if isinstance(exception, RequestDataTooBig):
        size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return (
            413,
            REQUEST_TOO_LARGE,
            f"The request body is larger than {size} bytes ({size / 1024 / 1024:g} MiB, "
            "DATA_UPLOAD_MAX_MEMORY_SIZE); send a batch in smaller parts.",
        )
    if isinstance(exception, TooManyFieldsSent):
        return (
            400,
            "BAD_REQUEST",
            f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields "
            "(DATA_UPLOAD_MAX_NUMBER_FIELDS).",
        )
    if isinstance(exception, TooManyFilesSent):
        return (
            400,
            "BAD_REQUEST",
            f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files "
            "(DATA_UPLOAD_MAX_NUMBER_FILES).",
        )
    return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    limit = over_limit(exception)
    if is_api_path(request.path):
        status, message_id, text = limit or (400, "BAD_REQUEST", "Bad request.")
        # The push API answers its 400s in the vendor's push error body.
        make_body = push_error_body if status == 400 and is_push_path(request.path) else error_body
        return JsonResponse(make_body(message_id, text, {"body": [text]}), status=status)
    if limit is not None and limit[0] == 413:
        return render(request, "errors/413.html", {"text": limit[2]}, status=413)
    return django_bad_request(request, exception)
