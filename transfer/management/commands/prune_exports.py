"""``manage.py prune_exports``: delete the files of export jobs that finished long ago.

An export job's parts (and its XLSX) stay under TRANSFER_ROOT/exports/<job id>/ for its
starter to download again; from cron, this frees the disk of those older than ``--days``
(default 7), and of jobs that no longer exist. The job rows stay: they are the audit trail.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs.models import FINISHED_STATES, Job
from transfer import export_jobs, exports


class Command(BaseCommand):
    help = "Delete the files of export jobs finished more than --days days ago."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, **options):
        folder = export_jobs.job_folder(0).parent
        if not folder.is_dir():
            self.stdout.write("0 export(s) deleted.")
            return
        before = timezone.now() - timedelta(days=options["days"])
        ids = {int(path.name) for path in folder.iterdir() if path.name.isdigit()}
        kept = set(
            Job.objects.filter(pk__in=ids, kind=exports.KIND)
            .exclude(state__in=FINISHED_STATES, finished_at__lt=before)
            .values_list("pk", flat=True)
        )
        deleted = 0
        for job_id in sorted(ids - kept):
            shutil.rmtree(export_jobs.job_folder(job_id), ignore_errors=True)
            deleted += 1
        self.stdout.write(f"{deleted} export(s) deleted.")
