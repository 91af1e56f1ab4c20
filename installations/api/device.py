"""The device-facing API that the vendor's mobile SDK calls: /mobile/1/appinstance.

A device authenticates with its application's code (``Authorization: App <applicationCode>``)
and sends the SDK's field names (reference 000). Its writes are recorded in history as the
device of that application.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.json import unstorable_text
from core.api.schema import ErrorBodySerializer
from core.errors import DomainError, ErrorCode
from installations.api.authentication import (
    ApplicationCodeAuthentication,
    DeviceRateThrottle,
    IsDevice,
)
from installations.api.common import (
    RequestFieldError,
    personalize_flags,
    request_object,
)
from installations.api.jwt_authentication import (
    JwtOrApplicationCodeAuthentication,
    JwtSubjectIsPersonalizeIdentity,
)
from installations.api.representations import (
    DEVICE_ONLY_NAMES,
    DEVICE_SYSTEM_NAMES,
    device_instance,
    device_user,
)
from installations.api.serializers import (
    DeviceInstanceQuerySerializer,
    DeviceInstanceSerializer,
    DevicePersonalizeRequestSerializer,
    DeviceUserSerializer,
    PersonalizeFlagsSerializer,
)
from installations.depersonalize import installation_depersonalize
from installations.models import Installation
from installations.personalize import installation_personalize
from installations.services import (
    installation_delete,
    installation_device_update,
    installation_register,
)

# Every name the services take for an SDK field (system data and the device-only fields).
DEVICE_FIELD_NAMES = {**DEVICE_SYSTEM_NAMES, **DEVICE_ONLY_NAMES}
INSTANCE_FIELDS = {*DEVICE_FIELD_NAMES, "isPrimary", "customAttributes"}
# The services name fields in the vendor's spelling; a device reads errors in its own.
SDK_NAMES = {vendor: sdk for sdk, vendor in DEVICE_FIELD_NAMES.items()}
# Android's DefaultApiClient sends every PATCH as a POST with this header; on the device API
# (only there) a POST carrying "PATCH" in it is a PATCH. Any other use of it is refused.
METHOD_OVERRIDE = "X-HTTP-Method-Override"
# Both SDKs name the calling installation in this header on every request
# (Android MobileApiResourceProvider, iOS RequestData.headers).
CALLER_HEADER = "pushregistrationid"
SDK_PREFIXES = {
    "additionalData": "customAttributes",
    "identity": "userIdentity",
    "attributes": "userAttributes",
}

PUSH_REG_ID = OpenApiParameter(
    "pushRegId", str, OpenApiParameter.PATH, description="Push registration id of the installation"
)
ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorBodySerializer, description="A domain or validation error"),
    401: OpenApiResponse(ErrorBodySerializer, description="No or an unknown application code"),
    404: OpenApiResponse(
        ErrorBodySerializer, description="NO_REGISTRATION: not an installation of this app"
    ),
    415: OpenApiResponse(ErrorBodySerializer, description="The body is not JSON"),
    429: OpenApiResponse(ErrorBodySerializer, description="Too many requests"),
}
TAGS = ["mobile-app-instance"]


def in_sdk_terms(error: DomainError) -> DomainError:
    """The same error, naming the field as the SDK sent it (``language``, not ``osLanguage``)."""
    field = error.field or ""
    message = error.message
    head, dot, rest = field.partition(".")
    if head == "systemData" and rest:
        sdk_name = SDK_NAMES.get(rest, rest)
        field, message = sdk_name, message.replace(rest, sdk_name, 1)
    elif head in SDK_PREFIXES:
        field = SDK_PREFIXES[head] + dot + rest
        message = message.replace(head, SDK_PREFIXES[head], 1)
    return DomainError(error.code, message, field or None, error.details)


def instance_changes(body: dict[str, Any]) -> dict[str, Any]:
    """Service arguments for the SDK's app instance fields."""
    return {
        "system_data": {
            vendor: body[sdk] for sdk, vendor in DEVICE_FIELD_NAMES.items() if sdk in body
        },
        "is_primary": body.get("isPrimary"),
        "additional_data": body.get("customAttributes"),
    }


