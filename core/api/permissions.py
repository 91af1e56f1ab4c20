"""Who may call what: read keys and Viewers read; manage keys and Editors write;
deleting people and managing definitions needs a manage key or an Administrator."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.request import Request

from core import roles
from core.api.authentication import ApiKeyPrincipal


def _is_key(request: Request) -> bool:
    return isinstance(request.user, ApiKeyPrincipal)


class CanUseApi(permissions.BasePermission):
    """Safe methods: any valid key or an operator who may view. Writes: a manage key or an
    operator who may edit."""

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if _is_key(request):
            return request.method in permissions.SAFE_METHODS or user.can_write
        if request.method in permissions.SAFE_METHODS:
            return roles.can_view(user)
        return roles.can_edit(user)


class CanAdministerViaApi(CanUseApi):
    """For writes an Administrator makes: delete people, manage definitions and tags."""

    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS or _is_key(request):
            return True
        return roles.can_delete_people(request.user)


class CanReadViaApi(permissions.BasePermission):
    """For POSTs that only read (match): any valid key, or an operator who may view."""

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return _is_key(request) or roles.can_view(user)
