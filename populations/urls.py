"""The operator UI's routes for populations: saved views, bulk actions and their jobs."""

from django.urls import path  # noqa: F401

app_name = "populations"

urlpatterns: list = []
