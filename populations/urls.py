"""The operator UI's routes for populations: saved views, bulk actions and their jobs."""

from django.urls import path

from populations.views import bulk

app_name = "populations"

urlpatterns: list = [
    path("bulk/", bulk.bulk, name="bulk"),
    path("bulk/preview", bulk.bulk_preview, name="bulk_preview"),
    path("bulk/start", bulk.bulk_start, name="bulk_start"),
    path("bulk/value-field", bulk.bulk_value_field, name="bulk_value_field"),
]
