"""The operator UI's routes for import and export."""

from django.urls import path

from transfer.views import export

app_name = "transfer"

urlpatterns: list = [
    path("export/", export.export, name="export"),
    path("exports/<int:pk>/download", export.export_download, name="export_download"),
]
