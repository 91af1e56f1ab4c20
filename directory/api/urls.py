"""The People API's paths that join people and installations (the list's search, deletes that
move installations), included at /people/2/ by portal/urls.py before people.api.urls (which
has the others)."""

from django.urls import path

from directory.api import views
from privacy.api import DataExportView

urlpatterns = [
    path("persons", views.PersonsView.as_view(), name="api-persons"),
    path("persons/batch", views.BatchView.as_view(), name="api-persons-batch"),
    path("persons/dataExport", DataExportView.as_view(), name="api-persons-data-export"),
    path("events/<int:eventId>/revert", views.EventRevertView.as_view(), name="api-event-revert"),
    path("persons/merge", views.PersonsMergeView.as_view(), name="api-persons-merge"),
    path("merges/<int:eventId>/undo", views.MergeUndoView.as_view(), name="api-merge-undo"),
]
