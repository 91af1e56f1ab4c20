"""The vendor's contact information push API (reference 003 and the push operations of the
vendor's OpenAPI document): /people/2/contactInformation/push/{pushRegId}.

Automation calls it with an API key (read keys read, manage keys write) and names the
application in the ``AppCode`` header. Every 400 is the vendor's ``{"errorCode",
"errorMessage"}`` body: its own 48001, 48012, 48013, and the portal's numbers for the other
refusals (installations/api/push_errors.py).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.json import unstorable_text
from core.api.schema import ErrorBodySerializer
from core.errors import DomainError, ErrorCode
from installations.api.common import personalize_flags, request_object
from installations.api.push_errors import (
    APPLICATION_CODE_MISSING,
    APPLICATION_NOT_FOUND,
    REGISTRATION_NOT_FOUND,
    PushApiError,
    push_exception_handler,
)
from installations.api.representations import personalization_response, push_instance
from installations.api.serializers import (
    PersonalizationResponseSerializer,
    PersonalizeFlagsSerializer,
    PushErrorSerializer,
    PushInstanceSerializer,
    PushInstanceUpdateSerializer,
    PushPersonalizeRequestSerializer,
)
from installations.depersonalize import installation_depersonalize
from installations.models import Application, Installation
from installations.personalize import installation_personalize
from installations.services import installation_update
from people.api.actors import actor_from_request

APP_CODE_HEADER = OpenApiParameter(
    "AppCode",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Application code of the push application the registration belongs to",
)
PUSH_REG_ID = OpenApiParameter(
    "pushRegId",
    str,
    OpenApiParameter.PATH,
    description="Registration identifier of a particular push device registration",
)
ERROR_RESPONSES = {
    400: OpenApiResponse(
        PushErrorSerializer,
        description="48001 AppCode missing, 48012 unknown application, 48013 unknown"
        " registration; 48100 and up a refused field or a broken rule, named in errorMessage",
    ),
    401: OpenApiResponse(ErrorBodySerializer, description="No or an invalid API key"),
    403: OpenApiResponse(ErrorBodySerializer, description="A read key tried to write"),
    404: OpenApiResponse(
        ErrorBodySerializer,
        description="No route: a pushRegId with a '/' in it cannot name a registration",
    ),
    415: OpenApiResponse(ErrorBodySerializer, description="The body is not JSON"),
    429: OpenApiResponse(ErrorBodySerializer, description="Too many requests"),
}
TAGS = ["contact-information-push"]

# PATCH: what automation may change; the rest of a PushApiInstance is the device's.
WRITABLE_FIELDS = {"isPrimary", "systemData", "additionalData"}
READ_ONLY_FIELDS = {"registrationId", "applicationId"}
WRITABLE_SYSTEM_DATA = {"registrationEnabled"}


class PushRegistrationView(APIView):
    """Base: the AppCode header, the registration in that application, the push errors."""

    application_code: str

    def initial(self, request, *args, **kwargs) -> None:
        # Authentication, permission and throttling first: a caller without a key learns
        # nothing about applications.
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if method == "options" or not hasattr(self, method):
            return  # OPTIONS answers without an application; other methods get their 405
        code = request.headers.get("AppCode", "").strip()
        if not code:
            raise PushApiError(APPLICATION_CODE_MISSING)
        if unstorable_text(code) is not None:
            raise PushApiError(APPLICATION_NOT_FOUND)
        self.application_code = code

    def registration(self, push_registration_id: str) -> Installation:
        """The registration in the AppCode's application, in one statement; when there is
        none, APPLICATION_NOT_FOUND if the application is unknown (it comes first), else
        REGISTRATION_NOT_FOUND. Each method calls this before anything else."""
        installation = None
        if unstorable_text(push_registration_id) is None:
            installation = (
                Installation.objects.select_related("application", "person")
                .filter(
                    push_registration_id=push_registration_id,
                    application__code=self.application_code,
                )
                .first()
            )
        if installation is None:
            if not Application.objects.filter(code=self.application_code).exists():
                raise PushApiError(APPLICATION_NOT_FOUND)
            raise PushApiError(REGISTRATION_NOT_FOUND)
        return installation

    def get_exception_handler(self):
        return push_exception_handler


def writable_changes(body: dict) -> dict:
    """The service arguments of a PATCH body; a read-only or unknown field is refused by name."""
    for name in body:
        if name in READ_ONLY_FIELDS:
            raise DomainError(ErrorCode.BAD_REQUEST, f"{name} is read-only.", name)
    system_data = body.get("systemData")
    if system_data is None:
        system_data = {}
    if not isinstance(system_data, dict):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "systemData must be an object.", "systemData"
        )
    for name in system_data:
        field = f"systemData.{name}"
        if name in Installation.SYSTEM_DATA_FIELDS and name not in WRITABLE_SYSTEM_DATA:
            raise DomainError(
                ErrorCode.BAD_REQUEST,
                f"{field} is read-only: the device reports it.",
                field,
            )
        if name not in WRITABLE_SYSTEM_DATA:
            raise DomainError(ErrorCode.BAD_REQUEST, f"{field} is not a system data field.", field)
    return {
        "is_primary": body.get("isPrimary"),
        "registration_enabled": system_data.get("registrationEnabled"),
        "additional_data": body.get("additionalData"),
    }


class PushRegistrationDetail(PushRegistrationView):
    @extend_schema(
        operation_id="get-push-device-registration",
        summary="Get push device registration",
        tags=TAGS,
        parameters=[PUSH_REG_ID, APP_CODE_HEADER],
        responses={200: PushInstanceSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, pushRegId: str) -> Response:
        return Response(push_instance(self.registration(pushRegId)))

    @extend_schema(
        operation_id="update-push-device-registration",
        summary="Update push device registration",
        description="Only isPrimary, systemData.registrationEnabled and additionalData are"
        " writable; a read-only field is refused with a 400 that names it. isPrimary true"
        " makes this the person's only primary installation. In additionalData a null value"
        " removes that name; the other names stay.",
        tags=TAGS,
        parameters=[PUSH_REG_ID, APP_CODE_HEADER],
        request=PushInstanceUpdateSerializer,
        responses={200: PushInstanceSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request, pushRegId: str) -> Response:
        installation = self.registration(pushRegId)
        body = request_object(
            request.data,
            allowed=WRITABLE_FIELDS | READ_ONLY_FIELDS,
            what="a push registration",
        )
        installation = installation_update(
            installation=installation,
            actor=actor_from_request(request),
            **writable_changes(body),
        )
        return Response(push_instance(installation))


class PushRegistrationPersonalize(PushRegistrationView):
    @extend_schema(
        operation_id="personalize-push-instance",
        summary="Personalize push instance",
        description="Attach the registration to the person who owns the identity (or give the"
        " identity to its anonymous profile). A registration personalized with another person"
        " moves only with forceDepersonalize=true (else PERSONALIZATION_IMPOSSIBLE).",
        tags=TAGS,
        parameters=[PUSH_REG_ID, APP_CODE_HEADER, PersonalizeFlagsSerializer],
        request=PushPersonalizeRequestSerializer,
        responses={200: PersonalizationResponseSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, pushRegId: str) -> Response:
        installation = self.registration(pushRegId)
        flags = personalize_flags(request)
        body = request_object(
            request.data, allowed={"identity", "attributes"}, what="a personalize request"
        )
        person = installation_personalize(
            installation=installation,
            actor=actor_from_request(request),
            identity=body.get("identity"),
            attributes=body.get("attributes"),
            force_depersonalize=flags["forceDepersonalize"],
            keep_as_lead=flags["keepAsLead"],
            set_as_primary=flags["setDeviceAsPrimary"],
        )
        return Response(personalization_response(person, return_push=flags["returnPush"]))


class PushRegistrationDepersonalize(PushRegistrationView):
    @extend_schema(
        operation_id="depersonalize-push-instance",
        summary="Depersonalize push instance",
        description="Detach the registration from its person (remote logout): it moves to a"
        " fresh anonymous lead profile and is no longer primary. The response has no body.",
        tags=TAGS,
        parameters=[PUSH_REG_ID, APP_CODE_HEADER],
        request=None,
        responses={200: OpenApiResponse(description="Depersonalized"), **ERROR_RESPONSES},
    )
    def post(self, request, pushRegId: str) -> Response:
        installation = self.registration(pushRegId)
        installation_depersonalize(installation=installation, actor=actor_from_request(request))
        return Response(status=status.HTTP_200_OK)
