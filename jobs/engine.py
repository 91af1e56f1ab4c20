"""Starting, cancelling and undoing jobs, and sending their messages to the workers.

Every interface (the search page, the job pages, the API, commands) starts work on a
population through ``start_job`` and follows it through the Job row: the state and the counters
live in the database, the broker only carries "plan this job" and "run this chunk". A message
that never reached the broker (Redis down when the job started) or was lost with it is sent
again by ``retry_dispatch``, which the job pages' polling, a starting worker, each worker's
watch of stalled jobs (portal.celery) and ``manage.py dispatch_jobs`` call; a message delivered
twice does its work once (jobs.tasks).

The actor is people.history.Actor, read by its fields (``kind``, ``label``, ``source``,
``user``): this app sits below people.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from core import roles
from core.errors import DomainError, ErrorCode
from jobs import actions
from jobs.actions import BulkAction, JobContext
from jobs.models import FINISHED_STATES, ChunkState, Job, JobChunk, JobState

logger = logging.getLogger(__name__)
# The audit log of people.history.record_audit (same line, same fields): starting, cancelling
# and undoing a job are writes of no one person's history; the people it changes get events.
audit_log = logging.getLogger("portal.audit")

UNFINISHED_STATES = (JobState.PENDING, JobState.PLANNING, JobState.RUNNING, JobState.CANCELLING)
# How often one job page's polling may try the broker again for its job (seconds).
POLL_RETRY_SECONDS = 5


def start_job(
    *, kind: str, query: dict[str, Any], params: dict[str, Any], actor, dry_run: bool = False
) -> Job:
    """A new job of ``kind`` on the people ``query`` finds, planned by a worker once this
    transaction commits. Refused (DomainError) for an unknown kind, parameters the action
    refuses, or an operator whose role may not run it. The job exists even when the broker
    cannot be reached: it waits for the queue (PENDING) until ``retry_dispatch``."""
    action = actions.get(kind)
    _authorize(actor, action)
    params = action.clean_params(params)
    job = Job.objects.create(
        kind=kind,
        query=query,
        params=params,
        dry_run=dry_run,
        actor_kind=actor.kind,
        actor_label=actor.label[:255],
        actor_user=_user_of(actor),
        source=actor.source,
    )
    transaction.on_commit(lambda: dispatch_planning(job.pk))
    _audit("job started", job, actor)
    return job


def cancel_job(*, job: Job, actor) -> Job:
    """Stop a job: chunks not started yet are skipped, a chunk running finishes. A job still
    waiting for the queue is cancelled at once; a running one is CANCELLING until its last
    chunk is skipped (jobs.tasks). Cancelling a job that is cancelling already changes
    nothing; a finished job is refused (CONFLICT)."""
    _authorize(actor, actions.get(job.kind))
    with transaction.atomic():
        # Locked against the last chunk's finish check and a planning that ends now.
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.state in FINISHED_STATES:
            raise DomainError(
                ErrorCode.CONFLICT, f"Job {job.pk} has finished ({job.get_state_display()})."
            )
        if job.state == JobState.PENDING:
            job.state = JobState.CANCELLED
            job.finished_at = timezone.now()
        elif job.state in (JobState.PLANNING, JobState.RUNNING):
            job.state = JobState.CANCELLING
        job.save(update_fields=["state", "finished_at"])
    _audit("job cancelled", job, actor)
    return job


def undo_job(*, job: Job, actor) -> Job:
    """A new job of the same kind that puts back the people ``job`` changed, from what its
    chunks recorded; a person changed since is left as it is and reported (CHANGED_SINCE).
    Refused for a dry run, a job not finished (DONE or CANCELLED), one undone already, an
    undo itself, and an action that cannot undo."""
    action = actions.get(job.kind)
    _authorize(actor, action)
    with transaction.atomic():
        # Two operators who click Undo at once: one undo job (undoes is one-to-one as well).
        job = Job.objects.select_for_update().get(pk=job.pk)
        _check_undoable(job, action)
        undo = Job.objects.create(
            kind=job.kind,
            query=job.query,
            params=job.params,
            undoes=job,
            actor_kind=actor.kind,
            actor_label=actor.label[:255],
            actor_user=_user_of(actor),
            source=actor.source,
        )
        transaction.on_commit(lambda: dispatch_planning(undo.pk))
    _audit("job undone", job, actor, undo_job=undo.pk)
    return undo


def _check_undoable(job: Job, action: BulkAction) -> None:
    problem = ""
    if not action.undoable:
        problem = f"{action.label} cannot be undone."
    elif job.dry_run:
        problem = "A dry run changed nothing: there is nothing to undo."
    elif job.undoes_id is not None:
        problem = "An undo cannot be undone."
    elif job.state not in (JobState.DONE, JobState.CANCELLED):
        problem = f"Job {job.pk} has not finished ({job.get_state_display()})."
    elif Job.objects.filter(undoes=job).exists():
        problem = f"Job {job.pk} has been undone already."
    if problem:
        raise DomainError(ErrorCode.CONFLICT, problem)


def may_manage(user, job: Job) -> bool:
    """Whether an operator may cancel or undo ``job``: an Editor, or an Administrator when
    the job's action needs one."""
    if not roles.can_edit(user):
        return False
    try:
        action = actions.get(job.kind)
    except DomainError:
        return False
    return action.role != roles.ADMINISTRATOR or roles.can_delete_people(user)


