"""Django admin for applications and installations, through their services
(installations.services, installations.applications).

Make primary and Unset primary are the same service calls as the operator UI's buttons and the
API's PATCH: the one-primary rule holds and each leaves a history event with the administrator
as actor and source ADMIN. Remote logout, Push on and Push off start the console's bulk job
(jobs.engine) on the selected installations: one code path for many rows, whatever starts it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from core.admin import ServiceAdmin, ServiceFormSet, ServiceModelForm, error_text, run_action
from core.errors import DomainError, ErrorCode
from installations import services
from installations.applications import (
    KEEP,
    application_create,
    application_set_jwt,
    check_application_code_free,
    check_jwt_key_id,
    check_jwt_required,
    clean_jwt_secret,
)
from installations.models import Application, Installation, Platform
from jobs import engine
from jobs.actions import SELECTION_LIMIT
from people import custom_attributes as attribute_types
from people.admin import admin_actor, person_link
from people.lookups import name_filter, person_matches
from people.models import Person

SYSTEM_DATA_FIELDS = tuple(Installation.SYSTEM_DATA_FIELDS.values())
READ_ONLY_SYSTEM_DATA = tuple(f for f in SYSTEM_DATA_FIELDS if f != "registration_enabled")
# Written by the device's SDK; the push address only masked (push_service_token_shown).
SDK_FIELDS = (
    "application_user_id",
    *Installation.SDK_MODULE_FIELDS.values(),
    "push_service_token_shown",
)


# ---------------------------------------------------------------------------------------------
# Installations on the person page


class InstallationInlineFormSet(ServiceFormSet):
    def clean(self) -> None:
        super().clean()
        primary = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and form.cleaned_data.get("is_primary")
        ]
        if len(primary) > 1:
            raise forms.ValidationError("A person has at most one primary installation.")


class SendsBackWhatItShowed(forms.BaseForm):
    """Each field carries the value the page showed (Django's hidden initial), so a field the
    administrator left as shown is not written: what the device or an operator changed
    meanwhile stays. A post without it (not from the page) is compared with the stored row."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.show_hidden_initial = (
                not self.is_bound or self[name].html_initial_name in self.data
            )


class InstallationInlineForm(SendsBackWhatItShowed, ServiceModelForm):
    class Meta:
        model = Installation
        fields = ("is_primary", "registration_enabled")


class InstallationInline(admin.TabularInline):
    """The person's installations: primary and push editable, system data read-only."""

    model = Installation
    form = InstallationInlineForm
    formset = InstallationInlineFormSet
    fields = (
        "push_registration_id",
        "application",
        "os",
        "os_version",
        "device_model",
        "app_version",
        "is_primary",
        "registration_enabled",
        "modified_at",
    )
    readonly_fields = (
        "push_registration_id",
        "application",
        "os",
        "os_version",
        "device_model",
        "app_version",
        "modified_at",
    )
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # Installations come from devices (registration), not from an administrator.
        return False

    def save_through_services(self, request, person, formset) -> None:
        actor = admin_actor(request)
        changes = [
            (form, {name: form.cleaned_data[name] for name in form.changed_data})
            for form in formset.forms
            if form.has_changed()
        ]
        # Making one primary unsets the others in the same service call: an unticked old
        # primary needs no call of its own (nor a second history event).
        moving = any(data.get("is_primary") for _, data in changes)
        for form, data in sorted(changes, key=lambda change: bool(change[1].get("is_primary"))):
            if moving and data.get("is_primary") is False:
                del data["is_primary"]
            if data:
                services.installation_edit(
                    installation=form.instance.push_registration_id,
                    actor=actor,
                    is_primary=data.get("is_primary"),
                    registration_enabled=data.get("registration_enabled"),
                )


# ---------------------------------------------------------------------------------------------
# Installations


class PlatformFilter(admin.SimpleListFilter):
    """The known platforms; Django's own filter would read every row for distinct values."""

    title = "platform"
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return list(Platform.choices)

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(os=self.value())
        return queryset


