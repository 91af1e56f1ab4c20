"""The operator UI's routes for import and export."""

app_name = "transfer"

urlpatterns: list = []
