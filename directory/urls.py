"""Operator UI routes of people (included at the site root): the person pages (people.urls)
and those that join installations, under one namespace."""

from django.urls import path

from directory import views
from people.urls import urlpatterns as people_patterns

app_name = "people"

urlpatterns = [
    *people_patterns,
    path("person/<int:pk>/delete", views.person_delete, name="delete"),
]
