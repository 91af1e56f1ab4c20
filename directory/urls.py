"""The operator UI's ``people`` routes (included at the site root): people's own actions
(people.urls), the person page and its deletion, which join people and installations, and
the search's own partials, under one namespace."""

from django.urls import path

from directory.views import duplicates, merge, person, privacy, search
from people import urls as people_urls

app_name = "people"

urlpatterns = [
    path("search/value-field", search.search_value_field, name="search_value_field"),
    path("search/total", search.search_total, name="search_total"),
    path("tags/suggest", search.tag_suggestions, name="tag_suggestions"),
    *people_urls.urlpatterns,
    path("person/<int:pk>/", person.person_detail, name="detail"),
    path("person/<int:pk>/header", person.person_header, name="header"),
    path("person/<int:pk>/history", person.person_history, name="history"),
    path("person/<int:pk>/overview", person.person_overview, name="overview"),
    path("person/<int:pk>/delete", person.person_delete, name="delete"),
    path("person/<int:pk>/export", privacy.person_export, name="export"),
    path("person/<int:pk>/reveal", privacy.reveal, name="reveal"),
    path("person/<int:pk>/erasure", privacy.erasure_request, name="erasure_request"),
    path("erasures/<int:pk>/cancel", privacy.erasure_cancel, name="erasure_cancel"),
    path("suppressions/lift", privacy.suppression_lift, name="suppression_lift"),
    path("search/erase", privacy.erase_population, name="erase_population"),
    path("person/<int:pk>/duplicates", duplicates.person_duplicates, name="duplicates"),
    path(
        "person/<int:pk>/not-duplicate/<int:other>",
        duplicates.not_duplicate,
        name="not_duplicate",
    ),
    path("duplicates/", duplicates.duplicates_queue, name="duplicates_queue"),
    path(
        "person/<int:pk>/history/<int:event_pk>/revert",
        person.event_revert,
        name="event_revert",
    ),
    path("person/<int:pk>/merge/<int:other>", merge.merge_people, name="merge"),
    path("person/<int:pk>/merges/<int:event_pk>/undo", merge.merge_undo, name="merge_undo"),
]