class DeviceView(APIView):
    authentication_classes = [ApplicationCodeAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]

    def initialize_request(self, request, *args, **kwargs):
        tunnelled = request.method == "POST" and (
            request.headers.get(METHOD_OVERRIDE, "").strip().upper() == "PATCH"
        )
        if tunnelled:
            request.method = "PATCH"
        self.tunnelled = tunnelled
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if METHOD_OVERRIDE in request.headers and not self.tunnelled:
            raise RequestFieldError(
                ErrorCode.BAD_REQUEST,
                f"{METHOD_OVERRIDE} is honoured only as PATCH on a POST.",
                METHOD_OVERRIDE,
            )

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, DomainError) and not isinstance(exc, RequestFieldError):
            exc = in_sdk_terms(exc)
        return super().handle_exception(exc)

    def _of_this_application(self, push_registration_id: str) -> Installation | None:
        if unstorable_text(push_registration_id) is not None:
            return None
        return (
            Installation.objects.select_related("application")
            .filter(
                push_registration_id=push_registration_id,
                application=self.request.user.application,
            )
            .first()
        )

    def installation(self, push_registration_id: str, *, check_caller: bool = True) -> Installation:
        """An installation of the calling application that the calling device may act on.

        Any other installation is NO_REGISTRATION (404). The device names itself in the
        ``pushregistrationid`` header (without it, it acts on the installation of the path):
        it may act on its own installation and on those of its person (set primary, remote
        logout); to delete another, only a registration older than itself (the one it
        replaced after a reinstall, iOS DeleteInstance). Anything else is refused (403).
        """
        found = self._of_this_application(push_registration_id)
        if found is None:
            raise DomainError(
                ErrorCode.NO_REGISTRATION,
                "This application has no installation with this pushRegId.",
                "pushRegId",
            )
        if check_caller:
            self.acts_on_itself = self._check_caller(found)
        return found

    def _check_caller(self, target: Installation) -> bool:
        """Whether the caller is ``target`` itself; raise if it may not act on it."""
        caller_id = self.request.headers.get(CALLER_HEADER, "").strip()
        if not caller_id or caller_id == target.push_registration_id:
            return True
        caller = self._of_this_application(caller_id)
        if caller is None:
            raise RequestFieldError(
                ErrorCode.NO_REGISTRATION,
                f"The calling installation ({CALLER_HEADER} header) is not registered in this"
                " application.",
                CALLER_HEADER,
            )
        if caller.person_id == target.person_id:
            return False
        if self.request.method == "DELETE" and caller.created_at > target.created_at:
            return False
        raise exceptions.PermissionDenied(
            f"Installation {caller_id} ({CALLER_HEADER} header) may act only on itself and on"
            f" the installations of its own person; {target.push_registration_id} is not one."
        )

    def instance_query(self) -> dict[str, bool]:
        """``rt`` (answer the push service token), ``ri``: true/false or 1/0."""
        query = DeviceInstanceQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data


