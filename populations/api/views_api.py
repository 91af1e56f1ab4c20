"""The API's saved views (under /people/2/): the views a caller may open, and the people of
one, answered as the People API's list (``GET /people/2/persons``: the same body, page
parameters and masking).

Who sees which view (populations.saved_views): an API key sees the built-in device hygiene
views and every view shared with a role (any of Viewer, Editor, Administrator); views kept
private or shared with chosen operators only are not for automation. An operator's session
sees what the Views menu lists. Built-in views have the ids ``hygiene-<key>``; saved views
their number.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.schema import error_responses
from core.api.views import VendorAPIView
from directory.api.filters import api_query, person_ordering
from directory.search import SearchQuery, people_of
from people import masking
from people.api import serializers as bodies
from people.api.filters import page_of
from people.api.views import page_parameters
from people.models import Person
from people.profiles import profiles
from populations import saved_views
from populations.builtin_views import API_PREFIX, BUILTIN_VIEWS, builtin_view

VIEW_FIELDS = {
    "id": serializers.CharField(help_text='A number, or "hygiene-<key>" for a built-in view'),
    "name": serializers.CharField(),
    "description": serializers.CharField(),
    "builtIn": serializers.BooleanField(),
    "owner": serializers.CharField(allow_null=True, help_text="The owner's username"),
    "query": serializers.DictField(help_text="The query: SearchQuery.to_dict()"),
    "sharedWithRoles": serializers.ListField(child=serializers.CharField()),
}
ViewList = inline_serializer(
    "SavedViewList", {"views": inline_serializer("SavedView", VIEW_FIELDS, many=True)}
)
VIEW_ID = OpenApiParameter(
    "viewId", str, OpenApiParameter.PATH, description='A view\'s id: a number or "hygiene-<key>"'
)


def _builtin_body(view) -> dict[str, Any]:
    return {
        "id": view.api_id,
        "name": view.name,
        "description": view.description,
        "builtIn": True,
        "owner": None,
        "query": view.query.to_dict(),
        "sharedWithRoles": [],
    }


class ViewsView(VendorAPIView):
    """The views the caller may open: the built-in ones first, then saved ones by name."""

    @extend_schema(
        operation_id="list-views",
        summary="The views the caller may open (API keys: built-in and shared with a role)",
        responses={200: ViewList, **error_responses(400)},
        tags=["views"],
    )
    def get(self, request):
        saved = list(saved_views.visible_views(request.user).prefetch_related("shared_with_roles"))
        body = [_builtin_body(view) for view in BUILTIN_VIEWS]
        body += [
            {
                "id": view.api_id,
                "name": view.name,
                "description": view.description,
                "builtIn": False,
                "owner": view.owner.get_username(),
                "query": view.query,
                "sharedWithRoles": sorted(group.name for group in view.shared_with_roles.all()),
            }
            for view in saved
        ]
        return Response({"views": body})


def view_query(user: object, view_id: str) -> SearchQuery:
    """The query of the view ``view_id`` if ``user`` may open it; NotFound otherwise."""
    if view_id.startswith(API_PREFIX):
        builtin = builtin_view(view_id.removeprefix(API_PREFIX))
        if builtin is not None:
            return builtin.query
    elif view_id.isdigit() and len(view_id) < 19:
        view = saved_views.visible_views(user).filter(pk=int(view_id)).first()
        if view is not None:
            return saved_views.query_of(view)
    raise NotFound(f"No view {view_id[:40]!r}.")


class ViewPersonsView(VendorAPIView):
    """The people a view finds, as the People API's list answers them."""

    @extend_schema(
        operation_id="get-the-people-of-a-view",
        summary="A page of the people a view finds (the body of GET /people/2/persons)",
        parameters=[
            VIEW_ID,
            *page_parameters("firstName, lastName, createdAt or modifiedAt, with :asc or :desc"),
        ],
        responses={200: bodies.PersonListSerializer, **error_responses(400, 404)},
        tags=["views"],
    )
    def get(self, request, viewId: str):
        query = view_query(request.user, viewId)
        pages = api_query(request.query_params)
        order_by, ordering = person_ordering(pages.order_by or "")
        shown = (
            (lambda body: body)
            if masking.sees_personal_data(request.user)
            else bodies.masked_person_body
        )
        people, total = page_of(
            people_of(query).order_by(*ordering),
            {"page": pages.page, "limit": pages.limit, "includeTotalCount": pages.include_total},
            rows_of=lambda ids: profiles(Person.objects.filter(pk__in=ids)),
        )
        body: dict[str, Any] = {
            "persons": [shown(bodies.person_body(person)) for person in people],
            "limit": pages.limit,
            "page": pages.page,
            "orderBy": order_by,
        }
        if total is not None:
            body["totalCount"] = total
        return Response(body)
