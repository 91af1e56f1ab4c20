"""The People API's deletes: a person's installations move to fresh anonymous profiles
(installations.services.person_delete), so these answer from the layer that sees both apps.
The rest of ``persons`` and ``persons/batch`` is people.api.views'.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api.schema import error_responses
from installations import services as installation_services
from people.api import serializers as bodies
from people.api import views as people_api
from people.api.actors import actor_from_request


class PersonsView(people_api.PersonsView):
    """One person by identifier and type, a page of people, create, replace, update, delete."""

    @extend_schema(
        operation_id="delete-a-person",
        summary="Delete a person; its installations move to fresh anonymous profiles",
        parameters=people_api.IDENTITY_PARAMETERS,
        responses={200: people_api.DONE_RESPONSE, **error_responses(400, 404)},
        tags=["persons"],
    )
    def delete(self, request):
        person_id = people_api.resolve(people_api.required_identity(request.query_params))
        installation_services.person_delete(person=person_id, actor=actor_from_request(request))
        return Response(status=status.HTTP_200_OK)


class BatchView(people_api.BatchView):
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
        people = people_api.batch_items(request.data)
        outcomes = installation_services.person_delete_batch(
            actor=actor_from_request(request),
            person_ids=people_api.resolve_all(people_api.queries_of(people)),
        )
        results = []
        for item, outcome in zip(people, outcomes, strict=True):
            result: dict[str, Any] = {"query": people_api.query_echo(item)}
            if isinstance(outcome, Exception):
                result.update(people_api.failure(outcome))
            else:
                result["status"] = status.HTTP_200_OK
            results.append(result)
        return people_api.batch_response(results)
