"""Custom event definitions over HTTP, the vendor's paths: /peopleevents/2/definitions.

Read with any key (or an operator who may view); create and change with a manage key or an
Administrator, as custom attribute definitions. Included at /peopleevents/2/ by portal/urls.py.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api.errors import RequestFormatInvalid
from core.api.schema import ErrorBodySerializer, error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from people import event_definitions as definitions
from people.api.actors import actor_from_request
from people.models import CustomEventDefinition

TAGS = ["events"]
DEFINITION_ID = OpenApiParameter(
    "definitionId", str, OpenApiParameter.PATH, description="Event definition identifier"
)
DEFINITION = OpenApiResponse(OpenApiTypes.OBJECT, description="An EventDefinitionResource")
DEFINITIONS = OpenApiResponse(
    {"type": "array", "items": {"type": "object"}}, description="EventDefinitionResources"
)
MAX_LIMIT = 1000


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise RequestFormatInvalid({"request": ["The request body must be a JSON object."]})
    return data


def _whole(request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise RequestFormatInvalid({name: [f"{name} must be a whole number from 0."]})
    return int(raw)


def _definition(definition_id: str) -> CustomEventDefinition:
    found = definitions.definition_named(definition_id)
    if found is None:
        raise DomainError(
            ErrorCode.NOT_FOUND, f"There is no event definition {definition_id!r}.", "definitionId"
        )
    return found


class EventDefinitionsView(VendorAPIView):
    administrator_methods = frozenset({"POST"})

    @extend_schema(
        operation_id="list-event-definitions",
        summary="List event definitions",
        parameters=[
            OpenApiParameter("offset", int, description="Definitions to skip"),
            OpenApiParameter("limit", int, description=f"At most this many (up to {MAX_LIMIT})"),
            OpenApiParameter("searchText", str, description="In the id, title or description"),
        ],
        responses={200: DEFINITIONS, **error_responses(400)},
        tags=TAGS,
    )
    def get(self, request):
        offset = _whole(request, "offset", 0)
        limit = min(_whole(request, "limit", 100), MAX_LIMIT)
        rows = CustomEventDefinition.objects.all()
        text = request.query_params.get("searchText", "").strip()
        if text:
            rows = rows.filter(
                Q(definition_id__icontains=text)
                | Q(title__icontains=text)
                | Q(description__icontains=text)
            )
        page = rows.order_by("definition_id")[offset : offset + limit]
        return Response([definitions.event_definition_body(row) for row in page])

    @extend_schema(
        operation_id="create-event-definition",
        summary="Create a custom event definition",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            201: DEFINITION,
            409: OpenApiResponse(ErrorBodySerializer, description="The definitionId exists"),
            **error_responses(400),
        },
        tags=TAGS,
    )
    def post(self, request):
        body = _object(request.data)
        unknown = sorted(set(body) - {"definitionId", "title", "description", "fields"})
        if unknown:
            raise RequestFormatInvalid({unknown[0]: ["Not a property of an event definition."]})
        definition = definitions.event_definition_create(
            definition_id=body.get("definitionId"),
            title=body.get("title"),
            description=body.get("description"),
            fields=body.get("fields"),
            actor=actor_from_request(request),
        )
        return Response(
            definitions.event_definition_body(definition), status=status.HTTP_201_CREATED
        )


class EventDefinitionView(VendorAPIView):
    administrator_methods = frozenset({"POST"})

    @extend_schema(
        operation_id="get-event-definition",
        summary="One event definition",
        parameters=[DEFINITION_ID],
        responses={200: DEFINITION, **error_responses(404)},
        tags=TAGS,
    )
    def get(self, request, definitionId: str):
        return Response(definitions.event_definition_body(_definition(definitionId)))

    @extend_schema(
        operation_id="update-event-definition",
        summary="Change the title or description, add fields (never remove or retype one)",
        parameters=[DEFINITION_ID],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: DEFINITION, **error_responses(400, 404)},
        tags=TAGS,
    )
    def post(self, request, definitionId: str):
        body = _object(request.data)
        unknown = sorted(set(body) - {"title", "description", "fields"})
        if unknown:
            raise RequestFormatInvalid({unknown[0]: ["Not a property of an event definition."]})
        definition = definitions.event_definition_update(
            definition=_definition(definitionId),
            title=body.get("title"),
            description=body.get("description"),
            fields=body.get("fields"),
            actor=actor_from_request(request),
        )
        return Response(definitions.event_definition_body(definition))


urlpatterns = [
    path("definitions", EventDefinitionsView.as_view(), name="api-event-definitions"),
    path(
        "definitions/<str:definitionId>",
        EventDefinitionView.as_view(),
        name="api-event-definition",
    ),
]
