"""The People API's ``persons`` paths that join people and installations: a page of people
(the list's query parameters read as the one query, directory.api.filters, and compiled with
the JSON ``filter``), and deletes, which move a person's installations to fresh anonymous
profiles (installations.depersonalize.person_delete). The rest is people.api.views'.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api.errors import domain_error_response
from core.api.schema import error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from directory import merge as merging
from directory import merge_undo
from directory.api.filters import (
    PERSON_DEFAULT_ORDER,
    PersonFilterSet,
    api_query,
    person_ordering,
)
from directory.revert import revert_event
from directory.search import people_of
from installations.depersonalize import person_delete, person_delete_batch
from people import masking
from people.api import batches as people_batches
from people.api import identities
from people.api import serializers as bodies
from people.api import views as people_api
from people.api.actors import actor_from_request
from people.api.filters import page_of
from people.api.identities import identity_from_params
from people.api.views import (
    ETAG_HEADER,
    IDENTITY_PARAMETERS,
    etag_of,
    expected_version,
    page_parameters,
)
from people.models import Event, Person
from people.profiles import profiles

LIST_PARAMETERS = [
    *page_parameters(
        "firstName, lastName, createdAt or modifiedAt, with :asc or :desc "
        f"(default {PERSON_DEFAULT_ORDER})"
    ),
    OpenApiParameter(
        "filter",
        str,
        description='The vendor\'s JSON filter, e.g. {"#and":[{"firstName":"Alex"},'
        '{"#contains":{"tags":"VIP"}}]}. Operators #and #or #eq #ne #contains #notContain '
        "#startsWith #endsWith #gt #lt #gte #lte; fields: standard attributes, tags, "
        "customAttributes.<name>.",
    ),
]
PersonOrList = PolymorphicProxySerializer(
    component_name="PersonOrPersonList",
    serializers=[bodies.PersonSerializer, bodies.PersonListSerializer],
    resource_type_field_name=None,
)


class PersonsView(people_api.PersonsView):
    """One person by identifier and type, a page of people, create, replace, update, delete."""

    @extend_schema(
        operation_id="get-a-single-person-or-a-list-of-people",
        summary="Get a single person (identifier + type) or a page of people",
        parameters=[*IDENTITY_PARAMETERS, *LIST_PARAMETERS, ETAG_HEADER],
        responses={200: PersonOrList, **error_responses(400, 404)},
        tags=["persons"],
    )
    def get(self, request):
        identity = identity_from_params(request.query_params)
        if identity is not None:
            return super().get(request)
        query = api_query(request.query_params)
        order_by, ordering = person_ordering(query.order_by or "")
        filterset = PersonFilterSet(request.query_params, queryset=people_of(query))
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        params = {
            "page": query.page,
            "limit": query.limit,
            "includeTotalCount": query.include_total,
        }
        # Masked for a caller who may not see personal data (people.masking).
        shown = (
            (lambda body: body)
            if masking.sees_personal_data(request.user)
            else bodies.masked_person_body
        )
        # The page's ids first, then their profiles (page_of).
        people, total = page_of(
            filterset.qs.order_by(*ordering),
            params,
            rows_of=lambda ids: profiles(Person.objects.filter(pk__in=ids)),
        )
        body: dict[str, Any] = {
            "persons": [shown(bodies.person_body(person)) for person in people],
            "limit": query.limit,
            "page": query.page,
            "orderBy": order_by,
        }
        if total is not None:
            body["totalCount"] = total
        return Response(body)

    @extend_schema(
        operation_id="delete-a-person",
        summary="Delete a person; its installations move to fresh anonymous profiles",
        parameters=people_api.IDENTITY_PARAMETERS,
        responses={200: people_api.DONE_RESPONSE, **error_responses(400, 404)},
        tags=["persons"],
    )
    def delete(self, request):
        person_id = identities.resolve(identities.required_identity(request.query_params))
        person_delete(person=person_id, actor=actor_from_request(request))
        return Response(status=status.HTTP_200_OK)


class BatchView(people_batches.BatchView):
    """Create, update or delete many people: a result per item, 207 when some failed."""

    @extend_schema(
        operation_id="batch-people-delete",
        summary=f"Delete up to {bodies.MAX_BATCH} people",
        request=bodies.BatchQueryRequestSerializer,
        responses={
            200: bodies.BatchDeleteResponseSerializer,
            207: bodies.BatchDeleteResponseSerializer,
            **error_responses(400),
        },
        tags=["persons"],
    )
    def delete(self, request):
        people = people_batches.batch_items(request.data)
        outcomes = person_delete_batch(
            actor=actor_from_request(request),
            person_ids=identities.resolve_all(identities.queries_of(people)),
        )
        results = []
        for item, outcome in zip(people, outcomes, strict=True):
            result: dict[str, Any] = {"query": identities.query_echo(item)}
            if isinstance(outcome, Exception):
                result.update(people_batches.failure(outcome))
            else:
                result["status"] = status.HTTP_200_OK
            results.append(result)
        return people_batches.batch_response(results)


# ---------------------------------------------------------------------------------------------
# Revert one history event's change (directory.revert)

RevertConflictSerializer = inline_serializer(
    "RevertConflict",
    {
        "field": serializers.CharField(),
        "now": serializers.JSONField(allow_null=True),
        "restore": serializers.JSONField(allow_null=True),
        "ownerId": serializers.IntegerField(required=False),
    },
    many=True,
)
RevertConflictBodySerializer = inline_serializer(
    "RevertConflictException",
    {
        "requestError": inline_serializer(
            "RevertConflictRequestError",
            {
                "serviceException": inline_serializer(
                    "RevertConflictServiceException",
                    {
                        "messageId": serializers.CharField(),
                        "text": serializers.CharField(),
                        "validationErrors": serializers.DictField(
                            child=serializers.ListField(child=serializers.CharField())
                        ),
                        "conflicts": RevertConflictSerializer,
                    },
                )
            },
        )
    },
)
RevertBodySerializer = inline_serializer(
    "Revert",
    {
        "eventId": serializers.IntegerField(help_text="The event reverted"),
        "revertEventId": serializers.IntegerField(
            allow_null=True,
            help_text="The event the revert recorded (revert it to restore the change); null "
            "when nothing was left to revert",
        ),
        "personId": serializers.IntegerField(),
        "version": serializers.IntegerField(help_text="The person's version after the revert"),
        "changes": serializers.JSONField(help_text="What the revert changed, as history shows"),
    },
)


class EventRevertView(VendorAPIView):
    """Revert one history event's change (a manage key or an Editor)."""

    @extend_schema(
        operation_id="revert-a-history-event",
        summary="Revert one history event's change, unless it changed again since",
        description=(
            "Restores what the event changed: a standard attribute, tags added or removed, a "
            "custom attribute set or removed, a phone or email added or removed, push on/off, "
            "the primary device. The revert is a new history event (revertEventId), which can "
            "be reverted in turn. A value changed again since, a removed phone or email that "
            "another person has now, or an installation gone or moved is a conflict: 409 "
            "REVERT_CONFLICT listing each, nothing written. Kinds without a revert (install, "
            "app launch, custom events, personalize, person created, ...): 409 NOT_REVERTIBLE."
        ),
        parameters=[
            OpenApiParameter("eventId", int, OpenApiParameter.PATH, description="The event"),
            people_api.IF_MATCH_PARAMETER,
            ETAG_HEADER,
        ],
        request=None,
        responses={
            200: RevertBodySerializer,
            409: OpenApiResponse(
                RevertConflictBodySerializer,
                description="REVERT_CONFLICT: changed since (conflicts lists each); "
                "NOT_REVERTIBLE: the event's kind has no revert",
            ),
            **error_responses(400, 404, 412),
        },
        tags=["persons"],
    )
    def post(self, request, eventId: int):
        event_id = eventId
        person_id = Event.objects.filter(pk=event_id).values_list("person_id", flat=True).first()
        version = expected_version(request, person_id) if person_id is not None else None
        try:
            result = revert_event(
                event_id=event_id, actor=actor_from_request(request), expected_version=version
            )
        except DomainError as error:
            if error.code != ErrorCode.REVERT_CONFLICT:
                raise
            response = domain_error_response(error)
            conflicts = error.details["conflicts"]
            exception = response.data["requestError"]["serviceException"]
            exception["conflicts"] = conflicts
            exception["validationErrors"] = {c["field"]: [error.message] for c in conflicts}
            return response
        recorded = result.recorded
        body = {
            "eventId": result.event.pk,
            "revertEventId": recorded.pk if recorded else None,
            "personId": result.person.pk,
            "version": result.person.version,
            "changes": recorded.changes if recorded else {},
        }
        return Response(body, headers={"ETag": etag_of(result.person)})


