"""Jobs in Django admin: read only. A job is started, cancelled and undone from its pages and
the API (jobs.engine), never edited as a row."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from core.roles import can_use_admin
from jobs.models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "state",
        "dry_run",
        "actor_label",
        "total",
        "done",
        "changed",
        "failed",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "kind", "dry_run", "source")
    search_fields = ("=id", "actor_label")
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_view_permission(self, request, obj=None) -> bool:
        # Every operator may read jobs on their pages; in admin, the administrators who open it.
        return can_use_admin(request.user)
