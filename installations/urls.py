"""Operator UI routes for installation cards (included at "installations/")."""

from django.urls import path

from installations import views

app_name = "installations"

urlpatterns = [
    path("<int:pk>/", views.card, name="card"),
    path("<int:pk>/primary", views.set_primary, name="set_primary"),
    path("<int:pk>/push", views.set_push, name="set_push"),
    path("<int:pk>/additional-data", views.set_additional_data, name="set_additional_data"),
    path("<int:pk>/depersonalize", views.depersonalize, name="depersonalize"),
]