class InstallationForm(SendsBackWhatItShowed, ServiceModelForm):
    """additionalData writes only the names changed from what the page showed."""

    domain_field_names = {
        "isPrimary": "is_primary",
        "systemData.registrationEnabled": "registration_enabled",
        "additionalData": "additional_data",
    }

    class Meta:
        model = Installation
        fields = ("is_primary", "registration_enabled", "additional_data")

    def clean(self):
        """additionalData as installation_update checks it: valid names and values, and no
        name changed both here and, since the page showed it, by someone else."""
        cleaned = super().clean()
        if "additional_data" not in self.changed_data or "additional_data" in self.errors:
            return cleaned
        typed = self.check(
            lambda: attribute_types.validate_additional_data(cleaned["additional_data"])
        )
        shown = _object_or_none(self.shown("additional_data"))
        if typed is None or shown is None:
            return cleaned
        try:
            services.edit_of_additional_data(self.instance.additional_data or {}, shown, typed)
        except DomainError as error:
            self.add_domain_error(error)
            if error.code == ErrorCode.VERSION_CONFLICT:
                self.show_stored()
        return cleaned

    def shown(self, name: str) -> Any:
        """The value the page showed for ``name`` (its hidden initial), or None."""
        raw = self.data.get(self[name].html_initial_name)
        if raw is None:
            return None
        try:
            return self.fields[name].to_python(raw)
        except ValidationError:
            return None

    def show_stored(self) -> None:
        """Take the values stored now as what the page showed: after a conflict the page
        shows the typed values again, and saving them writes them over the stored ones."""
        data = self.data.copy()
        for name, field in self.fields.items():
            text = field.hidden_widget().format_value(field.prepare_value(self.initial.get(name)))
            data[self[name].html_initial_name] = "" if text is None else text
            field.show_hidden_initial = True
        self.data = data


def _object_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


@admin.register(Installation)
class InstallationAdmin(ServiceAdmin):
    form = InstallationForm
    list_display = (
        "push_registration_id",
        "person_link",
        "application",
        "os",
        "device_model",
        "is_primary",
        "registration_enabled",
        "modified_at",
    )
    list_filter = ("application", PlatformFilter, "is_primary", "registration_enabled")
    list_select_related = ("person", "application")
    search_fields = ("push_registration_id",)
    search_help_text = (
        "pushRegistrationId, or the person's phone (any format), email, externalId (exact) "
        "or the start of a name."
    )
    ordering = ("-id",)
    actions = ["make_primary", "unset_primary", "remote_logout", "push_on", "push_off"]
    fieldsets = (
        (None, {"fields": ("push_registration_id", "person", "application")}),
        ("Operator settings", {"fields": ("is_primary", "registration_enabled")}),
        ("Installation custom attributes", {"fields": ("additional_data",)}),
        ("System data (written by the device)", {"fields": READ_ONLY_SYSTEM_DATA}),
        ("Written by the mobile SDK", {"fields": SDK_FIELDS}),
        (None, {"fields": ("created_at", "modified_at")}),
    )
    readonly_fields = (
        "push_registration_id",
        "person",
        "application",
        *READ_ONLY_SYSTEM_DATA,
        *SDK_FIELDS,
        "created_at",
        "modified_at",
    )

    @admin.display(description="person", ordering="person_id")
    def person_link(self, installation: Installation) -> str:
        return person_link(installation.person)

    @admin.display(description="push service token")
    def push_service_token_shown(self, installation: Installation) -> str:
        return installation.push_service_token_masked or "-"

    def has_add_permission(self, request):
        return False

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text:
            return queryset, False
        if queryset.filter(push_registration_id=text).exists():
            return queryset.filter(push_registration_id=text), False
        person_ids, _ = person_matches(text)
        if person_ids:
            return queryset.filter(person_id__in=person_ids), False
        condition = name_filter(text)
        if condition is None:
            return queryset.none(), False
        people = Person.objects.filter(condition).values("pk")
        return queryset.filter(person_id__in=people), False

    def save_model(self, request, obj: Installation, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        saved = services.installation_edit(
            installation=obj.push_registration_id,
            actor=admin_actor(request),
            is_primary=data.get("is_primary"),
            registration_enabled=data.get("registration_enabled"),
            additional_data=data.get("additional_data"),
            additional_data_shown=_object_or_none(form.shown("additional_data")),
        )
        for field in Installation._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))

    def delete_model(self, request, obj: Installation) -> None:
        # An uninstall: the Uninstall event stays in the person's history.
        services.installation_delete(
            installation=obj.push_registration_id, actor=admin_actor(request)
        )

    def get_deleted_objects(self, objs, request):
        items = [str(o) for o in objs]
        summary = [*items, "Each leaves an Uninstall event in its person's history."]
        return summary, {"installations": len(items)}, set(), []

    # Actions. Make and Unset primary call their service for every selected installation, as
    # the administrator (source ADMIN), in the order they were created; a refusal is reported
    # and the others go on. Remote logout and push on/off are bulk jobs, the console's
    # (jobs.engine.start_job), on the people who hold the selected installations and
    # restricted to them: the same locks, events naming the job, undo (push) and job page.

    @admin.action(description="Make primary", permissions=["change"])
    def make_primary(self, request, queryset):
        actor = admin_actor(request)
        run_action(
            self,
            request,
            queryset.order_by("id"),
            lambda item: services.installation_set_primary(
                installation=item.push_registration_id, actor=actor
            ),
            "Made primary",
        )

    @admin.action(description="Unset primary", permissions=["change"])
    def unset_primary(self, request, queryset):
        actor = admin_actor(request)
        run_action(
            self,
            request,
            queryset.order_by("id"),
            lambda item: services.installation_unset_primary(
                installation=item.push_registration_id, actor=actor
            ),
            "Unset primary",
        )

    @admin.action(description="Remote logout (depersonalize), as a job", permissions=["change"])
    def remote_logout(self, request, queryset):
        start_installations_job(self, request, queryset, LOGOUT, {}, "remote logout")

    @admin.action(description="Push on, as a job", permissions=["change"])
    def push_on(self, request, queryset):
        start_installations_job(self, request, queryset, PUSH, {"enabled": True}, "push on")

    @admin.action(description="Push off, as a job", permissions=["change"])
    def push_off(self, request, queryset):
        start_installations_job(self, request, queryset, PUSH, {"enabled": False}, "push off")


