"""Saved views in the operator UI: the Views menu of the search page, saving the search shown,
opening a view (the search page with its query), and the page that manages them (rename,
share, delete). Every write is a service of populations.saved_views; who may do what is
decided there."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from core import roles
from core.access import operator_required
from core.errors import DomainError
from directory.forms import SearchForm
from directory.search import SearchQuery
from directory.views.search import search
from populations import saved_views
from populations.builtin_views import BUILTIN_VIEWS, builtin_view
from populations.models import SavedView


def _open(request: HttpRequest, view: object, query: SearchQuery) -> HttpResponse:
    """The search page as it shows ``query``: its form's parameters stand for the request's
    own (the page's links and the URL it pushes then carry them), titled by ``view``."""
    request.GET = QueryDict(urlencode(SearchForm.params_of(query)))
    return search(request, view=view)


@operator_required
@require_GET
def open_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A saved view the operator may open (others: 404, as if it did not exist)."""
    view = get_object_or_404(saved_views.visible_views(request.user), pk=pk)
    return _open(request, view, saved_views.query_of(view))


@operator_required
@require_GET
def open_builtin(request: HttpRequest, key: str) -> HttpResponse:
    view = builtin_view(key)
    if view is None:
        raise Http404("No such built-in view.")
    return _open(request, view, view.query)


@operator_required
@require_GET
def views_menu(request: HttpRequest) -> HttpResponse:
    """The Views menu's list (loaded when the menu is first opened, so the search page
    itself reads no view): built-in views, the operator's own, those shared with them."""
    context = {
        "builtins": BUILTIN_VIEWS,
        "menu": saved_views.views_menu(request.user),
        "current": request.GET.get("current", ""),
    }
    return render(request, "populations/_views_menu.html", context)


def _search_params(request: HttpRequest) -> QueryDict:
    """The search to save: the search form's own fields when they come along (htmx includes
    them, so they are what the operator sees now), else the parameters of the page's URL
    as it was rendered."""
    if "q" in request.POST:
        return request.POST
    return QueryDict(urlsplit(request.POST.get("search_url", "")).query)


@operator_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    """Save the search shown as a new private view of the operator, then open it."""
    name = request.POST.get("name", "")
    form = SearchForm(_search_params(request), given_choices_only=True)
    try:
        if not form.is_valid():
            raise DomainError("BAD_REQUEST", "Fix the search before saving it.", "query")
        view = saved_views.saved_view_create(owner=request.user, name=name, query=form.to_query())
    except DomainError as error:
        context = {"save_error": error.message, "save_name": name}
        if request.htmx:
            return render(request, "populations/_save_view_form.html", context)
        return render(request, "populations/views_save.html", context, status=400)
    url = reverse("populations:open", args=[view.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@operator_required
@require_GET
def views_page(request: HttpRequest) -> HttpResponse:
    """Built-in views, the operator's views (with their rename, share and delete forms) and
    those shared with them; an Administrator manages every view."""
    menu = saved_views.views_menu(request.user)
    context = {
        "builtins": BUILTIN_VIEWS,
        "menu": menu,
        "role_names": list(roles.ROLE_PERMISSIONS),
        "operators": User.objects.filter(is_active=True).order_by("username"),
        "is_administrator": saved_views.is_administrator(request.user),
        "sharing": _sharing(menu.mine + menu.shared),
    }
    return render(request, "populations/views.html", context)


def _sharing(views: list[SavedView]) -> dict[int, dict[str, set]]:
    """View id -> the role names and operator ids it is shared with: two statements."""
    sharing: dict[int, dict[str, set]] = {
        view.pk: {"roles": set(), "users": set()} for view in views
    }
    roles_through = SavedView.shared_with_roles.through.objects.filter(savedview_id__in=sharing)
    for view_id, role in roles_through.values_list("savedview_id", "group__name"):
        sharing[view_id]["roles"].add(role)
    users_through = SavedView.shared_with_users.through.objects.filter(savedview_id__in=sharing)
    for view_id, user_id in users_through.values_list("savedview_id", "user_id"):
        sharing[view_id]["users"].add(user_id)
    return sharing


def _managed(request: HttpRequest, pk: int) -> SavedView:
    """The view, if the operator may open it (else 404); changing it is the service's call."""
    return get_object_or_404(saved_views.visible_views(request.user), pk=pk)


def _done(request: HttpRequest, call, success: str) -> HttpResponse:
    try:
        call()
    except DomainError as error:
        if error.code == "FORBIDDEN":
            return HttpResponse(error.message, status=403)
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("populations:views")


@operator_required
@require_POST
def edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename or describe a view."""
    view = _managed(request, pk)
    return _done(
        request,
        lambda: saved_views.saved_view_update(
            view=view,
            user=request.user,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
        ),
        "View saved.",
    )


@operator_required
@require_POST
def share_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Share a view with exactly the roles and operators checked."""
    view = _managed(request, pk)
    user_ids = [value for value in request.POST.getlist("users") if value.isdigit()]
    users = list(User.objects.filter(pk__in=user_ids, is_active=True))
    return _done(
        request,
        lambda: saved_views.saved_view_share(
            view=view, user=request.user, roles_shared=request.POST.getlist("roles"), users=users
        ),
        f"Sharing of “{view.name}” saved.",
    )


@operator_required
@require_POST
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = _managed(request, pk)
    return _done(
        request,
        lambda: saved_views.saved_view_delete(view=view, user=request.user),
        f"View “{view.name}” deleted.",
    )
