"""A job and its chunks: the state of long work on a population, kept in the database.

A job acts on the people its query finds (``query``: directory.search.SearchQuery.to_dict(),
or ``{"ids": [...]}`` for a selection of rows), with the action's parameters. When it starts,
the people are written down as chunks of ids (the population as it was then); each chunk is one
Celery task that any worker may take, done in one transaction that also marks it done, so a
chunk whose worker died is run again from the start and never twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobState(models.TextChoices):
    PENDING = "PENDING", "Waiting for the queue"
    PLANNING = "PLANNING", "Finding the people"
    RUNNING = "RUNNING", "Running"
    CANCELLING = "CANCELLING", "Cancelling"
    CANCELLED = "CANCELLED", "Cancelled"
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed"


FINISHED_STATES = (JobState.CANCELLED, JobState.DONE, JobState.FAILED)


class Job(models.Model):
    # The action's kind in jobs.actions' registry, e.g. "tags.add".
    kind = models.CharField(max_length=64)
    query = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # A dry run validates every row with the same rules and writes nothing.
    dry_run = models.BooleanField(default=False)
    # An undo job points at the job it undoes.
    undoes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by"
    )
    # Who started it (people.history.Actor's fields).
    actor_kind = models.CharField(max_length=8)
    actor_label = models.CharField(max_length=255)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=8)
    state = models.CharField(max_length=12, choices=JobState.choices, default=JobState.PENDING)
    total = models.PositiveIntegerField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    # Of the changed, how many were created (an import's new people).
    created = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Why a whole job failed (a row's error is a JobRowError).
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its messages (planning, then its chunks) last reached the broker; empty while the
    # broker could not be reached (jobs.engine.retry_dispatch sends them again).
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="job_time_idx"),
            # The jobs not finished yet, which retry_dispatch reads on every poll of a job page.
            models.Index(
                fields=["state"],
                condition=models.Q(state__in=["PENDING", "PLANNING", "RUNNING", "CANCELLING"]),
                name="job_unfinished_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.kind})"


class ChunkState(models.TextChoices):
    PENDING = "PENDING", "Pending"
    DONE = "DONE", "Done"
    SKIPPED = "SKIPPED", "Skipped (cancelled)"


class JobChunk(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    person_ids = models.JSONField(default=list)
    state = models.CharField(max_length=8, choices=ChunkState.choices, default=ChunkState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # [[person_id, what the action's undo needs], ...] for the people this chunk changed.
    undo = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # By the column, not the job: "job" would order by Job's own ordering, a join with the
        # job that a chunk's FOR UPDATE would lock too, making every chunk of a job wait for
        # the one before it.
        ordering = ["job_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="job_chunk_number_unique")
        ]
        indexes = [
            # A job's chunks still to do: the finish check and retry_dispatch count them.
            models.Index(
                fields=["job"],
                condition=models.Q(state="PENDING"),
                name="job_chunk_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Chunk {self.number} of job {self.job_id}"


class JobRowError(models.Model):
    """One person the job could not change, and why (the error report's rows). For a job on
    a file's rows (an import): the row, its column and the cell's value, and the person only
    when the row reached one."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="row_errors")
    person_id = models.BigIntegerField(null=True, blank=True)
    code = models.CharField(max_length=64)
    message = models.TextField()
    row = models.PositiveIntegerField(null=True, blank=True)
    column = models.CharField(max_length=300, blank=True, default="")
    value = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["job", "person_id"]
        indexes = [models.Index(fields=["job", "person_id"], name="job_row_error_idx")]

    def __str__(self) -> str:
        return f"{self.code} for person {self.person_id} (job {self.job_id})"
