"""Device authentication: ``Authorization: App <applicationCode>``, as the mobile SDKs send it.

The automation API reads the same header as an API key (portal.api.authentication); the device
views use only this class, so there an ``App`` credential is an application code.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from installations.models import Application
from people.history import Actor


@dataclass(frozen=True)
class DevicePrincipal:
    """The request.user of a request made by an app installation (the application it runs)."""

    application: Application
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True

    @property
    def pk(self) -> None:
        return None

    def get_username(self) -> str:
        return f"Device of app {self.application.code}"

    @property
    def actor(self) -> Actor:
        return Actor.device(self.application.code)


class ApplicationCodeAuthentication(authentication.BaseAuthentication):
    keyword = "App"

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        code = raw.strip()
        if not code:
            raise exceptions.AuthenticationFailed("Missing application code after 'App'.")
        application = Application.objects.filter(code=code).first()
        if application is None:
            raise exceptions.AuthenticationFailed("Unknown application code.")
        return DevicePrincipal(application), application

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return self.keyword


class IsDevice(permissions.BasePermission):
    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.user, DevicePrincipal)


class DeviceRateThrottle(SimpleRateThrottle):
    """Requests per application and client address (devices of one app share no bucket)."""

    scope = "api"

    def get_cache_key(self, request, view):
        user = request.user
        app = user.application.pk if isinstance(user, DevicePrincipal) else "none"
        ident = f"device-{app}-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
