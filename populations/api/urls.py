"""The API's routes for populations (under /people/2/): saved views and jobs."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
