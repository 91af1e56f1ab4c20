"""Operator roles (Django groups) and the checks every interface makes with them.

Viewer reads everything; Editor also edits people and installations; Administrator also
deletes people and manages definitions, applications, API keys and operators. The groups and
their permissions are created by a data migration (portal/migrations).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

VIEWER = "Viewer"
EDITOR = "Editor"
ADMINISTRATOR = "Administrator"
ROLES = {"viewer": VIEWER, "editor": EDITOR, "administrator": ADMINISTRATOR}

# app_label.codename per role; each role has the permissions of the one before it.
VIEW_PERMISSIONS = [
    "people.view_person",
    "people.view_contactidentity",
    "people.view_tag",
    "people.view_attributedefinition",
    "people.view_attributevalue",
    "people.view_event",
    "installations.view_installation",
    "installations.view_application",
]
EDIT_PERMISSIONS = [
    "people.add_person",
    "people.change_person",
    "people.add_contactidentity",
    "people.change_contactidentity",
    "people.delete_contactidentity",
    "people.add_tag",
    "people.add_attributevalue",
    "people.change_attributevalue",
    "people.delete_attributevalue",
    "installations.change_installation",
]
ADMIN_PERMISSIONS = [
    "people.delete_person",
    "people.change_tag",
    "people.delete_tag",
    "people.add_attributedefinition",
    "people.change_attributedefinition",
    "people.delete_attributedefinition",
    "installations.add_installation",
    "installations.delete_installation",
    "installations.add_application",
    "installations.change_application",
    "installations.delete_application",
    "portal.view_apikey",
    "portal.add_apikey",
    "portal.change_apikey",
    "portal.delete_apikey",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
    "auth.view_group",
]
ROLE_PERMISSIONS = {
    VIEWER: VIEW_PERMISSIONS,
    EDITOR: VIEW_PERMISSIONS + EDIT_PERMISSIONS,
    ADMINISTRATOR: VIEW_PERMISSIONS + EDIT_PERMISSIONS + ADMIN_PERMISSIONS,
}


def can_view(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("people.view_person")


def can_edit(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Edit people and installations: attributes, tags, contacts, primary, push, logout."""
    return user.is_authenticated and user.has_perm("people.change_person")


def can_delete_people(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("people.delete_person")


def can_manage_definitions(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("people.add_attributedefinition")


def role_of(user: AbstractBaseUser | AnonymousUser) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMINISTRATOR
    names = set(user.groups.values_list("name", flat=True))
    for role in (ADMINISTRATOR, EDITOR, VIEWER):
        if role in names:
            return role
    return None
