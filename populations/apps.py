from django.apps import AppConfig


class PopulationsConfig(AppConfig):
    """Work on everyone a query finds: saved views, the built-in device hygiene views, bulk
    actions (registered with the job engine, jobs.actions) and the pages that start, follow
    and undo them."""

    name = "populations"
    verbose_name = "Populations"

    def ready(self) -> None:
        # Each module registers its actions with jobs.actions.
        from populations import actions  # noqa: F401