# The bulk actions' kinds (populations/actions/), by name: this app sits below them.
PUSH = "push.set"
LOGOUT = "installations.logout"


def start_installations_job(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset,
    kind: str,
    params: dict[str, Any],
    what: str,
) -> None:
    """One job of ``kind`` on the people who hold the selected installations, restricted to
    them (``installations``), as the administrator (source ADMIN); the message links its page.
    At most SELECTION_LIMIT installations (a job stores its selection): more are refused,
    having read one more than the limit, however many were selected."""
    rows = list(queryset.order_by("pk").values_list("pk", "person_id")[: SELECTION_LIMIT + 1])
    if len(rows) > SELECTION_LIMIT:
        modeladmin.message_user(
            request,
            f"At most {SELECTION_LIMIT:,} installations can be selected for {what}; "
            "select fewer, or run it on a search from the console.",
            messages.WARNING,
        )
        return
    try:
        job = engine.start_job(
            kind=kind,
            query={"ids": sorted({person_id for _, person_id in rows})},
            params={**params, "installations": [pk for pk, _ in rows]},
            actor=admin_actor(request),
        )
    except DomainError as error:
        modeladmin.message_user(request, error_text(error), messages.ERROR)
        return
    url = reverse("populations:job_detail", kwargs={"pk": job.pk})
    count = f"{len(rows):,} installation{'' if len(rows) == 1 else 's'}"
    modeladmin.message_user(
        request,
        format_html('<a href="{}">Job {}</a> started: {} for {}.', url, job.pk, what, count),
        messages.SUCCESS,
    )


# ---------------------------------------------------------------------------------------------
# Applications


