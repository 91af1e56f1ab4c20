"""The HTTP API's routes for import and export (under /people/2/)."""

from django.urls import path

from transfer.api import export

urlpatterns: list = [
    path("exports", export.ExportsView.as_view(), name="api-exports"),
    path("exports/<int:jobId>/file", export.ExportFileView.as_view(), name="api-export-file"),
]
