"""Operator UI routes of people (included at the site root): the person pages
(people.urls) and the search's own partials, under one namespace."""

from django.urls import path

from directory import views
from people.urls import urlpatterns as people_patterns

app_name = "people"

urlpatterns = [
    path("search/value-field", views.search_value_field, name="search_value_field"),
    path("tags/suggest", views.tag_suggestions, name="tag_suggestions"),
    *people_patterns,
]
