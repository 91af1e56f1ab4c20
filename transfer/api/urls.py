"""The HTTP API's routes for import and export (under /people/2/)."""

from django.urls import path

from transfer.api import export, imports

urlpatterns: list = [
    path("imports", imports.ImportsView.as_view(), name="api-imports"),
    path("exports", export.ExportsView.as_view(), name="api-exports"),
    path("exports/<int:jobId>/file", export.ExportFileView.as_view(), name="api-export-file"),
]
