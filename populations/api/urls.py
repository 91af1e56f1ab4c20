"""The API's routes for populations (under /people/2/): saved views and jobs."""

from django.urls import path

from populations.api import jobs, views_api

urlpatterns: list = [
    path("jobs", jobs.JobsView.as_view(), name="api-jobs"),
    path("jobs/<int:jobId>", jobs.JobView.as_view(), name="api-job"),
    path("jobs/<int:jobId>/cancel", jobs.JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<int:jobId>/undo", jobs.JobUndoView.as_view(), name="api-job-undo"),
    path("views", views_api.ViewsView.as_view(), name="api-views"),
    path(
        "views/<str:viewId>/persons", views_api.ViewPersonsView.as_view(), name="api-view-persons"
    ),
]
