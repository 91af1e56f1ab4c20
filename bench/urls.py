"""The portal's URLs plus the bench's: the stock admin, the floor and the stand-ins."""

from django.urls import path

from bench import views
from bench.admin import bench_site
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [
    path("bench/admin/", bench_site.urls),
    path("bench/floor/<int:pk>", views.floor, name="bench-floor"),
    path("bench/search", views.search_page, name="bench-search"),
    path("bench/persons", views.person_list, name="bench-persons"),
    path("bench/person/<int:pk>", views.person_page, name="bench-person"),
    path("bench/installations/<int:pk>/primary", views.set_primary, name="bench-set-primary"),
    path(
        "bench/push/<str:push_registration_id>/personalize",
        views.personalize,
        name="bench-personalize",
    ),
    *portal_urlpatterns,
]
