"""``manage.py import_people FILE``: import a CSV file on the server, as the upload page
does (the same checks, mapping, options and job), for files too large to upload by hand or
imports run from cron. The job runs on the workers (in-process in eager mode); the command
prints its id and, with ``--wait``, follows it to its end."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from jobs.models import FINISHED_STATES, Job
from people.history import Actor
from people.models import Source
from transfer.imports import mapping, services


class Command(BaseCommand):
    help = "Import people from a CSV file on the server (a job; --dry-run checks only)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--match", choices=list(mapping.MATCH_KEYS), default="externalId")
        parser.add_argument("--mode", choices=list(mapping.MODES), default="upsert")
        parser.add_argument("--tags", choices=list(mapping.TAGS_MODES), default="add")
        parser.add_argument("--empty", choices=list(mapping.EMPTY_MODES), default="keep")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=TARGET",
            help="Map a column to a target (externalId, firstName, customAttributes.<name>); "
            "an empty target skips the column.",
        )
        parser.add_argument("--skip-unknown", action="store_true", help="Skip unknown columns.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row, write none.")
        parser.add_argument("--wait", action="store_true", help="Follow the job to its end.")

    def handle(self, *args, path: Path, **options):
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        actor = Actor.system("manage.py import_people", source=Source.IMPORT)
        given = {}
        for pair in options["map"]:
            header, _, target = pair.partition("=")
            given[header] = target
        try:
            with open(path, "rb") as stream:
                file = services.import_file_upload(
                    stream=stream,
                    name=path.name,
                    actor=actor,
                    size=path.stat().st_size,
                    skip_unknown=options["skip_unknown"] or bool(given),
                )
            job = services.import_start(
                file=file,
                options={
                    "mapping": given,
                    **{name: options[name] for name in ("match", "mode", "tags", "empty")},
                },
                actor=actor,
                dry_run=options["dry_run"],
            )
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(f"File {file.pk}: {file.rows} rows. Job {job.pk} started.")
        if options["wait"]:
            job = self._follow(job)
        self.stdout.write(summary(job))

    def _follow(self, job: Job) -> Job:
        while True:
            job.refresh_from_db()
            if job.state in FINISHED_STATES:
                return job
            time.sleep(1)


def summary(job: Job) -> str:
    verb = "would " if job.dry_run else ""
    updated = job.changed - job.created
    unchanged = job.done - job.changed - job.failed
    return (
        f"Job {job.pk} {job.get_state_display().lower()}: {verb}create {job.created}, "
        f"{verb}update {updated}, unchanged {unchanged}, failed {job.failed}."
    )
