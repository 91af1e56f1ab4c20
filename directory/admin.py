"""Django admin for people: the changelist (its search box and list filters read as one query,
directory.search) and the change page with the person's phones, emails and installations.

Every save and delete goes through people.services (as people.admin describes); lists stay
fast on large tables: the search box runs the indexed lookups of directory.search, filters are
EXISTS subqueries, the page count is capped, and related rows are prefetched. Bulk changes of
the selected people are the console's jobs: their actions lead to its bulk page.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse

from core.admin import ServiceAdmin
from directory.search import SearchQuery, people_of
from installations.admin import InstallationInline
from installations.depersonalize import person_delete
from installations.models import Application, Installation, Platform
from jobs.actions import SELECTION_LIMIT
from people import services
from people.admin import ContactIdentityInline, admin_actor, person_link
from people.admin_forms import PERSON_DOMAIN_FIELDS, PersonAdminForm
from people.models import AttributeValue, ContactIdentity, Event, IdentityKind, Person, Tag
from people.templatetags.people_ui import phone_of

# ---------------------------------------------------------------------------------------------
# The changelist's parameters as one query


def changelist_query(params) -> SearchQuery:
    """The people a changelist shows: its search box (``q``), its type (Django's own field
    filter, ``type__exact``) and the list filters below (``tag``, ``application``,
    ``platform``)."""
    tag = params.get("tag") or ""
    return SearchQuery(
        q=params.get("q") or "",
        type=params.get("type__exact") or None,
        tags=[tag] if tag else [],
        application=params.get("application") or None,
        platform=params.get("platform") or None,
    )


class QueryListFilter(admin.SimpleListFilter):
    """A list filter whose value is a field of the changelist's query: applied with the rest
    of it by PersonAdmin.get_search_results, not on its own."""

    def queryset(self, request, queryset):
        return queryset


class TagListFilter(QueryListFilter):
    title = "tag"
    parameter_name = "tag"
    max_choices = 200

    def lookups(self, request, model_admin):
        return [(t.name, t.name) for t in Tag.objects.order_by("name")[: self.max_choices]]


class ApplicationListFilter(QueryListFilter):
    title = "application"
    parameter_name = "application"

    def lookups(self, request, model_admin):
        return list(Application.objects.order_by("name").values_list("code", "name"))


class PlatformListFilter(QueryListFilter):
    title = "platform"
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return list(Platform.choices)


# ---------------------------------------------------------------------------------------------
# Person


@admin.register(Person)
class PersonAdmin(ServiceAdmin):
    form = PersonAdminForm
    inlines = [ContactIdentityInline, InstallationInline]
    list_display = (
        "name",
        "type",
        "external_id",
        "main_phone",
        "main_email",
        "devices",
        "modified_at",
    )
    list_filter = ("type", TagListFilter, ApplicationListFilter, PlatformListFilter)
    # The search box and the filters are one query (get_search_results); one field makes the
    # box appear.
    search_fields = ("external_id",)
    search_help_text = (
        "pushRegistrationId, phone (any format), email, externalId (exact), or the start of a name."
    )
    readonly_fields = ("origin", "version", "created_at", "modified_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "type",
                    "external_id",
                    ("first_name", "middle_name", "last_name"),
                    ("gender", "birth_date"),
                    ("address", "city", "country"),
                    ("preferred_language", "profile_picture"),
                )
            },
        ),
        ("Tags and custom attributes", {"fields": ("tags_text", "custom_attributes_text")}),
        ("System", {"fields": ("origin", "version", "created_at", "modified_at")}),
        (None, {"fields": ("expected_version",)}),
    )
    domain_field_names = PERSON_DOMAIN_FIELDS

    def get_queryset(self, request):
        return Person.objects.prefetch_related(
            Prefetch(
                "identities",
                queryset=ContactIdentity.objects.order_by("id"),
            ),
            Prefetch(
                "installations",
                queryset=Installation.objects.only("id", "person_id", "os").order_by("id"),
            ),
        )

    def get_search_results(self, request, queryset, search_term):
        """The changelist's search box and list filters as one query (changelist_query), on
        the queryset Django has filtered by type already."""
        query = replace(changelist_query(request.GET), q=search_term, type=None)
        return people_of(query, queryset), False

    class Media:
        # The changelist's table scrolls inside its own box rather than past the page.
        css = {"all": ["css/admin.css"]}

    @admin.display(description="name", ordering="search_name")
    def name(self, person: Person) -> str:
        # The operator UI's name for the person ("Person 306" when it has none).
        return person.display_name

    @admin.display(description="main phone")
    def main_phone(self, person: Person) -> str:
        phones = [i for i in person.identities.all() if i.kind == IdentityKind.PHONE]
        return phone_of(phones[0]) if phones else "-"

    @admin.display(description="main email")
    def main_email(self, person: Person) -> str:
        emails = [i.value for i in person.identities.all() if i.kind == IdentityKind.EMAIL]
        return emails[0] if emails else "-"

    @admin.display(description="devices")
    def devices(self, person: Person) -> str:
        installations = person.installations.all()
        if not installations:
            return "-"
        platforms = sorted({i.os for i in installations if i.os})
        return (
            f"{len(installations)} ({', '.join(platforms)})"
            if platforms
            else str(len(installations))
        )

    # Writes -----------------------------------------------------------------------------------

    def save_model(self, request, obj: Person, form: PersonAdminForm, change: bool) -> None:
        actor = admin_actor(request)
        if change:
            saved = services.person_update(
                person=obj,
                actor=actor,
                changes=form.person_changes,
                expected_version=form.cleaned_data.get("expected_version"),
            )
        else:
            saved = services.person_create(
                actor=actor,
                fields=form.standard_values(),
                tags=form.tag_names(),
                custom_attributes=form.custom_attribute_values() or {},
            )
        # The admin goes on with ``obj`` (log entry, redirect): the saved row, read again.
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change) -> None:
        inlines = {
            inline.model: inline for inline in self.get_inline_instances(request, form.instance)
        }
        for formset in formsets:
            inline = inlines.get(formset.model)
            if inline is not None:
                inline.save_through_services(request, form.instance, formset)
            # What construct_change_message reads after a formset.save().
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # Bulk actions open the console's bulk page for the selected people (the bulk page's
    # ``ids`` and ``action``): the operator sets the parameters, previews, dry-runs and runs
    # the job there, the one code path of bulk changes. Django's own delete_selected is
    # replaced by the job of people.delete, which moves each person's installations to
    # anonymous profiles (get_actions).
    actions = [
        "merge_selected",
        "add_tags",
        "remove_tags",
        "set_attribute",
        "change_type",
        "set_push",
        "remote_logout",
        "delete_as_job",
    ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Merge the two selected people…")
    def merge_selected(self, request, queryset):
        """Exactly two people: to the merge screen (directory.views.merge), the older one
        (lower id) proposed as the survivor; the screen makes the choices and merges."""
        ids = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(request, "Select exactly two people to merge.", messages.WARNING)
            return None
        return redirect("people:merge", ids[0], ids[1])

    @admin.action(description="Add tags…", permissions=["change"])
    def add_tags(self, request, queryset):
        return self.to_bulk_page(request, queryset, "tags.add")

    @admin.action(description="Remove tags…", permissions=["change"])
    def remove_tags(self, request, queryset):
        return self.to_bulk_page(request, queryset, "tags.remove")

    @admin.action(description="Set a custom attribute…", permissions=["change"])
    def set_attribute(self, request, queryset):
        return self.to_bulk_page(request, queryset, "attribute.set")

    @admin.action(description="Change type…", permissions=["change"])
    def change_type(self, request, queryset):
        return self.to_bulk_page(request, queryset, "type.change")

    @admin.action(description="Push on/off…", permissions=["change"])
    def set_push(self, request, queryset):
        return self.to_bulk_page(request, queryset, "push.set")

    @admin.action(description="Remote logout…", permissions=["change"])
    def remote_logout(self, request, queryset):
        return self.to_bulk_page(request, queryset, "installations.logout")

    @admin.action(description="Delete selected people (as a job)", permissions=["delete"])
    def delete_as_job(self, request, queryset):
        return self.to_bulk_page(request, queryset, "people.delete")

    def to_bulk_page(self, request, queryset, kind: str) -> HttpResponseRedirect | None:
        """The bulk page (populations.views.bulk) for the selected people and ``kind``; at most
        SELECTION_LIMIT people, as the bulk page takes them by row."""
        ids = list(
            queryset.prefetch_related(None)
            .order_by("pk")
            .values_list("pk", flat=True)[: SELECTION_LIMIT + 1]
        )
        if len(ids) > SELECTION_LIMIT:
            self.message_user(
                request,
                f"At most {SELECTION_LIMIT:,} people can be selected for a bulk action; select "
                "fewer, or run it on everyone a search finds from the console.",
                messages.WARNING,
            )
            return None
        query = urlencode([*(("ids", pk) for pk in ids), ("action", kind)])
        return HttpResponseRedirect(f"{reverse('populations:bulk')}?{query}")

    def delete_model(self, request, obj: Person) -> None:
        # The person's installations move to fresh anonymous profiles.
        person_delete(person=obj, actor=admin_actor(request))

    def get_deleted_objects(self, objs, request):
        """What deleting people does (person_delete), instead of Django's cascade walk.

        The installations are not deleted: they move to fresh anonymous profiles.
        """
        people = list(objs)
        ids = [p.pk for p in people]
        identities = ContactIdentity.objects.filter(person_id__in=ids).count()
        values = AttributeValue.objects.filter(person_id__in=ids).count()
        events = Event.objects.filter(person_id__in=ids).count()
        installations = Installation.objects.filter(person_id__in=ids).count()
        summary = [person_link(p) for p in people]
        summary.append(
            f"{identities} phones and emails, {values} custom attribute values and "
            f"{events} history events are deleted with them."
        )
        if installations:
            summary.append(
                f"Their {installations} installations are kept and move to fresh anonymous "
                "profiles."
            )
        count = {
            "people": len(people),
            "contact identities": identities,
            "custom attribute values": values,
            "history events": events,
        }
        return summary, count, set(), []
