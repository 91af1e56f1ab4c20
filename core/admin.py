"""Admin base classes: every save and delete goes through a service, and a DomainError it
raises comes back as an error at the field of the form it concerns, or as an admin message."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import BaseInlineFormSet, construct_instance
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from core.errors import DomainError, ErrorCode


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
    """A model form whose values are checked by the domain, not by model validation.

    Model validation would repeat the rules (uniqueness, constraints) with other words; the
    services check them and answer with the domain's error codes, shown at the field.
    """

    def _post_clean(self) -> None:
        try:
            self.instance = construct_instance(
                self, self.instance, self._meta.fields, self._meta.exclude
            )
        except ValidationError as error:
            self._update_errors(error)

    def add_domain_error(self, error: DomainError, field_names: dict[str, str]) -> None:
        field = field_names.get(error.field or "")
        if field is None and error.field:
            prefix = error.field.split(".")[0].split("[")[0]
            field = field_names.get(prefix)
        self.add_error(field if field in self.fields else None, error_text(error))


class ServiceFormSet(BaseInlineFormSet):
    """Inline rows checked by the domain (see ServiceModelForm), never by unique checks."""

    def validate_unique(self) -> None:
        return None


class ServiceAdmin(admin.ModelAdmin):
    """Writes go to the services; a DomainError raised while saving shows on the form.

    The admin saves inside one transaction (changeform_view), so when a service refuses, what
    was written before it is rolled back; the same POST is then shown again with the error
    at the field it names, and nothing is saved.
    """

    # vendor field name (DomainError.field) -> form field name
    domain_field_names: dict[str, str] = {}
    show_full_result_count = False
    paginator = CappedCountPaginator

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            if request.method != "POST":
                raise
            request._domain_error = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, "_domain_error", None)
        if error is None:
            return form_class
        field_names = self.domain_field_names

        class FormWithDomainError(form_class):
            def clean(self):
                cleaned = super().clean()
                if isinstance(self, ServiceModelForm):
                    self.add_domain_error(error, field_names)
                else:
                    self.add_error(None, error_text(error))
                return cleaned

        return FormWithDomainError

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


def read_only(model_admin_class):
    """Make a ModelAdmin view-only: rows are written by the services, never by hand."""

    def no(self, request, obj=None):
        return False

    model_admin_class.has_add_permission = no
    model_admin_class.has_change_permission = no
    model_admin_class.has_delete_permission = no
    return model_admin_class
