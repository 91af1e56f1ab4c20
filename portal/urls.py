from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import views

handler500 = "portal.middleware.server_error"
handler404 = "portal.middleware.not_found"
handler400 = "portal.limits.bad_request"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("preferences/", views.preferences, name="preferences"),
    path("health", views.health, name="health"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Operator UI
    path("", include("directory.urls")),
    path("installations/", include("installations.urls")),
    path("", include("populations.urls")),
    path("", include("transfer.urls")),
    # HTTP API (the vendor's paths)
    path("people/2/", include("directory.api.urls")),
    path("people/2/", include("people.api.urls")),
    path("people/2/", include("populations.api.urls")),
    path("people/2/", include("transfer.api.urls")),
    path("peopleevents/2/", include("people.api.event_definitions")),
    path("", include("installations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start script from the same URL (?script), not inline:
    # the Content-Security-Policy allows scripts from the portal's files only.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