class ApplicationForm(ServiceModelForm):
    code = forms.CharField(
        required=False,
        max_length=64,
        help_text="What devices and API clients send as AppCode; generated when left empty.",
    )
    # The secret is write-only: never rendered back, not even masked (render_value=False).
    new_jwt_secret = forms.CharField(
        label="JWT secret key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The key that signs the app's user data JWTs (HS256), as hexadecimal (the"
        " vendor's secretKeyHex), at least 32 bytes. Leave empty to keep the stored one; it is"
        " never shown again.",
    )
    remove_jwt_secret = forms.BooleanField(
        label="Remove the JWT secret", required=False, help_text="Devices can no longer use JWT."
    )

    domain_field_names = {
        "name": "name",
        "code": "code",
        "jwtKeyId": "jwt_key_id",
        "jwtSecret": "new_jwt_secret",
        "jwtRequired": "jwt_required",
    }

    class Meta:
        model = Application
        fields = ("name", "code", "jwt_key_id", "jwt_required")
        labels = {"jwt_key_id": "JWT key id (kid)", "jwt_required": "Require JWT"}
        help_texts = {
            "jwt_key_id": "The kid that tokens signed with the secret carry in their header.",
            "jwt_required": "Personalize needs a JWT for the externalId it names, and the user"
            " of an identified person is read and saved only with a JWT for that person.",
        }

    def clean(self):
        """As application_create and application_set_jwt check: a code no application has,
        a secret of 32 to 128 bytes in hex with its key id, JWT required only with a secret."""
        cleaned = super().clean()
        code = cleaned.get("code")
        if not self.instance.pk and code:
            self.check(lambda: check_application_code_free(code))
        if self.errors or not set(self.changed_data) & set(JWT_SETTINGS):
            return cleaned
        secret = self.instance.jwt_secret
        if cleaned.get("remove_jwt_secret"):
            secret = ""
        elif cleaned.get("new_jwt_secret"):
            secret = self.check(lambda: clean_jwt_secret(cleaned["new_jwt_secret"]))
            if secret is None:
                return cleaned
        self.check(lambda: check_jwt_key_id(secret, cleaned.get("jwt_key_id") or ""))
        self.check(lambda: check_jwt_required(bool(cleaned.get("jwt_required")), secret))
        return cleaned


JWT_FIELDS = ("jwt_key_id", "jwt_secret_status", "new_jwt_secret", "remove_jwt_secret")
# The fields whose change saves the JWT settings (application_set_jwt).
JWT_SETTINGS = ("jwt_key_id", "new_jwt_secret", "remove_jwt_secret", "jwt_required")


@admin.register(Application)
class ApplicationAdmin(ServiceAdmin):
    form = ApplicationForm
    list_display = ("name", "code", "jwt_required", "created_at")
    search_fields = ("name", "code")
    fieldsets = (
        (None, {"fields": ("name", "code", "created_at")}),
        ("User data authorization (JWT)", {"fields": (*JWT_FIELDS, "jwt_required")}),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("name", "code")}), self.fieldsets[1])
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        # Devices and API clients hold the code, so it stays; there is no rename service.
        fixed = ("name", "code", "created_at") if obj else ("created_at",)
        return (*fixed, "jwt_secret_status")

    @admin.display(description="JWT secret")
    def jwt_secret_status(self, obj: Application | None) -> str:
        if obj is None or not obj.jwt_secret:
            return "Not set"
        return "Set (hidden)"

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text:
            return queryset, False
        return queryset.filter(Q(code=text) | Q(name__istartswith=text)), False

    def save_model(self, request, obj: Application, form, change: bool) -> None:
        data = form.cleaned_data
        saved = obj
        if not change:
            saved = application_create(
                name=data["name"], code=data.get("code") or None, actor=admin_actor(request)
            )
        if set(form.changed_data) & set(JWT_SETTINGS):
            saved = self._save_jwt(request, saved, data)
        for field in Application._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def _save_jwt(self, request, application: Application, data: dict) -> Application:
        secret = KEEP
        if data.get("remove_jwt_secret"):
            secret = None
        elif data.get("new_jwt_secret"):
            secret = data["new_jwt_secret"]
        return application_set_jwt(
            application=application,
            key_id=data.get("jwt_key_id") or "",
            secret=secret,
            required=bool(data.get("jwt_required")),
            actor=admin_actor(request),
        )

    def get_deleted_objects(self, objs, request):
        """An application with installations cannot go (its installations protect it)."""
        applications = list(objs)
        protected = []
        for application in applications:
            used_by = Installation.objects.filter(application=application).count()
            if used_by:
                protected.append(
                    f"Application {application.name!r} has {used_by} installations and cannot "
                    "be deleted."
                )
        return [str(a) for a in applications], {"applications": len(applications)}, set(), protected
