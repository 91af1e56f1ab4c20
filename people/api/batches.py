"""Batches: every item validated first, the valid ones written in one transaction (all of them,
or nothing when the database fails part way: then a 503), a result per item, 207 when some
failed (people.batches).

Also the match of many identities at once.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api.errors import DOMAIN_STATUS, RequestFormatInvalid, flatten_detail
from core.api.permissions import CanReadViaApi
from core.api.schema import error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from people import batches
from people.api import serializers as bodies
from people.api.actors import actor_from_request
from people.api.identities import parse_identity, queries_of, query_echo, resolve_all
from people.api.inputs import create_arguments, merge_arguments, validated
from people.identifier_lookups import person_id_by_identifier

MERGE_CONFLICT_STATUS = 409


def batch_items(data: Any) -> list[Any]:
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, list):
        raise RequestFormatInvalid({"people": ["Expected a list of people."]})
    if not 1 <= len(people) <= bodies.MAX_BATCH:
        raise ValidationError(
            {"people": [f"Send between 1 and {bodies.MAX_BATCH} people, not {len(people)}."]}
        )
    return people


def failure(error: Exception) -> dict[str, Any]:
    """The status and errors of one failed batch item."""
    if isinstance(error, DomainError):
        code = (
            MERGE_CONFLICT_STATUS
            if error.code == ErrorCode.USER_MERGE_INTERRUPTED
            else DOMAIN_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
        )
        item: dict[str, Any] = {"message": error.message, "messageId": error.code}
        if error.field:
            item["field"] = error.field
        return {"status": code, "errors": [item]}
    assert isinstance(error, ValidationError)
    message_id = getattr(error, "message_id", "BAD_REQUEST")
    return {
        "status": status.HTTP_400_BAD_REQUEST,
        "errors": [
            {"message": " ".join(messages), "messageId": message_id, "field": field}
            for field, messages in flatten_detail(error.detail).items()
        ],
    }


def batch_response(results: list[dict[str, Any]]) -> Response:
    failed = any(result["status"] != status.HTTP_200_OK for result in results)
    return Response(
        {"results": results},
        status=status.HTTP_207_MULTI_STATUS if failed else status.HTTP_200_OK,
    )


class BatchView(VendorAPIView):
    """Create, update or delete many people: a result per item, 207 when some failed."""

    administrator_methods = frozenset({"DELETE"})

    @extend_schema(
        operation_id="batch-people-create",
        summary=f"Create up to {bodies.MAX_BATCH} people",
        request=bodies.BatchCreateRequestSerializer,
        responses={
            200: bodies.BatchCreateResponseSerializer,
            207: bodies.BatchCreateResponseSerializer,
            **error_responses(400),
        },
        tags=["persons"],
    )
    def post(self, request):
        items: list[Any] = []
        for item in batch_items(request.data):
            try:
                items.append(create_arguments(validated(bodies.PersonInputSerializer, item)))
            except ValidationError as error:
                items.append(error)
        outcomes = batches.person_create_batch(actor=actor_from_request(request), items=items)
        results = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, Exception):
                results.append({"index": index, **failure(outcome)})
            else:
                results.append({"index": index, "status": status.HTTP_200_OK, "id": outcome.pk})
        return batch_response(results)

    @extend_schema(
        operation_id="batch-people-update",
        summary=f"Update up to {bodies.MAX_BATCH} people (as PATCH does)",
        request=bodies.BatchUpdateRequestSerializer,
        responses={
            200: bodies.BatchUpdateResponseSerializer,
            207: bodies.BatchUpdateResponseSerializer,
            **error_responses(400),
        },
        tags=["persons"],
    )
    def patch(self, request):
        people = batch_items(request.data)
        targets = resolve_all(queries_of(people))
        items: list[Any] = []
        for item, target in zip(people, targets, strict=True):
            if isinstance(target, Exception):
                items.append(target)
                continue
            try:
                data = validated(bodies.PersonInputSerializer, item.get("update"))
                items.append((target, merge_arguments(data)))
            except ValidationError as error:
                items.append(error)
        outcomes = batches.person_update_batch(actor=actor_from_request(request), items=items)
        results = []
        for item, outcome in zip(people, outcomes, strict=True):
            result: dict[str, Any] = {"query": query_echo(item)}
            if isinstance(outcome, Exception):
                result.update(failure(outcome))
            else:
                result.update(status=status.HTTP_200_OK, isModified=outcome)
            results.append(result)
        return batch_response(results)


class MatchView(VendorAPIView):
    """Which people the given identities name (a read: read keys may call it)."""

    permission_classes = [CanReadViaApi]

    @extend_schema(
        operation_id="match-people-ids",
        summary="The ids of the people the given identities name",
        request=bodies.MatchRequestSerializer,
        responses={200: bodies.MatchResponseSerializer, **error_responses(400)},
        tags=["persons"],
    )
    def post(self, request):
        data = request.data
        identities = data.get("identities") if isinstance(data, dict) else None
        if not isinstance(identities, list) or not 1 <= len(identities) <= bodies.MAX_BATCH:
            raise RequestFormatInvalid(
                {"identities": [f"Expected a list of 1 to {bodies.MAX_BATCH} identities."]}
            )
        queries = [
            parse_identity(item, prefix=f"identities[{index}].")
            for index, item in enumerate(identities)
        ]
        matches, seen = [], set()
        for query in queries:
            if query in seen:
                continue  # the same identity twice: one reference
            seen.add(query)
            try:
                person_id = person_id_by_identifier(
                    query.type, query.identifier, sender=query.sender
                )
            except DomainError:
                continue  # not a valid phone or email: it names nobody
            if person_id is not None:
                matches.append({**query.as_body(), "personId": person_id})
        return Response({"matches": matches})
