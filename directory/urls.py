"""The operator UI's ``people`` routes (included at the site root): people's own actions
(people.urls) and the person page, which shows people and installations together."""

from django.urls import path

from directory.views import person
from people import urls as people_urls

app_name = "people"

urlpatterns = [
    *people_urls.urlpatterns,
    path("person/<int:pk>/", person.person_detail, name="detail"),
    path("person/<int:pk>/header", person.person_header, name="header"),
    path("person/<int:pk>/history", person.person_history, name="history"),
    path("person/<int:pk>/overview", person.person_overview, name="overview"),
]
