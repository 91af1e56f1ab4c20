"""Django admin for people: every save and delete goes through people.services.

Administrators get raw access to every table, but not a second set of rules: the forms parse
input with the same functions as the UI and the API, the services write it (with a history
event whose actor is the administrator and whose source is ADMIN), and a DomainError comes back
as an error at the field of the form it concerns, or as an admin message.

The person changelist (its search box and list filters) is directory.admin's: it reads them as
the one query of directory.search.
"""

from __future__ import annotations

import re
from typing import Any

import simplejson
from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdmin, ServiceAdmin, ServiceFormSet, ServiceModelForm
from core.api.json import JSONInputError, parse_json
from core.errors import DomainError, ErrorCode
from people import custom_attributes as attribute_types
from people import event_definitions, services
from people.apply import owner_of_external_id, owner_of_identity
from people.changes import PersonChanges, contact_changes, parse_tag_names, replace_changes
from people.fields import STANDARD_FIELDS
from people.forms import split_lines
from people.history import Actor
from people.identities import normalize_email, parse_phone, try_email, try_phone
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    CustomEventDefinition,
    Event,
    IdentityKind,
    Person,
    Source,
    Tag,
)
from people.name_keys import name_key

# ---------------------------------------------------------------------------------------------
# Shared pieces of the people admins (installations/admin.py uses them too)


def admin_actor(request: HttpRequest) -> Actor:
    """The history actor of an admin write: the administrator, source ADMIN."""
    return Actor.operator(request.user, source=Source.ADMIN)


def person_link(person: Person | None) -> str:
    if person is None:
        return "-"
    url = reverse("admin:people_person_change", args=[person.pk])
    return format_html('<a href="{}">{}</a>', url, person)


# ---------------------------------------------------------------------------------------------
# Person


def _dumps(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False, indent=2, sort_keys=True)


# Where the person admin shows a DomainError's field (directory.admin.PersonAdmin).
PERSON_DOMAIN_FIELDS = {
    **{vendor: model_field for vendor, (model_field, _) in STANDARD_FIELDS.items()},
    "tags": "tags_text",
    "customAttributes": "custom_attributes_text",
}


class PersonAdminForm(ServiceModelForm):
    """Standard attributes as model fields; tags and custom attributes as text the services
    parse (one tag per line; custom attributes as a JSON object, as in the API)."""

    tags_text = forms.CharField(
        label="Tags",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One tag per line.",
    )
    custom_attributes_text = forms.CharField(
        label="Custom attributes",
        required=False,
        # A class, not a style attribute: the Content-Security-Policy refuses inline styles.
        widget=forms.Textarea(attrs={"rows": 6, "class": "monospace"}),
        help_text='A JSON object of name -> value, as in the API: {"Age": 31, "VIP": true}. '
        "Every attribute must be defined first; a name left out is removed.",
    )
    # The version the form was shown at: saving over a newer edit is refused (VERSION_CONFLICT).
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Person
        fields = [model_field for model_field, _ in STANDARD_FIELDS.values()]

    class Media:
        css = {"all": ["css/admin.css"]}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        person = self.instance
        if person.pk:
            self.fields["tags_text"].initial = "\n".join(t.name for t in person.tags.all())
            values = person.attribute_values.select_related("definition")
            self.fields["custom_attributes_text"].initial = _dumps(
                {
                    row.definition.name: attribute_types.serialize_value(
                        row.definition, attribute_types.from_row(row.definition, row)
                    )
                    for row in values
                }
            )
            self.fields["expected_version"].initial = person.version
        else:
            self.fields["custom_attributes_text"].initial = "{}"

    def standard_values(self) -> dict[str, Any]:
        """The standard attributes by their vendor names, as text (what the services parse)."""
        values: dict[str, Any] = {}
        for vendor, (model_field, _) in STANDARD_FIELDS.items():
            if model_field not in self.cleaned_data:
                continue
            value = self.cleaned_data[model_field]
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            values[vendor] = value
        return values

    def tag_names(self) -> list[str]:
        text = self.cleaned_data.get("tags_text") or ""
        return split_lines(text)

    def custom_attribute_values(self) -> dict[str, Any] | None:
        text = (self.cleaned_data.get("custom_attributes_text") or "").strip() or "{}"
        try:
            return parse_json(text)
        except JSONInputError as error:
            self.add_error("custom_attributes_text", f"{error}.")
            return None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        custom = self.custom_attribute_values()
        if custom is None:
            return cleaned
        try:
            self.person_changes = replace_changes(
                fields=self.standard_values(), tags=self.tag_names(), custom_attributes=custom
            )
        except DomainError as error:
            self.add_domain_error(error, PERSON_DOMAIN_FIELDS)
            return cleaned
        for error in person_refusals(
            self.instance, self.person_changes, self.cleaned_data.get("expected_version")
        ):
            self.add_domain_error(error, PERSON_DOMAIN_FIELDS)
        return cleaned


