"""The operator UI's routes for import and export."""

from django.urls import path

from transfer.views import export, imports

app_name = "transfer"

urlpatterns: list = [
    path("import/", imports.import_upload, name="import_upload"),
    path("import/<int:pk>/", imports.import_mapping, name="import_mapping"),
    path("export/", export.export, name="export"),
    path("exports/<int:pk>/download", export.export_download, name="export_download"),
]