def _authorize(actor, action: BulkAction) -> None:
    """An operator needs the action's role; an API key was checked by the API (manage)."""
    user = getattr(actor, "user", None)
    if user is None:
        return
    allowed = roles.can_edit(user)
    if action.role == roles.ADMINISTRATOR:
        allowed = roles.can_delete_people(user)
    elif action.role == roles.VIEWER:
        # An action that only reads (an export): every role that reads people.
        allowed = roles.can_view(user)
    if not allowed:
        raise DomainError(ErrorCode.FORBIDDEN, f"{action.label} needs the role {action.role}.")


def _audit(action: str, job: Job, actor, **details: Any) -> None:
    target = f"job {job.pk} ({job.kind}{', dry run' if job.dry_run else ''})"
    audit_log.info(
        "%s: %s by %s (%s, source %s)",
        action,
        target,
        actor.label,
        actor.kind,
        actor.source,
        extra={
            "audit": {
                "action": action,
                "target": target,
                "actor_kind": actor.kind,
                "actor": actor.label,
                "source": actor.source,
                **details,
            }
        },
    )


def _user_of(actor):
    user = getattr(actor, "user", None)
    return user if user is not None and user.pk else None


def job_context(job: Job) -> JobContext:
    """What the action sees of its job; its actor's events name the job (people.history)."""
    return JobContext(
        id=job.pk,
        kind=job.kind,
        params=job.params,
        actor_kind=job.actor_kind,
        actor_label=job.actor_label,
        actor_user_id=job.actor_user_id,
        source=job.source,
        dry_run=job.dry_run,
    )


# Messages ------------------------------------------------------------------------------------


def send(task, arguments: list[tuple]) -> bool:
    """Send one message of ``task`` per arguments, over one connection; False when the broker
    cannot be reached (nothing is raised: the job waits and is sent again later). In eager
    mode (no broker, `make run`) the tasks run here and now."""
    if task.app.conf.task_always_eager:
        for args in arguments:
            task.apply_async(args)
        return True
    try:
        with task.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
            for args in arguments:
                # The queue named each time: JOB_QUEUE as the settings say now.
                task.apply_async(
                    args,
                    connection=connection,
                    retry=False,
                    queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                )
    except (OperationalError, OSError) as error:
        logger.warning("The broker cannot be reached (%s): %s waits", error, task.name)
        return False
    return True


def dispatch_planning(job_id: int) -> bool:
    """Send the job's planning message; when it reached the broker, remember when."""
    from jobs.tasks import plan_job

    sent_at = timezone.now()
    if not send(plan_job, [(job_id,)]):
        return False
    Job.objects.filter(pk=job_id).update(dispatched_at=sent_at)
    return True


def dispatch_chunks(job_id: int, chunk_ids: list[int]) -> bool:
    """Send one message per chunk; when they reached the broker, remember when."""
    from jobs.tasks import run_chunk

    sent_at = timezone.now()
    if not send(run_chunk, [(chunk_id,) for chunk_id in chunk_ids]):
        return False
    Job.objects.filter(pk=job_id).update(dispatched_at=sent_at)
    return True


