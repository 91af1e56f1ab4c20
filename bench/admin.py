"""A stock Django admin for Person, as a team would first write it: the comparison point.

Registered on its own AdminSite, served only by bench/urls.py, never by the portal.
"""

from django.conf import settings
from django.contrib import admin

from people.models import Person

bench_site = admin.AdminSite(name="bench_admin")


@admin.register(Person, site=bench_site)
class StockPersonAdmin(admin.ModelAdmin):
    list_display = ["id", "first_name", "last_name", "external_id", "type", "modified_at"]
    list_filter = ["type", "tags"]
    search_fields = [
        "first_name",
        "last_name",
        "external_id",
        "identities__value",
        "installations__push_registration_id",
    ]

    def get_queryset(self, request):
        # PostgreSQL's defaults, parallel workers included (bench/settings.py).
        queryset = super().get_queryset(request)
        return queryset.using("stock") if "stock" in settings.DATABASES else queryset
