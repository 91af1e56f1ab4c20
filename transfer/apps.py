from django.apps import AppConfig


class TransferConfig(AppConfig):
    """Moving people in and out: CSV import (column mapping, dry run, per-row errors, undo)
    and export of any search or saved view (CSV and XLSX, streamed), both as jobs on the job
    engine (jobs.actions' registry)."""

    name = "transfer"
    verbose_name = "Import and export"

    def ready(self) -> None:
        # Imports and large exports are jobs: their actions join the job engine's registry.
        from jobs import actions
        from transfer import export_tasks  # noqa: F401 (the worker's task)
        from transfer.export_jobs import ExportAction
        from transfer.imports.action import ImportAction

        actions.register(ImportAction())
        actions.register(ExportAction())
