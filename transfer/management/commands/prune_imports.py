"""``manage.py prune_imports``: delete the import files uploaded long ago.

An uploaded file is kept in the database (its rows and the conflicts planning found) for the
mapping page, dry runs and runs of it; from cron, this deletes those uploaded more than
``--days`` ago (default 7) that no unfinished job still reads. The jobs stay, with their
counts, errors and undo records: an import can be undone after its file is gone.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs.models import FINISHED_STATES, Job
from transfer.imports.action import KIND
from transfer.models import ImportFile


class Command(BaseCommand):
    help = "Delete the import files uploaded more than --days days ago that no job still reads."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, **options):
        before = timezone.now() - timedelta(days=options["days"])
        old = set(ImportFile.objects.filter(created_at__lt=before).values_list("pk", flat=True))
        reading = {
            query.get("import")
            for query in Job.objects.filter(kind=KIND)
            .exclude(state__in=FINISHED_STATES)
            .values_list("query", flat=True)
        }
        deleted = 0
        for pk in sorted(old - reading):
            # One file at a time: a million rows go in one statement, not one transaction
            # holding every file.
            ImportFile.objects.filter(pk=pk).delete()
            deleted += 1
        self.stdout.write(f"{deleted} import file(s) deleted.")
