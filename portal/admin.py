"""Django admin for the portal: who may open it, API keys and operator accounts.

Only Administrators use Django admin (core.roles.can_use_admin): staff status alone is not
enough, so a Viewer or an Editor gets the admin's own refusal (its sign-in page) everywhere.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.html import format_html

from core import roles
from core.models import ApiKey, ApiKeyRole


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
# API keys


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "role")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued here: the raw key is shown once, in a message; only its hash is kept."""

    form = ApiKeyForm
    list_display = ("name", "prefix", "role", "status", "created_at", "last_used_at")
    list_filter = ("role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A key's name and role are what it was issued with; revoke it and issue another.
        return ("name", "role", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "role")
        return self.get_readonly_fields(request, obj)

    @admin.display(description="status")
    def status(self, key: ApiKey) -> str:
        return "active" if key.is_active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            return
        key, raw = ApiKey.issue(
            name=form.cleaned_data["name"], role=form.cleaned_data.get("role") or ApiKeyRole.READ
        )
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        self.message_user(
            request,
            format_html(
                "The new API key is <code>{}</code>. Copy it now: only its hash is stored, "
                "so it cannot be shown again. Send it as <code>Authorization: App {}</code>.",
                raw,
                raw,
            ),
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoke()
            # Actions leave no admin log entry by themselves: record who revoked the key.
            self.log_change(request, key, "Revoked.")
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)


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