class DeviceRegistration(DeviceView):
    @extend_schema(
        operation_id="register-app-instance",
        summary="Register an app instance",
        description="First launch: a new installation on a fresh anonymous lead profile (201),"
        " with an Install event; pushRegId is generated when absent. Registering an existing"
        " pushRegId again updates that installation (200).",
        tags=TAGS,
        parameters=[DeviceInstanceQuerySerializer],
        request=DeviceInstanceSerializer,
        responses={
            200: DeviceInstanceSerializer,
            201: DeviceInstanceSerializer,
            **ERROR_RESPONSES,
        },
    )
    def post(self, request) -> Response:
        body = request_object(
            request.data, allowed=INSTANCE_FIELDS | {"pushRegId"}, what="an app instance"
        )
        installation, created = installation_register(
            application=request.user.application,
            actor=request.user.actor,
            push_registration_id=body.get("pushRegId"),
            **instance_changes(body),
        )
        return Response(
            device_instance(installation, push_service_token=self.instance_query()["rt"]),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DeviceInstallation(DeviceView):
    @extend_schema(
        operation_id="get-app-instance",
        summary="Get an app instance",
        tags=TAGS,
        parameters=[PUSH_REG_ID, DeviceInstanceQuerySerializer],
        responses={200: DeviceInstanceSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, pushRegId: str) -> Response:
        installation = self.installation(pushRegId)
        return Response(self.answer(installation))

    def answer(self, installation: Installation) -> dict[str, Any]:
        """The installation; with ``rt`` its push service token, to the device itself only."""
        wanted = self.instance_query()["rt"]
        return device_instance(installation, push_service_token=wanted and self.acts_on_itself)

    @extend_schema(
        operation_id="update-app-instance",
        summary="Update an app instance",
        description="The device writes its system data, push on/off (regEnabled), isPrimary"
        " (the person's other installations lose the flag) and customAttributes (a null value"
        " removes that name).",
        tags=TAGS,
        parameters=[PUSH_REG_ID, DeviceInstanceQuerySerializer],
        request=DeviceInstanceSerializer,
        responses={200: DeviceInstanceSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request, pushRegId: str) -> Response:
        installation = self.installation(pushRegId)
        body = request_object(
            request.data, allowed=INSTANCE_FIELDS | {"pushRegId"}, what="an app instance"
        )
        if "pushRegId" in body and body["pushRegId"] != installation.push_registration_id:
            raise RequestFieldError(
                ErrorCode.BAD_REQUEST, "pushRegId cannot be changed.", "pushRegId"
            )
        installation = installation_device_update(
            installation=installation,
            actor=request.user.actor,
            application=request.user.application,
            **instance_changes(body),
        )
        return Response(self.answer(installation))

    @extend_schema(
        operation_id="delete-app-instance",
        summary="Uninstall an app instance",
        description="The installation is removed; an Uninstall event stays in its person's"
        " history.",
        tags=TAGS,
        parameters=[PUSH_REG_ID],
        responses={204: OpenApiResponse(description="Uninstalled"), **ERROR_RESPONSES},
    )
    def delete(self, request, pushRegId: str) -> Response:
        installation_delete(installation=self.installation(pushRegId), actor=request.user.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DevicePersonalize(DeviceView):
    # Bearer <JWT> when the app has a JWT supplier (installations/api/jwt_authentication.py).
    authentication_classes = [JwtOrApplicationCodeAuthentication]
    permission_classes = [IsDevice, JwtSubjectIsPersonalizeIdentity]

    @extend_schema(
        operation_id="personalize-app-instance",
        summary="Personalize an app instance",
        description="As the push API's personalize, with the SDK's body: userIdentity"
        " (externalUserId, phones, emails) and userAttributes.",
        tags=TAGS,
        parameters=[PUSH_REG_ID, PersonalizeFlagsSerializer],
        request=DevicePersonalizeRequestSerializer,
        responses={200: DeviceUserSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, pushRegId: str) -> Response:
        installation = self.installation(pushRegId)
        flags = personalize_flags(request)
        body = request_object(
            request.data,
            allowed={"userIdentity", "userAttributes"},
            what="a personalize request",
        )
        person = installation_personalize(
            installation=installation,
            actor=request.user.actor,
            identity=body.get("userIdentity"),
            attributes=body.get("userAttributes"),
            force_depersonalize=flags["forceDepersonalize"],
            keep_as_lead=flags["keepAsLead"],
            set_as_primary=flags["setDeviceAsPrimary"],
            device_of=request.user.application,
        )
        return Response(
            device_user(
                person,
                return_push=flags["returnPush"],
                application=request.user.application,
            )
        )


class DeviceDepersonalize(DeviceView):
    @extend_schema(
        operation_id="depersonalize-app-instance",
        summary="Depersonalize an app instance",
        description="The installation leaves its person for a fresh anonymous lead profile.",
        tags=TAGS,
        parameters=[PUSH_REG_ID],
        request=None,
        responses={200: DeviceInstanceSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, pushRegId: str) -> Response:
        installation = self.installation(pushRegId)
        installation_depersonalize(installation=installation, actor=request.user.actor)
        # Read again without the caller check: the installation is on its new profile now.
        return Response(device_instance(self.installation(pushRegId, check_caller=False)))
