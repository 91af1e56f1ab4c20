"""API authentication: ``Authorization: App <key>`` for automation, the session for operators."""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.models import ApiKey, ApiKeyRole


@dataclass(frozen=True, kw_only=True)
class ServicePrincipal:
    """The request.user of a request made by a program (not an operator's session)."""

    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True

    @property
    def pk(self) -> None:
        return None


@dataclass(frozen=True, kw_only=True)
class ApiKeyPrincipal(ServicePrincipal):
    """The request.user of a request made with an API key."""

    key: ApiKey

    def get_username(self) -> str:
        return f"API key {self.key.name}"

    @property
    def can_write(self) -> bool:
        return self.key.role == ApiKeyRole.MANAGE

    def has_perm(self, perm: str, obj: object = None) -> bool:
        # A read key may read; a manage key may do what an operator API client may do.
        name = perm.split(".")[-1]
        if name.startswith("view_"):
            return True
        if name == "see_personal_data":
            return self.can_write or self.key.personal_data
        return self.can_write


class AppCredentialAuthentication(authentication.BaseAuthentication):
    """Reads ``Authorization: App <credential>``; subclasses say what the credential is."""

    keyword = "App"
    missing_message = "Missing credential after 'App'."

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed(self.missing_message)
        return self.authenticate_credential(raw)

    def authenticate_credential(self, raw: str) -> tuple[ServicePrincipal, object]:
        raise NotImplementedError

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to requests without credentials.
        return self.keyword


class ApiKeyAuthentication(AppCredentialAuthentication):
    missing_message = "Missing API key after 'App'."

    def authenticate_credential(self, raw: str) -> tuple[ApiKeyPrincipal, ApiKey]:
        key = ApiKey.authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiKeyPrincipal(key=key), key


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes ``Authorization: App <key>`` in the OpenAPI document."""

    target_class = ApiKeyAuthentication
    name = "AppKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API key: `Authorization: App <key>` "
            "(create one with `manage.py create_api_key`).",
        }
