"""The operator UI's routes for populations: saved views, bulk actions and their jobs."""

from django.urls import path

from populations.views import saved

app_name = "populations"

urlpatterns: list = [
    path("views/", saved.views_page, name="views"),
    path("views/menu", saved.views_menu, name="views_menu"),
    path("views/save", saved.save_view, name="save"),
    path("views/hygiene/<slug:key>/", saved.open_builtin, name="hygiene"),
    path("views/<int:pk>/", saved.open_view, name="open"),
    path("views/<int:pk>/edit", saved.edit_view, name="edit"),
    path("views/<int:pk>/share", saved.share_view, name="share"),
    path("views/<int:pk>/delete", saved.delete_view, name="delete"),
]
