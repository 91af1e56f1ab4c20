"""Django admin for people: every save and delete goes through people.services.

Administrators get raw access to every table, but not a second set of rules: the forms
(people.admin_forms) parse input with the same functions as the UI and the API and check it
with the services' own checks, the services write it (with a history event whose actor is the
administrator and whose source is ADMIN), and a DomainError comes back as an error at the field
of the form it concerns, or as an admin message.

The person changelist (its search box and list filters) is directory.admin's: it reads them as
the one query of directory.search.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyAdmin, ServiceAdmin, ServiceFormSet
from people import custom_attributes as attribute_types
from people import event_definitions, services
from people.admin_forms import (
    DefinitionForm,
    EventDefinitionForm,
    IdentityForm,
    StandaloneIdentityForm,
    TagForm,
    dumps_json,
)
from people.changes import contact_changes
from people.history import Actor
from people.identities import normalize_email, parse_phone, try_email, try_phone
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    CustomEventDefinition,
    DuplicatePair,
    Event,
    IdentityKind,
    NotDuplicate,
    Person,
    Source,
    Tag,
)
from people.name_keys import name_key
from people.templatetags.people_ui import phone_of

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


@admin.register(ContactIdentity)
class ContactIdentityAdmin(ServiceAdmin):
    form = StandaloneIdentityForm
    list_display = ("shown_value", "kind", "person_link", "created_at")
    list_filter = ("kind",)
    list_select_related = ("person",)
    raw_id_fields = ("person",)
    search_fields = ("value",)
    search_help_text = "A phone in any format or an email (exact)."
    ordering = ("-id",)

    @admin.display(description="value", ordering="value")
    def shown_value(self, identity: ContactIdentity) -> str:
        """A phone as the operator UI shows it (+385 1 6419 710), an email as stored."""
        return phone_of(identity) if identity.kind == IdentityKind.PHONE else identity.value

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
        return dumps_json(value) if isinstance(value, list | dict) else str(value)


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
            ((k, dumps_json(v)) for k, v in event.changes.items()),
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


@admin.register(NotDuplicate)
class NotDuplicateAdmin(ReadOnlyAdmin):
    """Pairs said not to be duplicates: written by "Not a duplicate" on the person page and
    the duplicates queue (people.duplicates), never by hand."""

    list_display = ("created_at", "low_link", "high_link", "operator_label")
    list_select_related = ("low", "high")
    search_fields = ("=low__id", "=high__id", "operator_label")
    ordering = ("-id",)

    @admin.display(description="person")
    def low_link(self, row: NotDuplicate) -> str:
        return person_link(row.low)

    @admin.display(description="other person")
    def high_link(self, row: NotDuplicate) -> str:
        return person_link(row.high)


@admin.register(DuplicatePair)
class DuplicatePairAdmin(ReadOnlyAdmin):
    """The duplicates queue: filled by manage.py find_duplicates, never by hand."""

    list_display = ("found_at", "low_link", "high_link", "reasons")
    list_select_related = ("low", "high")
    search_fields = ("=low__id", "=high__id")
    ordering = ("-id",)

    @admin.display(description="person")
    def low_link(self, row: DuplicatePair) -> str:
        return person_link(row.low)

    @admin.display(description="other person")
    def high_link(self, row: DuplicatePair) -> str:
        return person_link(row.high)
