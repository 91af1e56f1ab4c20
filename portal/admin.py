"""Django admin for the portal: who may open it, and operator accounts.

Only Administrators use Django admin (core.roles.can_use_admin): staff status alone is not
enough, so a Viewer or an Editor gets the admin's own refusal (its sign-in page) everywhere.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest

from core import roles
from portal.models import OperatorPreference


def _administrators_only(request: HttpRequest) -> bool:
    return roles.can_use_admin(request.user)


# The default site is built by django.contrib.admin before this module runs; its permission
# check (any active staff user) is replaced rather than the site itself, so the models the
# other apps registered on it stay registered.
admin.site.has_permission = _administrators_only
admin.site.site_header = "People Portal administration"
admin.site.site_title = "People Portal admin"
admin.site.index_title = "Administration"
admin.site.site_url = "/"


# ---------------------------------------------------------------------------------------------
# Operators


ROLE_CHOICES = [(name, label) for name, label in roles.ROLES.items()]


class OperatorCreationForm(AdminUserCreationForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="viewer")


class OperatorChangeForm(UserChangeForm):
    role = forms.ChoiceField(
        choices=ROLE_CHOICES,
        help_text="Viewer reads; Editor also edits people and installations; Administrator "
        "also deletes people, manages definitions, applications, API keys and operators, and "
        "uses this admin.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        role = roles.role_of(self.instance) if self.instance.pk else None
        names = {label: name for name, label in roles.ROLES.items()}
        self.fields["role"].initial = names.get(role, "viewer")


admin.site.unregister(User)


@admin.register(User)
class OperatorAdmin(DjangoUserAdmin):
    """Operator accounts: the role (a group) replaces raw groups, permissions and staff."""

    form = OperatorChangeForm
    add_form = OperatorCreationForm
    list_display = ("username", "first_name", "last_name", "email", "role", "is_active")
    list_filter = ("groups", "is_active")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Role", {"fields": ("role", "is_active", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("is_superuser", "last_login", "date_joined")
    filter_horizontal = ()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def role(self, user: User) -> str:
        if user.is_superuser:
            return f"{roles.ADMINISTRATOR} (superuser)"
        names = {group.name for group in user.groups.all()}
        for role in (roles.ADMINISTRATOR, roles.EDITOR, roles.VIEWER):
            if role in names:
                return role
        return "-"

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        roles.operator_set_role(user=form.instance, role=form.cleaned_data["role"])


@admin.register(OperatorPreference)
class OperatorPreferenceAdmin(admin.ModelAdmin):
    """Operators' preferences (each sets their own on the Preferences page); a change here
    applies from the operator's next sign-in (it is read into the session then)."""

    list_display = ("user", "time_zone")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
