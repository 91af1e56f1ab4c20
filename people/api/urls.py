"""The People API v2 paths, included at /people/2/ by portal/urls.py."""

from django.urls import path

from people.api import views

urlpatterns = [
    path("persons", views.PersonsView.as_view(), name="api-persons"),
    path(
        "persons/contactInformation",
        views.ContactInformationView.as_view(),
        name="api-contact-information",
    ),
    path("persons/batch", views.BatchView.as_view(), name="api-persons-batch"),
    path("persons/match", views.MatchView.as_view(), name="api-persons-match"),
    path("tags", views.TagsView.as_view(), name="api-tags"),
    # Names may hold "/": the longer route goes first.
    path("tags/<path:name>/persons", views.TagPersonsView.as_view(), name="api-tag-persons"),
    path("tags/<path:name>", views.TagView.as_view(), name="api-tag"),
    path("customAttributes", views.CustomAttributesView.as_view(), name="api-custom-attributes"),
    path(
        "customAttributes/<path:name>/append",
        views.AppendView.as_view(),
        name="api-custom-attribute-append",
    ),
    path(
        "customAttributes/<path:name>",
        views.CustomAttributeView.as_view(),
        name="api-custom-attribute",
    ),
]
