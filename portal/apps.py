from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal import signals  # noqa: F401 - connects the receivers
        from portal.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self, dispatch_uid="portal.sync_roles")
