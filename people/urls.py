"""Operator UI routes of people's own actions; directory.urls adds the person page's routes to
the same ``people`` namespace (included at the site root)."""

from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("person/new/", views.person_create, name="create"),
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
