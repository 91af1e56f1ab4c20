"""The device API's user paths, as the vendor's mobile SDKs call them.

``/mobile/1/appinstance/{pushRegId}/...``: repersonalize (Android after NO_REGISTRATION), the
user (fetch and save), session reports and custom events. Authenticated and scoped as every
device view (installations.api.device.DeviceView); writes recorded as "Device of app <code>".
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api.schema import ErrorBodySerializer
from core.errors import ErrorCode
from installations.api.authentication import IsDevice
from installations.api.common import RequestFieldError, request_object
from installations.api.device import ERROR_RESPONSES, PUSH_REG_ID, DeviceView
from installations.api.jwt_authentication import (
    JwtOrApplicationCodeAuthentication,
    JwtSubjectIsPersonalizeIdentity,
    check_user_read,
    check_user_write,
)
from installations.api.representations import device_user
from installations.api.serializers import (
    DevicePersonalizeRequestSerializer,
    DeviceUserSerializer,
)
from installations.device_services import (
    USER_NAMES,
    device_report_custom_events,
    device_report_sessions,
    device_save_user,
)
from installations.personalize import installation_personalize

TAGS = ["mobile-app-instance"]


class UserQuerySerializer(serializers.Serializer):
    """The SDKs' query flags (``true``/``false`` from Android, ``1``/``0`` from iOS)."""

    ri = serializers.BooleanField(
        required=False, default=False, help_text="Return the user's installations (instances)"
    )
    rt = serializers.BooleanField(
        required=False, default=False, help_text="Return push service tokens (iOS asks)"
    )


class ValidateQuerySerializer(serializers.Serializer):
    validate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Refuse the report when an event does not fit its definition (400);"
        " otherwise such events are left out and the others recorded",
    )


def _query(serializer_class, request) -> dict:
    flags = serializer_class(data=request.query_params)
    flags.is_valid(raise_exception=True)
    return flags.validated_data


def user_body(person, *, application, instances: bool) -> dict:
    """The user as both SDKs read it (Android ``UserBody``, iOS ``MMUser(json:)``): the
    person in the SDK's names and, when asked (``ri``), the calling application's
    installations under ``instances``."""
    return device_user(person, application=application, return_push=instances)


class DeviceRepersonalize(DeviceView):
    # As personalize: the App code or the user's JWT (Bearer), whose sub must be the identity.
    authentication_classes = [JwtOrApplicationCodeAuthentication]
    permission_classes = [IsDevice, JwtSubjectIsPersonalizeIdentity]

    @extend_schema(
        operation_id="repersonalize-app-instance",
        summary="Repersonalize an app instance",
        description="What Android sends after NO_REGISTRATION, once it has registered again: the"
        " user it had (userIdentity, userAttributes) personalizes the new installation, with the"
        " rules of personalize (attributes only into a profile of the app's own).",
        tags=TAGS,
        parameters=[PUSH_REG_ID],
        request=DevicePersonalizeRequestSerializer,
        responses={200: DeviceUserSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, pushRegId: str) -> Response:
        installation = self.installation(pushRegId)
        body = request_object(
            request.data,
            allowed={"userIdentity", "userAttributes"},
            what="a repersonalize request",
        )
        person = installation_personalize(
            installation=installation,
            actor=request.user.actor,
            identity=body.get("userIdentity"),
            attributes=body.get("userAttributes"),
            device_of=request.user.application,
        )
        return Response(user_body(person, application=request.user.application, instances=False))


class DeviceUser(DeviceView):
    # The App code or the user's JWT (Bearer): a token must name the installation's person.
    authentication_classes = [JwtOrApplicationCodeAuthentication]

    @extend_schema(
        operation_id="get-app-instance-user",
        summary="The user of an app instance",
        description="The person the installation belongs to, in the SDK's names; with ri=true"
        " (or 1) also the calling application's installations of that person (instances).",
        tags=TAGS,
        parameters=[PUSH_REG_ID, UserQuerySerializer],
        responses={200: DeviceUserSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, pushRegId: str) -> Response:
        flags = _query(UserQuerySerializer, request)
        installation = self.installation(pushRegId)
        check_user_read(request, installation.person)
        return Response(
            user_body(
                installation.person, application=request.user.application, instances=flags["ri"]
            )
        )

    @extend_schema(
        operation_id="save-app-instance-user",
        summary="Save the user of an app instance",
        description="externalUserId, firstName, lastName, middleName, gender (Male, Female),"
        " birthday, phones [{number}], emails [{address}] and tags replace what is stored"
        " (null removes); customAttributes are merged (a null value removes that name). Only"
        " into a profile of the app's own (403 FORBIDDEN otherwise). 200, the user.",
        tags=TAGS,
        parameters=[PUSH_REG_ID, UserQuerySerializer],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: DeviceUserSerializer,
            403: OpenApiResponse(ErrorBodySerializer, description="Not the app's profile"),
            **ERROR_RESPONSES,
        },
    )
    def patch(self, request, pushRegId: str) -> Response:
        flags = _query(UserQuerySerializer, request)
        installation = self.installation(pushRegId)
        body = request_object(request.data, allowed=USER_NAMES, what="a user")
        check_user_write(request, installation.person, body)
        device_save_user(
            installation=installation,
            actor=request.user.actor,
            body=body,
            device_of=request.user.application,
        )
        installation = self.installation(pushRegId)
        return Response(
            user_body(
                installation.person, application=request.user.application, instances=flags["ri"]
            )
        )


class DeviceSessions(DeviceView):
    @extend_schema(
        operation_id="report-app-instance-sessions",
        summary="Report app sessions",
        description="sessionStarts (ISO 8601 date-times), sessionBounds (start -> end) and the"
        " device's systemData: an App Launch event in the person's history per session start"
        " not recorded yet (with its end once reported), the installation's last seen time"
        " and its system data. 200, no body.",
        tags=TAGS,
        parameters=[PUSH_REG_ID],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: OpenApiResponse(description="Recorded"), **ERROR_RESPONSES},
    )
    def post(self, request, pushRegId: str) -> Response:
        installation = self.installation(pushRegId)
        body = request_object(
            request.data,
            allowed={"sessionStarts", "sessionBounds", "systemData"},
            what="a session report",
        )
        device_report_sessions(
            installation=installation,
            actor=request.user.actor,
            session_starts=body.get("sessionStarts"),
            session_bounds=body.get("sessionBounds"),
            system_data=body.get("systemData"),
            device_of=request.user.application,
        )
        return Response(status=status.HTTP_200_OK)


class DeviceCustomEvents(DeviceView):
    @extend_schema(
        operation_id="report-app-instance-custom-events",
        summary="Report custom events",
        description='{"events": [{"definitionId", "date", "properties"}]}: each recorded in the'
        " person's history, its properties checked against its definition"
        " (/peopleevents/2/definitions). 200, no body.",
        tags=TAGS,
        parameters=[PUSH_REG_ID, ValidateQuerySerializer],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: OpenApiResponse(description="Recorded"), **ERROR_RESPONSES},
    )
    def post(self, request, pushRegId: str) -> Response:
        flags = _query(ValidateQuerySerializer, request)
        installation = self.installation(pushRegId)
        if not isinstance(request.data, dict):
            raise RequestFieldError(
                ErrorCode.REQUEST_FORMAT_INVALID, "The request body must be a JSON object.", "body"
            )
        device_report_custom_events(
            installation=installation,
            actor=request.user.actor,
            body=request.data,
            validate=flags["validate"],
        )
        return Response(status=status.HTTP_200_OK)
