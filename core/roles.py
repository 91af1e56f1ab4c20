"""Operator roles (Django groups) and the checks every interface makes with them.

Viewer reads everything; Editor also edits people and installations; Administrator also
deletes people and manages definitions, applications, API keys and operators. The groups and
their permissions are created by a data migration (portal/migrations).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, User
from django.db import transaction

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
    "people.view_customeventdefinition",
    "people.view_attributevalue",
    "people.view_event",
    "installations.view_installation",
    "installations.view_application",
    # A Viewer sees phones, emails and externalIds masked and may reveal one with a reason.
    "people.reveal_personal_data",
]
EDIT_PERMISSIONS = [
    "people.see_personal_data",
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
    "people.add_customeventdefinition",
    "people.change_customeventdefinition",
    "installations.add_installation",
    "installations.delete_installation",
    "installations.add_application",
    "installations.change_application",
    "installations.delete_application",
    "core.view_apikey",
    "core.add_apikey",
    "core.change_apikey",
    "core.delete_apikey",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.delete_user",
    "auth.view_group",
    "portal.view_operatorpreference",
    "portal.add_operatorpreference",
    "portal.change_operatorpreference",
    "portal.delete_operatorpreference",
    "privacy.view_erasure",
    "privacy.view_accessrecord",
    "people.view_notduplicate",
    "people.view_duplicatepair",
    # Every operator's saved views (each operator manages their own in the UI).
    "populations.view_savedview",
    "populations.add_savedview",
    "populations.change_savedview",
    "populations.delete_savedview",
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


def can_use_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Django admin is for Administrators only: staff status alone does not open it.

    A Viewer or Editor who was made staff by hand is still refused, so the admin can never
    become a back door around the role of an operator.
    """
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return role_of(user) == ADMINISTRATOR


def role_of(user: AbstractBaseUser | AnonymousUser) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMINISTRATOR
    # Django admin asks several times per request: remember the answer on the user object
    # (request.user lives for one request; operator_set_role forgets it).
    cached = getattr(user, "_portal_role", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in (ADMINISTRATOR, EDITOR, VIEWER) if r in names), None)
    user._portal_role = role
    return role


def role_from_name(name: str) -> str:
    """The group name of a role given as ``viewer``, ``Editor``, ``ADMINISTRATOR``..."""
    role = ROLES.get((name or "").strip().lower())
    if role is None:
        raise ValueError(f"Unknown role {name!r}: expected one of {', '.join(ROLES)}.")
    return role


@transaction.atomic
def operator_set_role(*, user: User, role: str) -> User:
    """Give ``user`` exactly one role; only Administrators are staff (may open Django admin)."""
    role = role_from_name(role)
    user.groups.remove(*Group.objects.filter(name__in=list(ROLE_PERMISSIONS)))
    user.groups.add(Group.objects.get(name=role))
    user.__dict__.pop("_portal_role", None)
    is_staff = role == ADMINISTRATOR
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def operator_create(
    *, username: str, role: str, password: str | None = None, email: str = ""
) -> User:
    """A new operator account with one role; without a password it cannot sign in yet."""
    role = role_from_name(role)
    user = User.objects.create_user(username=username, email=email, password=password)
    return operator_set_role(user=user, role=role)


def sync_roles(**kwargs) -> None:
    """Make the role groups hold exactly the permissions listed above.

    The data migration creates the groups; this runs after every ``migrate`` (post_migrate)
    so that a changed list reaches the database, and after a test flush, which empties them.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes

    # post_migrate reaches the apps one by one: make sure every app's permissions exist.
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    for role, dotted_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in dotted_names:
            app_label, codename = dotted.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