def retry_dispatch(*, job: Job | None = None, stalled: bool = False) -> int:
    """Send again what waits for lost messages, for ``job`` or every unfinished job: the
    planning of a job never sent (the broker was down when it started) or sent long ago
    (JOB_REDISPATCH_AFTER) and not planned since; the pending chunks of a job that has not
    moved for as long. A message that arrives twice does its work once. The number of jobs
    sent again.

    ``stalled`` (the worker's watch and the job pages' polling) uses JOB_STALLED_AFTER instead,
    a minute: a Redis restarted without its data lost every queued message, and the job would
    otherwise wait the hour. It sends a job's pending chunks (or its planning, while no worker
    took it) only when the workers have finished no chunk of any job for that long: workers
    busy with another job's chunks are not a lost queue. Sending too early costs duplicates,
    each a no-op; a duplicate of a chunk a worker is doing waits on the chunk's row lock
    until that chunk commits, then finds it done and returns (jobs.tasks.execute_chunk)."""
    jobs = Job.objects.filter(state__in=UNFINISHED_STATES)
    if job is not None:
        jobs = jobs.filter(pk=job.pk)
    after = settings.JOB_STALLED_AFTER if stalled else settings.JOB_REDISPATCH_AFTER
    stale_before = timezone.now() - timedelta(seconds=after)
    workers_moved: bool | None = None  # read once, for the first job sent before
    sent = 0
    for waiting in jobs.only("pk", "state", "dispatched_at"):
        if waiting.dispatched_at is not None:
            if waiting.dispatched_at > stale_before:
                continue
            if stalled:
                if workers_moved is None:
                    workers_moved = _workers_moved_since(stale_before)
                if workers_moved or waiting.state == JobState.PLANNING:
                    # A planning under way may take minutes: only the hour's rule sends it.
                    continue
        if waiting.state in (JobState.PENDING, JobState.PLANNING):
            sent += dispatch_planning(waiting.pk)
        elif not _moved_since(waiting, stale_before):
            pending = JobChunk.objects.filter(job=waiting, state=ChunkState.PENDING)
            chunk_ids = list(pending.values_list("pk", flat=True))
            if chunk_ids:
                sent += dispatch_chunks(waiting.pk, chunk_ids)
            elif waiting.state == JobState.CANCELLING:
                # Cancelled while planning, and the planning was lost: planning ends it.
                sent += dispatch_planning(waiting.pk)
    return sent


def _moved_since(job: Job, since: datetime) -> bool:
    last = JobChunk.objects.filter(job=job).aggregate(last=Max("finished_at"))["last"]
    return last is not None and last > since


def _workers_moved_since(since: datetime) -> bool:
    """Whether a chunk of an unfinished job finished since ``since``."""
    return JobChunk.objects.filter(job__state__in=UNFINISHED_STATES, finished_at__gt=since).exists()


def retry_dispatch_for_page(job: Job) -> None:
    """The job pages' polling: a job that waits for the queue, or whose messages look lost (it
    was sent JOB_STALLED_AFTER ago and the workers have done nothing since), is sent again, at
    most every POLL_RETRY_SECONDS whatever the number of open pages (the cache is shared)."""
    if job.state not in UNFINISHED_STATES:
        return
    if job.dispatched_at is not None:
        stale_before = timezone.now() - timedelta(seconds=settings.JOB_STALLED_AFTER)
        if job.dispatched_at > stale_before:
            return
    try:
        first = cache.add(f"jobs:retry-dispatch:{job.pk}", 1, timeout=POLL_RETRY_SECONDS)
    except (RedisError, OSError):
        return  # the cache is the queue's Redis: down too, so nothing could be sent now
    if first:
        retry_dispatch(job=job, stalled=True)


def queue_reachable() -> bool:
    """Whether the broker answers now, within its connect timeout (2 s; a Redis that is down
    refuses at once): the job pages say "Waiting for the queue" while it does not. Always in
    eager mode, which has no broker."""
    from jobs.tasks import run_chunk

    app = run_chunk.app
    if app.conf.task_always_eager:
        return True
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    except (OperationalError, OSError):
        return False
    return True


# Progress ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A job's progress as its pages show it."""

    total: int | None
    done: int
    percent: int  # 0..100
    rate: float | None  # people per second since it started
    eta_seconds: int | None  # until the end at that rate
    finished: bool

    @property
    def eta_text(self) -> str:
        """The time left in words: "about 40 s", "about 3 min", "about 2 h"."""
        if self.eta_seconds is None:
            return ""
        if self.eta_seconds < 90:
            return f"about {self.eta_seconds} s"
        if self.eta_seconds < 90 * 60:
            return f"about {round(self.eta_seconds / 60)} min"
        return f"about {round(self.eta_seconds / 3600)} h"


def progress(job: Job, now: datetime | None = None) -> Progress:
    now = now or timezone.now()
    finished = job.state in FINISHED_STATES
    total = job.total
    percent = 100 if finished and job.state == JobState.DONE else 0
    if total:
        percent = min(100, job.done * 100 // total)
    elif total == 0:
        percent = 100
    rate = eta = None
    if job.started_at and job.done:
        end = job.finished_at or now
        seconds = max((end - job.started_at).total_seconds(), 0.001)
        rate = job.done / seconds
        if total and not finished:
            eta = int((total - job.done) / rate)
    return Progress(total, job.done, percent, rate, eta, finished)
