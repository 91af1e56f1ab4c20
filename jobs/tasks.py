"""The two tasks of a job: plan it into chunks, run one chunk.

Messages are acknowledged when a task ends (CELERY_TASK_ACKS_LATE), so a worker that dies
mid-task leaves its message to be delivered again, and any message may arrive twice (a lost
message sent again by jobs.engine.retry_dispatch). Both tasks are therefore safe to repeat:
planning happens in one transaction that writes every chunk or none, and a chunk is done in
one transaction that also marks it done, under a lock on its row, so the second delivery finds
it done and returns.

The chunk's rows lock before the job's row, everywhere: the finish check, a failing chunk and
the counters take the job's lock last, and cancelling takes only the job's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from jobs import actions, engine
from jobs.actions import RowOutcome
from jobs.models import FINISHED_STATES, ChunkState, Job, JobChunk, JobRowError, JobState

logger = logging.getLogger(__name__)

# Chunks written per INSERT while planning: a million people are a thousand rows of a thousand
# ids, written fifty at a time, so planning holds two batches in memory at most.
CHUNKS_PER_INSERT = 50
# Seconds before a chunk that raised runs again: 2, 4, 8, ... at most a minute.
RETRY_BACKOFF_MAX = 60


@shared_task(name="jobs.plan_job", acks_late=True)
def plan_job(job_id: int) -> None:
    """Write the job's people down as chunks (the population as it is now), then send a
    message per chunk. An undo job's chunks are its original's recorded undo lists."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return
        if job.state == JobState.CANCELLING and not JobChunk.objects.filter(job=job).exists():
            # Cancelled while its planning ran, and that planning died with its worker.
            job.state = JobState.CANCELLED
            job.finished_at = timezone.now()
            job.save(update_fields=["state", "finished_at"])
            return
        if job.state not in (JobState.PENDING, JobState.PLANNING):
            return  # planned already (a message delivered twice), or cancelled
        if job.state == JobState.PENDING:
            job.state = JobState.PLANNING
            job.started_at = timezone.now()
            job.save(update_fields=["state", "started_at"])
    try:
        _plan(job)
    except IntegrityError:
        # Another delivery of this message planned the job first (the chunks' numbers are
        # unique per job): the job is its.
        logger.info("Job %s was planned by another delivery", job_id)
    except Exception as error:
        # Its query cannot be read (a stored query the search no longer accepts): nothing
        # was written, and running it again would fail the same way.
        logger.exception("Planning job %s failed", job_id)
        _fail(job_id, f"Finding the people failed: {_describe(error)}")


def _plan(job: Job) -> None:
    job_id = job.pk
    with transaction.atomic():
        # A planning whose worker died rolled back whole: no chunk of it is left.
        total = _write_chunks(job)
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state == JobState.CANCELLING or total == 0:
            JobChunk.objects.filter(job=job).update(state=ChunkState.SKIPPED)
            job.state = JobState.CANCELLED if job.state == JobState.CANCELLING else JobState.DONE
            job.finished_at = timezone.now()
            job.total = total
            job.save(update_fields=["state", "finished_at", "total"])
            return
        job.state = JobState.RUNNING
        job.total = total
        job.save(update_fields=["state", "total"])
        chunk_ids = list(JobChunk.objects.filter(job=job).values_list("pk", flat=True))
        transaction.on_commit(lambda: engine.dispatch_chunks(job_id, chunk_ids))


def _write_chunks(job: Job) -> int:
    """Insert the job's chunks in batches; the number of people in them."""
    total = 0
    batch: list[JobChunk] = []
    for number, (person_ids, undo) in enumerate(_chunks_of(job)):
        batch.append(JobChunk(job=job, number=number, person_ids=person_ids, undo=undo))
        total += len(person_ids)
        if len(batch) == CHUNKS_PER_INSERT:
            JobChunk.objects.bulk_create(batch)
            batch = []
    JobChunk.objects.bulk_create(batch)
    return total


def _chunks_of(job: Job) -> Iterator[tuple[list[int], list]]:
    """(person ids, rows to put back) per chunk. An undo job's chunk holds the rows its
    original's chunk recorded, to hand to the action's undo."""
    if job.undoes_id is not None:
        originals = (
            JobChunk.objects.filter(job_id=job.undoes_id)
            .exclude(undo=[])
            .order_by("number")
            .values_list("undo", flat=True)
        )
        for rows in originals.iterator(chunk_size=CHUNKS_PER_INSERT):
            yield [int(person_id) for person_id, _ in rows], rows
        return
    action = actions.get(job.kind)
    for person_ids in _batched(action.targets(job.query), settings.JOB_CHUNK_SIZE):
        yield person_ids, []


