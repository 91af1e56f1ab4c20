"""Access decorators of the operator UI's views: who may read, edit and delete."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from core.roles import can_delete_people, can_edit


def operator_required(view: Callable) -> Callable:
    """Signed-in operators only; anyone else goes to the sign-in page.

    An htmx request (a partial of a page) sends the whole browser there with HX-Redirect,
    coming back to the page it was on, instead of swapping the sign-in form into a section.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            back = request.htmx.current_url_abs_path or reverse("home")
            return HttpResponseClientRedirect(
                f"{resolve_url(settings.LOGIN_URL)}?next={quote(back)}"
            )
        return redirect_to_login(request.get_full_path())

    return wrapper


def edit_required(view: Callable) -> Callable:
    """Signed-in operators who may edit; viewers get 403 (anonymous: the sign-in page)."""

    @operator_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_edit(request.user):
            raise PermissionDenied("Your role can only read profiles.")
        return view(request, *args, **kwargs)

    return wrapper


def delete_required(view: Callable) -> Callable:
    @operator_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_delete_people(request.user):
            raise PermissionDenied("Only administrators delete people.")
        return view(request, *args, **kwargs)

    return wrapper