# ---------------------------------------------------------------------------------------------
# Merge two people, and undo a merge (directory.merge)


def _side_choice() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=["survivor", "other"])


MergeRequestSerializer = inline_serializer(
    "MergeRequest",
    {
        "survivorId": serializers.IntegerField(help_text="The person that is kept"),
        "otherId": serializers.IntegerField(help_text="The person merged into it (removed)"),
        "survivorVersion": serializers.IntegerField(
            required=False, help_text="The survivor's version the caller saw (412 if older)"
        ),
        "otherVersion": serializers.IntegerField(
            required=False, help_text="The other person's version the caller saw (412 if older)"
        ),
        "choices": inline_serializer(
            "MergeChoices",
            {
                "fields": serializers.DictField(
                    child=_side_choice(),
                    required=False,
                    help_text="Standard attribute (firstName, externalId, type, ...) -> whose "
                    "value is kept; unnamed ones take the default: the newer non-empty value, "
                    "a customer over a lead",
                ),
                "customAttributes": serializers.DictField(
                    child=_side_choice(),
                    required=False,
                    help_text="Custom attribute name -> whose value is kept (same default)",
                ),
                "primaryInstallation": serializers.CharField(
                    required=False,
                    allow_blank=True,
                    help_text="The pushRegistrationId that stays primary; empty: none; absent: "
                    "the newer person's primary",
                ),
            },
            required=False,
        ),
    },
)
MergeBodySerializer = inline_serializer(
    "Merge",
    {
        "eventId": serializers.IntegerField(help_text="The MERGE event (undo it with its id)"),
        "personId": serializers.IntegerField(help_text="The survivor"),
        "mergedPersonId": serializers.IntegerField(help_text="The person merged into it"),
        "version": serializers.IntegerField(help_text="The survivor's version after the merge"),
        "undoUntil": serializers.DateTimeField(help_text="Until when the merge can be undone"),
    },
)
MergeUndoBodySerializer = inline_serializer(
    "MergeUndo",
    {
        "eventId": serializers.IntegerField(help_text="The MERGE event undone"),
        "undoEventId": serializers.IntegerField(help_text="The MERGE_UNDONE event recorded"),
        "personId": serializers.IntegerField(help_text="The survivor, restored"),
        "version": serializers.IntegerField(help_text="The survivor's version after the undo"),
        "restoredPersonId": serializers.IntegerField(help_text="The person re-created"),
    },
)


