"""Device authentication: ``Authorization: App <applicationCode>``, as the mobile SDKs send it.

The automation API reads the same header as an API key (core.api.authentication); the device
views use only this class, so there an ``App`` credential is an application code.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from core.api.authentication import AppCredentialAuthentication, ServicePrincipal
from core.api.throttling import SharedRateThrottle
from installations.models import Application
from people.history import Actor


@dataclass(frozen=True, kw_only=True)
class DevicePrincipal(ServicePrincipal):
    """The request.user of a request made by an app installation (the application it runs)."""

    application: Application

    def get_username(self) -> str:
        return f"Device of app {self.application.code}"

    @property
    def actor(self) -> Actor:
        return Actor.device(self.application.code)


class ApplicationCodeAuthentication(AppCredentialAuthentication):
    missing_message = "Missing application code after 'App'."

    def authenticate_credential(self, raw: str) -> tuple[DevicePrincipal, Application]:
        application = Application.objects.filter(code=raw).first()
        if application is None:
            raise exceptions.AuthenticationFailed("Unknown application code.")
        return DevicePrincipal(application=application), application


class IsDevice(permissions.BasePermission):
    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.user, DevicePrincipal)


class DeviceRateThrottle(SharedRateThrottle):
    """Requests per application and client address (devices of one app share no bucket), at
    DEVICE_THROTTLE_RATE; the address is the trusted proxy's (core.client_address)."""

    scope = "device"

    def get_cache_key(self, request, view):
        user = request.user
        app = user.application.pk if isinstance(user, DevicePrincipal) else "none"
        ident = f"device-{app}-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
