"""The API's routes for populations (under /people/2/): saved views and jobs."""

from django.urls import path

from populations.api import jobs

urlpatterns: list = [
    path("jobs", jobs.JobsView.as_view(), name="api-jobs"),
    path("jobs/<int:jobId>", jobs.JobView.as_view(), name="api-job"),
    path("jobs/<int:jobId>/cancel", jobs.JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<int:jobId>/undo", jobs.JobUndoView.as_view(), name="api-job-undo"),
]
