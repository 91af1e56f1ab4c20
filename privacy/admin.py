"""Admin: the erasure requests and the access records, read-only (the person page requests
and cancels erasures; the records are an audit trail, never edited)."""

from __future__ import annotations

from django.contrib import admin

from privacy.models import AccessRecord, Erasure


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "person_id",
        "state",
        "requested_label",
        "requested_at",
        "due_at",
        "done_at",
    )
    list_filter = ("state",)
    search_fields = ("=person_id",)
    readonly_fields = [field.name for field in Erasure._meta.fields]


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "actor_label", "person_id", "source", "detail")
    list_filter = ("kind", "source")
    search_fields = ("=person_id", "actor_label")
    readonly_fields = [field.name for field in AccessRecord._meta.fields]
