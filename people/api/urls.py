"""The People API v2 paths, included at /people/2/ by portal/urls.py (``persons`` and
``persons/batch`` are directory.api.urls': their deletes move installations)."""

from django.urls import path, re_path

from people.api import batches, views

# A tag or attribute name is any text, "/" and line breaks included (Django's <path:>
# converter stops at a line break); the longer routes go first.
NAME = r"(?P<name>[\s\S]+)"

urlpatterns = [
    path(
        "persons/contactInformation",
        views.ContactInformationView.as_view(),
        name="api-contact-information",
    ),
    path("persons/match", batches.MatchView.as_view(), name="api-persons-match"),
    path("tags", views.TagsView.as_view(), name="api-tags"),
    re_path(rf"^tags/{NAME}/persons$", views.TagPersonsView.as_view(), name="api-tag-persons"),
    re_path(rf"^tags/{NAME}$", views.TagView.as_view(), name="api-tag"),
    path("customAttributes", views.CustomAttributesView.as_view(), name="api-custom-attributes"),
    re_path(
        rf"^customAttributes/{NAME}/append$",
        views.AppendView.as_view(),
        name="api-custom-attribute-append",
    ),
    re_path(
        rf"^customAttributes/{NAME}$",
        views.CustomAttributeView.as_view(),
        name="api-custom-attribute",
    ),
]