class IdentityForm(ServiceModelForm):
    """A phone or an email, checked with the same normalization the services use, and
    refused when it belongs to another person (the services never merge two people)."""

    # What is typed, not what is stored (the services normalize it): the model's unique
    # constraint on (kind, value) does not judge it, the owner check below does.
    value = forms.CharField(max_length=320)
    domain_field_names = {
        "value": "value",
        "contactInformation.phone": "value",
        "contactInformation.email": "value",
    }

    class Meta:
        model = ContactIdentity
        fields = ("kind", "value")
        exclude = ("value",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("value", self.instance.value)

    def person_id(self) -> int | None:
        return self.instance.person_id

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind and value:
            stored = self.check(lambda: stored_identity(kind, value))
            if stored is not None:
                owner = owner_of_identity(kind, stored)
                if owner is not None and owner != self.person_id():
                    self.add_domain_error(identity_taken(kind, stored, owner))
        return cleaned


def stored_identity(kind: str, value: str) -> str:
    """A phone or an email as the services store it (a refusal names the field ``value``)."""
    if kind == IdentityKind.PHONE:
        return parse_phone(value, field="value").number
    return normalize_email(value, field="value")


def identity_taken(kind: str, value: str, owner: int) -> DomainError:
    """What the services answer when a phone or email already belongs to another person."""
    return DomainError(
        ErrorCode.USER_MERGE_INTERRUPTED,
        f"{kind.lower()} {value} already belongs to person {owner}.",
        field=f"contactInformation.{kind.lower()}",
        details={"personId": owner},
    )


def person_refusals(
    person: Person, changes: PersonChanges, expected_version: int | None
) -> list[DomainError]:
    """What person_create or person_update would refuse for the stored rows: an externalId of
    another person, an edit of an older version (they check again under their locks)."""
    refusals = []
    external_id = changes.fields.get("external_id")
    owner = owner_of_external_id(external_id) if external_id else None
    if owner is not None and owner != person.pk:
        refusals.append(
            DomainError(
                ErrorCode.USER_MERGE_INTERRUPTED,
                f"externalId {external_id!r} already belongs to person {owner}.",
                field="externalId",
                details={"personId": owner},
            )
        )
    if person.pk and expected_version is not None and person.version != expected_version:
        refusals.append(
            DomainError(
                ErrorCode.VERSION_CONFLICT,
                f"This profile was changed since version {expected_version}"
                f" (now version {person.version}).",
                details={"version": person.version, "modifiedAt": person.modified_at.isoformat()},
            )
        )
    return refusals


class ContactIdentityInline(admin.TabularInline):
    model = ContactIdentity
    form = IdentityForm
    formset = ServiceFormSet
    fields = ("kind", "value", "national_number", "created_at")
    readonly_fields = ("national_number", "created_at")
    extra = 1

    def save_through_services(self, request, person: Person, formset) -> None:
        """Add and remove the phones and emails of the formset in one edit (one event)."""
        add: dict[str, list[str]] = {IdentityKind.PHONE: [], IdentityKind.EMAIL: []}
        remove: dict[str, list[str]] = {IdentityKind.PHONE: [], IdentityKind.EMAIL: []}
        deleted = formset.deleted_forms  # the formset is valid here
        for form in formset.forms:
            if not form.has_changed() and form not in deleted:
                continue
            old_kind, old_value = form.initial.get("kind"), form.initial.get("value")
            if old_value and (form in deleted or form.has_changed()):
                remove[old_kind].append(old_value)
            if form not in deleted and form.cleaned_data.get("value"):
                add[form.cleaned_data["kind"]].append(form.cleaned_data["value"])
        if any(add.values()) or any(remove.values()):
            changes = contact_changes(
                phones=add[IdentityKind.PHONE],
                emails=add[IdentityKind.EMAIL],
                phones_remove=remove[IdentityKind.PHONE],
                emails_remove=remove[IdentityKind.EMAIL],
            )
            services.person_update(person=person, actor=admin_actor(request), changes=changes)


# ---------------------------------------------------------------------------------------------
# Contact identities, tags, custom attribute definitions and values, history


class StandaloneIdentityForm(IdentityForm):
    class Meta:
        model = ContactIdentity
        fields = ("person", "kind", "value")
        exclude = ("value",)

    def person_id(self) -> int | None:
        person = self.cleaned_data.get("person")
        return person.pk if person else None


@admin.register(ContactIdentity)
class ContactIdentityAdmin(ServiceAdmin):
    form = StandaloneIdentityForm
    list_display = ("value", "kind", "person_link", "created_at")
    list_filter = ("kind",)
    list_select_related = ("person",)
    raw_id_fields = ("person",)
    search_fields = ("value",)
    search_help_text = "A phone in any format or an email (exact)."
    ordering = ("-id",)

    @admin.display(description="person")
    def person_link(self, identity: ContactIdentity) -> str:
        return person_link(identity.person)

    def has_change_permission(self, request, obj=None):
        # A phone or email is added or removed (here or on the person); never rewritten.
        return False

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text:
            return queryset, False
        if "@" in text:
            email = try_email(text)
            if email is None:
                return queryset.none(), False
            return queryset.filter(kind=IdentityKind.EMAIL, value=email), False
        phone = try_phone(text)
        if phone is None:
            return queryset.none(), False
        return queryset.filter(kind=IdentityKind.PHONE, value=phone.number), False

    def save_model(self, request, obj: ContactIdentity, form, change: bool) -> None:
        kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
        if kind == IdentityKind.PHONE:
            stored = parse_phone(value).number
            services.person_add_phone(person=obj.person, actor=admin_actor(request), number=value)
        else:
            stored = normalize_email(value)
            services.person_add_email(person=obj.person, actor=admin_actor(request), address=value)
        saved = ContactIdentity.objects.get(kind=kind, value=stored)
        obj.pk, obj.value, obj.national_number = saved.pk, saved.value, saved.national_number
        obj._state.adding = False

    def delete_model(self, request, obj: ContactIdentity) -> None:
        if obj.kind == IdentityKind.PHONE:
            services.person_remove_phone(
                person=obj.person_id, actor=admin_actor(request), number=obj.value
            )
        else:
            services.person_remove_email(
                person=obj.person_id, actor=admin_actor(request), address=obj.value
            )

    def get_deleted_objects(self, objs, request):
        items = [str(o) for o in objs]
        return items, {"contact identities": len(items)}, set(), []


class TagForm(ServiceModelForm):
    """A new tag: the name as tag_create checks it, and not one that exists in another case."""

    domain_field_names = {"name": "name"}

    class Meta:
        model = Tag
        fields = ("name",)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk or not cleaned.get("name"):
            return cleaned
        parsed = self.check(lambda: parse_tag_names([cleaned["name"]], field_name="name"))
        if parsed and Tag.objects.filter(name_key=name_key(parsed[0])).exists():
            self.add_domain_error(
                DomainError(ErrorCode.BAD_REQUEST, f"Tag {parsed[0]!r} exists already.", "name")
            )
        return cleaned


@admin.register(Tag)
class TagAdmin(ServiceAdmin):
    form = TagForm
    list_display = ("name", "created_at")
    search_fields = ("name",)
    search_help_text = "The start of a tag name (any case)."

    def get_readonly_fields(self, request, obj=None):
        # No rename: a tag is added to and removed from people, each change in their history.
        return ("name", "created_at") if obj else ("created_at",)

    def get_search_results(self, request, queryset, search_term):
        text = name_key(search_term)
        if not text:
            return queryset, False
        return queryset.filter(name_key__startswith=text), False

    def save_model(self, request, obj: Tag, form, change: bool) -> None:
        if change:
            return
        saved = services.tag_create(name=form.cleaned_data["name"], actor=admin_actor(request))
        obj.pk, obj.name, obj.created_at = saved.pk, saved.name, saved.created_at
        obj._state.adding = False

    def delete_model(self, request, obj: Tag) -> None:
        services.tag_delete(tag=obj, actor=admin_actor(request))

    def get_deleted_objects(self, objs, request):
        tags = list(objs)
        through = Person.tags.through
        people = through.objects.filter(tag__in=tags).count()
        summary = [str(t) for t in tags]
        summary.append(f"The tags are removed from {people} people (each gets a history event).")
        return summary, {"tags": len(tags)}, set(), []


class DefinitionForm(ServiceModelForm):
    """A custom attribute definition, checked as attribute_definition_create and _update do."""

    object_schema = forms.JSONField(
        required=False,
        help_text='LIST_OF_OBJECTS only: field name -> type, e.g. {"sku": "STRING", '
        '"price": "DECIMAL"}.',
    )
    domain_field_names = {
        "name": "name",
        "dataType": "data_type",
        "objectSchema": "object_schema",
        "description": "description",
    }

    class Meta:
        model = AttributeDefinition
        fields = ("name", "data_type", "object_schema", "description")

    def clean(self):
        cleaned = super().clean()
        if "data_type" in self.fields and "data_type" not in self.errors:
            data_type = self.check(lambda: attribute_types.validate_data_type(cleaned["data_type"]))
            if data_type and "object_schema" not in self.errors:
                self.check(
                    lambda: attribute_types.validate_object_schema(
                        data_type, cleaned.get("object_schema")
                    )
                )
        if "name" in self.errors:
            return cleaned
        name = self.check(lambda: attribute_types.validate_definition_name(cleaned.get("name")))
        taken = AttributeDefinition.objects.filter(name_key=name_key(name or ""))
        if name and taken.exclude(pk=self.instance.pk).exists():
            self.add_domain_error(
                DomainError(
                    ErrorCode.BAD_REQUEST, f"Custom attribute {name!r} exists already.", "name"
                )
            )
        return cleaned


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(ServiceAdmin):
    form = DefinitionForm
    list_display = ("name", "data_type", "description", "created_at")
    list_filter = ("data_type",)
    search_fields = ("name",)

    def get_readonly_fields(self, request, obj=None):
        # The data type never changes once set (DOMAIN.md), nor the shape of its objects.
        return ("data_type", "object_schema", "created_at") if obj else ("created_at",)

    def get_search_results(self, request, queryset, search_term):
        text = name_key(search_term)
        if not text:
            return queryset, False
        return queryset.filter(name_key__startswith=text), False

    def save_model(self, request, obj: AttributeDefinition, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = services.attribute_definition_update(
                definition=obj,
                name=data["name"],
                description=data.get("description", ""),
                actor=admin_actor(request),
            )
        else:
            saved = services.attribute_definition_create(
                name=data["name"],
                data_type=data["data_type"],
                object_schema=data.get("object_schema"),
                description=data.get("description", ""),
                actor=admin_actor(request),
            )
        for field in AttributeDefinition._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def delete_model(self, request, obj: AttributeDefinition) -> None:
        services.attribute_definition_delete(definition=obj, actor=admin_actor(request))

    def get_deleted_objects(self, objs, request):
        """A definition in use is listed as protected, with how many people use it.

        The rule itself is the service's (ATTRIBUTE_IN_USE); this only says it before the
        confirmation, instead of listing every value row as Django would.
        """
        definitions = list(objs)
        protected = []
        for definition in definitions:
            used_by = services.attribute_definition_usage(definition)
            if used_by:
                protected.append(
                    f"Custom attribute {definition.name!r} is used by {used_by} "
                    f"{'person' if used_by == 1 else 'people'} and cannot be deleted."
                )
        return [str(d) for d in definitions], {"definitions": len(definitions)}, set(), protected


@admin.register(AttributeValue)
class AttributeValueAdmin(ReadOnlyAdmin):
    """Values are edited on the person (custom attributes), never row by row."""

    list_display = ("definition", "person_link", "value")
    list_filter = ("definition__data_type",)
    list_select_related = ("person", "definition")
    ordering = ("-id",)

    @admin.display(description="person")
    def person_link(self, row: AttributeValue) -> str:
        return person_link(row.person)

    @admin.display(description="value")
    def value(self, row: AttributeValue) -> str:
        value = attribute_types.serialize_value(
            row.definition, attribute_types.from_row(row.definition, row)
        )
        return _dumps(value) if isinstance(value, list | dict) else str(value)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """A person's history: written by the services only, never edited."""

    list_display = (
        "created_at",
        "kind",
        "person_link",
        "actor_label",
        "source",
        "push_registration_id",
    )
    list_filter = ("kind", "source", "actor_kind")
    list_select_related = ("person",)
    search_fields = ("push_registration_id",)
    search_help_text = "A person id, or a pushRegistrationId (exact)."
    ordering = ("-id",)
    fields = (
        "created_at",
        "kind",
        "person",
        "actor_kind",
        "actor_label",
        "actor_user",
        "source",
        "push_registration_id",
        "changes_summary",
    )
    readonly_fields = ("changes_summary",)

    @admin.display(description="person")
    def person_link(self, event: Event) -> str:
        return person_link(event.person)

    @admin.display(description="changes")
    def changes_summary(self, event: Event) -> str:
        return format_html_join(
            "\n",
            "<div><code>{}</code>: {}</div>",
            ((k, _dumps(v)) for k, v in event.changes.items()),
        )

    def get_search_results(self, request, queryset, search_term):
        text = search_term.strip()
        if not text:
            return queryset, False
        if text.isdigit():
            return queryset.filter(person_id=int(text)), False
        return queryset.filter(push_registration_id=text), False


# ---------------------------------------------------------------------------------------------
# Custom event definitions


# The definitionId event_definition_create accepts.
DEFINITION_ID = re.compile(r"[A-Za-z0-9]{1,36}")


class EventDefinitionForm(ServiceModelForm):
    """Checked as event_definition_create does: the id's form, a new id, the fields' shape.
    Taking a field away or retyping it is refused by event_definition_update (an error
    message, nothing saved)."""

    domain_field_names = {
        "definitionId": "definition_id",
        "title": "title",
        "description": "description",
        "fields": "fields",
    }

    class Meta:
        model = CustomEventDefinition
        fields = ("definition_id", "title", "description", "fields")

    def clean(self):
        cleaned = super().clean()
        if "fields" not in self.errors:
            self.check(lambda: event_definitions.clean_fields(cleaned.get("fields")))
        definition_id = cleaned.get("definition_id")
        if self.instance.pk or not definition_id:
            return cleaned
        if not DEFINITION_ID.fullmatch(definition_id):
            self.add_domain_error(
                DomainError(
                    ErrorCode.BAD_REQUEST,
                    "definitionId must be 1 to 36 letters or digits (a-z, A-Z, 0-9).",
                    "definitionId",
                )
            )
        elif event_definitions.definition_named(definition_id) is not None:
            self.add_domain_error(
                DomainError(
                    ErrorCode.CONFLICT,
                    f"Event definition {definition_id!r} exists already.",
                    "definitionId",
                )
            )
        return cleaned


@admin.register(CustomEventDefinition)
class CustomEventDefinitionAdmin(ServiceAdmin):
    """Written through people.event_definitions: fields are added, never removed or retyped."""

    form = EventDefinitionForm
    list_display = ("definition_id", "title", "modified_at")
    search_fields = ("definition_id", "title")

    def get_readonly_fields(self, request, obj=None):
        return ("definition_id", "created_at") if obj else ("created_at",)

    def has_delete_permission(self, request, obj=None):
        # Its events stay in people's history; a definition is never taken away from them.
        return False

    def save_model(self, request, obj: CustomEventDefinition, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = event_definitions.event_definition_update(
                definition=obj,
                title=data["title"],
                description=data.get("description", ""),
                fields=data.get("fields"),
                actor=admin_actor(request),
            )
        else:
            saved = event_definitions.event_definition_create(
                definition_id=data["definition_id"],
                title=data["title"],
                description=data.get("description", ""),
                fields=data.get("fields"),
                actor=admin_actor(request),
            )
        for field in CustomEventDefinition._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
