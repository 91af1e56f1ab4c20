from django.apps import AppConfig


class TransferConfig(AppConfig):
    """Moving people in and out: CSV import (column mapping, dry run, per-row errors, undo)
    and export of any search or saved view (CSV and XLSX, streamed), both as jobs on the job
    engine (jobs.actions' registry)."""

    name = "transfer"
    verbose_name = "Import and export"

    def ready(self) -> None:
        from jobs import actions
        from transfer.imports.action import ImportAction

        actions.register(ImportAction())
