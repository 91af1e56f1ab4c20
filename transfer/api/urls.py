"""The HTTP API's routes for import and export (under /people/2/)."""

urlpatterns: list = []
