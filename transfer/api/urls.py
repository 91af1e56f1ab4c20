"""The HTTP API's routes for import and export (under /people/2/)."""

from django.urls import path

from transfer.api import imports

urlpatterns: list = [
    path("imports", imports.ImportsView.as_view(), name="api-imports"),
]
