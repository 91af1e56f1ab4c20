"""The API's routes for populations (under /people/2/): saved views and jobs."""

from django.urls import path

from populations.api import views_api

urlpatterns: list = [
    path("views", views_api.ViewsView.as_view(), name="api-views"),
    path(
        "views/<str:viewId>/persons", views_api.ViewPersonsView.as_view(), name="api-view-persons"
    ),
]
