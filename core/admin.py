"""Admin base classes the apps' admins share, and the admin of API keys (core's model).

Every save and delete goes through a service. The forms check the values with the domain's own
parsers and look-ups, so a refusal shows at the field it concerns with the domain's code; what
a service still refuses (something changed meanwhile) rolls the save back and comes back as an
admin message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from core.errors import DomainError, ErrorCode
from core.models import ApiKey, ApiKeyRole

T = TypeVar("T")


def error_text(error: DomainError) -> str:
    """A DomainError for an admin message or a form error, with a link to a contested profile."""
    person_id = error.details.get("personId") if error.details else None
    if error.code == ErrorCode.USER_MERGE_INTERRUPTED and person_id:
        url = reverse("admin:people_person_change", args=[person_id])
        return format_html(
            '{} ({}) <a href="{}">Open person {}</a>', error.message, error.code, url, person_id
        )
    return f"{error.message} ({error.code})"


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows: COUNT(*) over millions of people is a full scan.

    Pages past the cap are not offered; the search box and the filters find anyone.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()


class ServiceModelForm(forms.ModelForm):
    """A model form whose values are checked by the domain, not by the model's unique checks.

    The unique checks would repeat the domain's rules with other words (validate_unique does
    nothing here); the form's ``clean()`` runs the domain's own checks instead (its parsers and
    look-ups, through ``check``) and shows a refusal at the field it names, with the domain's
    code. The service that ``save_model`` calls checks again under its locks: what changed in
    between is refused there (see ServiceAdmin).
    """

    # vendor field name (DomainError.field) -> form field name
    domain_field_names: dict[str, str] = {}

    def validate_unique(self) -> None:
        return None

    def add_domain_error(
        self, error: DomainError, field_names: dict[str, str] | None = None
    ) -> None:
        """Show ``error`` at the form field its vendor field name maps to, else above the form."""
        names = self.domain_field_names if field_names is None else field_names
        field = names.get(error.field or "")
        if field is None and error.field:
            prefix = error.field.split(".")[0].split("[")[0]
            field = names.get(prefix)
        self.add_error(field if field in self.fields else None, error_text(error))

    def check(self, call: Callable[[], T]) -> T | None:
        """``call()`` (a domain check); a DomainError it raises goes to its field (None)."""
        try:
            return call()
        except DomainError as error:
            self.add_domain_error(error)
            return None


class ServiceFormSet(BaseInlineFormSet):
    """Inline rows checked by the domain (see ServiceModelForm), never by unique checks."""

    def validate_unique(self) -> None:
        return None


class ServiceAdmin(admin.ModelAdmin):
    """Writes go to the services: ``save_model``, ``save_related`` and ``delete_model`` call them.

    The form checks the values first (ServiceModelForm), so a refusal shows at its field and
    nothing is written. A service can still refuse what changed between that check and its
    own, under its locks (another writer took the phone meanwhile): Django admin saves inside
    one transaction, so the DomainError rolls back everything the save wrote, and the page
    comes back with the refusal as an error message.
    """

    show_full_result_count = False
    paginator = CappedCountPaginator

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            if request.method != "POST":
                raise
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def delete_queryset(self, request, queryset):
        refused = 0
        for obj in queryset:
            try:
                self.delete_model(request, obj)
            except DomainError as error:
                refused += 1
                self.message_user(request, error_text(error), messages.ERROR)
        return refused


class ReadOnlyAdmin(ServiceAdmin):
    """View-only: the rows are written by the services, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def run_action(
    modeladmin: admin.ModelAdmin, request: HttpRequest, objects, action, done: str
) -> None:
    """Call ``action(obj)`` (a service call) for each object; report successes and refusals."""
    succeeded = 0
    for obj in objects:
        try:
            action(obj)
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error_text(error)}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        noun = (
            modeladmin.opts.verbose_name if succeeded == 1 else modeladmin.opts.verbose_name_plural
        )
        modeladmin.message_user(request, f"{done}: {succeeded} {noun}.", messages.SUCCESS)


# ---------------------------------------------------------------------------------------------
# API keys (core's own model)


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ("name", "role", "personal_data")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued here: the raw key is shown once, in a message; only its hash is kept."""

    form = ApiKeyForm
    list_display = (
        "name",
        "prefix",
        "role",
        "personal_data",
        "status",
        "created_at",
        "last_used_at",
    )
    list_filter = ("role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A key's name and role are what it was issued with; revoke it and issue another.
        return (
            "name",
            "role",
            "personal_data",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

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
