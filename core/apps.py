from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The bottom layer every app may import: domain errors, roles and access, API keys and the
    API's base pieces, admin base classes, shared field rules."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self, dispatch_uid="core.sync_roles")
