"""The operator UI's routes for populations: saved views, bulk actions and their jobs."""

from django.urls import path

from populations.views import bulk, jobs, saved

app_name = "populations"

urlpatterns: list = [
    path("bulk/", bulk.bulk, name="bulk"),
    path("bulk/preview", bulk.bulk_preview, name="bulk_preview"),
    path("bulk/start", bulk.bulk_start, name="bulk_start"),
    path("bulk/value-field", bulk.bulk_value_field, name="bulk_value_field"),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress", jobs.job_progress, name="job_progress"),
    path("jobs/<int:pk>/cancel", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/undo", jobs.job_undo, name="job_undo"),
    path("jobs/<int:pk>/errors.csv", jobs.job_errors_csv, name="job_errors"),
    path("views/", saved.views_page, name="views"),
    path("views/menu", saved.views_menu, name="views_menu"),
    path("views/save", saved.save_view, name="save"),
    path("views/hygiene/<slug:key>/", saved.open_builtin, name="hygiene"),
    path("views/<int:pk>/", saved.open_view, name="open"),
    path("views/<int:pk>/edit", saved.edit_view, name="edit"),
    path("views/<int:pk>/share", saved.share_view, name="share"),
    path("views/<int:pk>/delete", saved.delete_view, name="delete"),
]
