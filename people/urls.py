"""Operator UI routes for people (included at the site root)."""

from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("search/value-field", views.search_value_field, name="search_value_field"),
    path("tags/suggest", views.tag_suggestions, name="tag_suggestions"),
    path("person/new/", views.person_create, name="create"),
    path("person/<int:pk>/", views.person_detail, name="detail"),
    path("person/<int:pk>/header", views.person_header, name="header"),
    path("person/<int:pk>/history", views.person_history, name="history"),
    path("person/<int:pk>/overview", views.person_overview, name="overview"),
    path("person/<int:pk>/identities/add", views.identity_add, name="identity_add"),
    path("person/<int:pk>/identities/remove", views.identity_remove, name="identity_remove"),
    path("person/<int:pk>/tags/add", views.tags_add, name="tags_add"),
    path("person/<int:pk>/tags/remove", views.tags_remove, name="tags_remove"),
    path(
        "person/<int:pk>/attributes/<int:definition_pk>",
        views.attribute_set,
        name="attribute_set",
    ),
    path(
        "person/<int:pk>/attributes/<int:definition_pk>/remove",
        views.attribute_remove,
        name="attribute_remove",
    ),
]
