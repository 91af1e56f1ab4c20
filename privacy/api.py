"""The access-request bundle over the API: POST /people/2/persons/dataExport?identifier=…&type=…
(a manage key or an Editor; a POST because every export is recorded)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.api.authentication import ApiKeyPrincipal
from core.api.schema import error_responses
from core.api.views import VendorAPIView
from people.api.actors import actor_from_request
from people.api.identities import required_identity, resolve
from people.api.views import IDENTITY_PARAMETERS
from privacy.services import access_bundle


class DataExportView(VendorAPIView):
    """Everything about one person (profile, identities, installations with system data, tags,
    custom attributes, history) as one JSON document; recorded as an access record."""

    @extend_schema(
        operation_id="export-all-data-of-a-person",
        summary="Export everything about a person (access request); recorded",
        parameters=IDENTITY_PARAMETERS,
        request=None,
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 404)},
        tags=["privacy"],
    )
    def post(self, request):
        person_id = resolve(required_identity(request.query_params))
        user = request.user
        bundle = access_bundle(
            person_id=person_id,
            actor=actor_from_request(request),
            user=None if isinstance(user, ApiKeyPrincipal) else user,
        )
        return Response(bundle)