def _batched(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    batch: list[int] = []
    for person_id in ids:
        batch.append(int(person_id))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@shared_task(name="jobs.run_chunk", bind=True, acks_late=True, max_retries=None)
def run_chunk(self, chunk_id: int) -> None:
    """Do one chunk, once. An exception rolls the chunk back and runs it again later (with
    backoff); after JOB_CHUNK_ATTEMPTS runs its job fails with the error, and the chunks not
    done are skipped."""
    while True:
        try:
            execute_chunk(chunk_id)
            return
        except Exception as error:
            attempts = record_failure(chunk_id, error)
            if attempts is None:
                return
            logger.warning("Chunk %s failed (attempt %s): %r", chunk_id, attempts, error)
            if not self.request.is_eager:
                countdown = min(2**attempts, RETRY_BACKOFF_MAX)
                raise self.retry(exc=error, countdown=countdown) from error
            # In eager mode there is no queue to wait in: the next attempt runs now.


def execute_chunk(chunk_id: int) -> None:
    """The chunk's work, its errors, its undo list, DONE and the job's counters: one
    transaction, under the chunk's row lock. A second delivery that arrives while a worker
    does the chunk (a copy sent again by jobs.engine.retry_dispatch, which cannot tell a lost
    message from a slow one) waits on that lock, holding its worker process as long as the
    chunk takes, then finds it done and returns; if the first run rolled back instead, the
    copy does the chunk."""
    with transaction.atomic():
        chunk = JobChunk.objects.select_for_update(of=("self",)).filter(pk=chunk_id).first()
        if chunk is None or chunk.state != ChunkState.PENDING:
            return
        job = Job.objects.get(pk=chunk.job_id)
        if job.state != JobState.RUNNING:
            # Cancelled or failed: the chunk is not done.
            chunk.state = ChunkState.SKIPPED
            chunk.finished_at = timezone.now()
            chunk.save(update_fields=["state", "finished_at"])
            _finish_if_last(job.pk)
            return
        outcomes = _outcomes(job, chunk)
        _record(job, chunk, outcomes)


def _outcomes(job: Job, chunk: JobChunk) -> list[RowOutcome]:
    action = actions.get(job.kind)
    context = engine.job_context(job)
    if job.undoes_id is not None:
        return action.undo(context, [(int(pid), undo) for pid, undo in chunk.undo])
    if not job.dry_run:
        return action.apply(context, chunk.person_ids)
    # A dry run: the same work in a savepoint rolled back; only the outcomes remain.
    with transaction.atomic():
        outcomes = action.apply(context, chunk.person_ids)
        transaction.set_rollback(True)
    return outcomes


def _record(job: Job, chunk: JobChunk, outcomes: list[RowOutcome]) -> None:
    errors = [o for o in outcomes if o.error_code]
    JobRowError.objects.bulk_create(
        JobRowError(
            job=job,
            person_id=o.person_id,
            code=o.error_code,
            message=o.message,
            row=o.row,
            column=o.column[:300],
            value=o.value,
        )
        for o in errors
    )
    changed = sum(1 for o in outcomes if o.changed and not o.error_code)
    created = sum(1 for o in outcomes if o.created and o.changed and not o.error_code)
    if job.undoes_id is None:
        # An undo job's chunk keeps the rows it put back; a dry run's has nothing to undo.
        chunk.undo = (
            []
            if job.dry_run
            else [[o.person_id, o.undo] for o in outcomes if o.changed and not o.error_code]
        )
    chunk.state = ChunkState.DONE
    chunk.finished_at = timezone.now()
    chunk.save(update_fields=["undo", "state", "finished_at"])
    # The counters move by the chunk's own numbers: another chunk's may land in between.
    Job.objects.filter(pk=job.pk).update(
        done=F("done") + len(chunk.person_ids),
        changed=F("changed") + changed,
        created=F("created") + created,
        failed=F("failed") + len(errors),
    )
    _finish_if_last(job.pk)


def _finish_if_last(job_id: int) -> None:
    """The job ends with its last chunk. Under the job's row lock, the chunks still pending are
    counted: of two last chunks finishing at once, the one that takes the lock second sees the
    other's commit, and finishes the job."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.state not in (JobState.RUNNING, JobState.CANCELLING):
        return
    if JobChunk.objects.filter(job_id=job_id, state=ChunkState.PENDING).exists():
        return
    job.state = JobState.CANCELLED if job.state == JobState.CANCELLING else JobState.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "finished_at"])


def record_failure(chunk_id: int, error: Exception) -> int | None:
    """Count a failed run of the chunk. The number of runs so far, or None when the job has
    failed with it (the last attempt) or the chunk needs no other run."""
    with transaction.atomic():
        chunk = JobChunk.objects.select_for_update(of=("self",)).filter(pk=chunk_id).first()
        if chunk is None or chunk.state != ChunkState.PENDING:
            return None
        chunk.attempts += 1
        if chunk.attempts < settings.JOB_CHUNK_ATTEMPTS:
            chunk.save(update_fields=["attempts"])
            return chunk.attempts
        chunk.state = ChunkState.SKIPPED
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["attempts", "state", "finished_at"])
        # The other chunks skip themselves when they come (the job is no longer running):
        # skipping them here would lock them after the job, against the order above.
        _fail(
            chunk.job_id, f"Chunk {chunk.number} failed {chunk.attempts} times: {_describe(error)}"
        )
    return None


def _fail(job_id: int, text: str) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.state in FINISHED_STATES:
            return
        job.state = JobState.FAILED
        job.error = text
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "error", "finished_at"])


def _describe(error: Exception) -> str:
    return f"{error.__class__.__name__}: {error}"[:2000]