def _optional_int(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, f"{name} must be an integer.", name)
    return value


class PersonsMergeView(VendorAPIView):
    """Merge two people (a manage key or an Editor)."""

    @extend_schema(
        operation_id="merge-two-persons",
        summary="Merge one person into another, with a choice per field",
        description=(
            "The other person's phones, emails, installations, tags and history move to the "
            "survivor; each standard attribute and custom attribute takes the chosen side's "
            "value (by default the newer non-empty value, a customer over a lead); at most one "
            "externalId and one primary installation are kept. The other person is removed; "
            "the survivor's MERGE event (eventId) records what undo needs, for MERGE_UNDO_DAYS "
            "(default 30). A version older than the stored one: 412 VERSION_CONFLICT."
        ),
        request=MergeRequestSerializer,
        responses={200: MergeBodySerializer, **error_responses(400, 404, 412)},
        tags=["persons"],
    )
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        survivor_id, other_id = data.get("survivorId"), data.get("otherId")
        for name, value in (("survivorId", survivor_id), ("otherId", other_id)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise DomainError(
                    ErrorCode.REQUEST_FORMAT_INVALID, f"{name} must be a person id.", name
                )
        choices = merging.MergeChoices.from_data(data.get("choices"))
        versions = {
            survivor_id: _optional_int(data, "survivorVersion"),
            other_id: _optional_int(data, "otherVersion"),
        }
        result = merging.merge(
            survivor_id=survivor_id,
            other_id=other_id,
            choices=choices,
            actor=actor_from_request(request),
            expected_versions=versions,
        )
        body = {
            "eventId": result.event.pk,
            "personId": result.person.pk,
            "mergedPersonId": other_id,
            "version": result.person.version,
            "undoUntil": merge_undo.undo_deadline(result.event).isoformat(),
        }
        return Response(body, headers={"ETag": etag_of(result.person)})


class MergeUndoView(VendorAPIView):
    """Undo a merge (a manage key or an Editor)."""

    @extend_schema(
        operation_id="undo-a-merge",
        summary="Undo a merge: both people restored exactly, unless changed since",
        description=(
            "Re-creates the merged person with its id, fields, phones, emails, tags, custom "
            "attributes, installations (and primary flags) and history, and restores the "
            "survivor's. Anything of the survivor changed since the merge is a conflict: 409 "
            "REVERT_CONFLICT listing each, nothing written. A merge undone already, older than "
            "MERGE_UNDO_DAYS, or an event that is no merge: 409 NOT_REVERTIBLE."
        ),
        parameters=[
            OpenApiParameter("eventId", int, OpenApiParameter.PATH, description="The MERGE event"),
            ETAG_HEADER,
        ],
        request=None,
        responses={
            200: MergeUndoBodySerializer,
            409: OpenApiResponse(
                RevertConflictBodySerializer,
                description="REVERT_CONFLICT: changed since (conflicts lists each); "
                "NOT_REVERTIBLE: undone already, too old, or no merge",
            ),
            **error_responses(404),
        },
        tags=["persons"],
    )
    def post(self, request, eventId: int):
        try:
            result = merge_undo.undo_merge(event_id=eventId, actor=actor_from_request(request))
        except DomainError as error:
            if error.code != ErrorCode.REVERT_CONFLICT:
                raise
            response = domain_error_response(error)
            conflicts = error.details["conflicts"]
            exception = response.data["requestError"]["serviceException"]
            exception["conflicts"] = conflicts
            exception["validationErrors"] = {c["field"]: [error.message] for c in conflicts}
            return response
        body = {
            "eventId": result.merge_event.pk,
            "undoEventId": result.event.pk,
            "personId": result.survivor.pk,
            "version": result.survivor.version,
            "restoredPersonId": result.other.pk,
        }
        return Response(body, headers={"ETag": etag_of(result.survivor)})
