"""The job engine in eager mode: planning, chunks, counters, errors, dry runs, cancel, undo,
failures, and messages delivered twice."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError, ErrorCode
from jobs import engine, tasks
from jobs.models import ChunkState, Job, JobRowError, JobState
from people.history import Actor
from people.models import Event, Person, Source
from populations.population import selection
from tests.factories import PersonFactory
from tests.jobs import touch

pytestmark = pytest.mark.django_db


def first_names(people) -> list[str]:
    return list(
        Person.objects.filter(pk__in=[p.pk for p in people])
        .order_by("pk")
        .values_list("first_name", flat=True)
    )


def test_it_plans_the_people_into_chunks_of_the_chunk_size(run_job, people, settings):
    settings.JOB_CHUNK_SIZE = 2
    job = run_job(people)
    chunks = list(job.chunks.order_by("number"))
    ids = sorted(p.pk for p in people)
    assert [c.person_ids for c in chunks] == [ids[0:2], ids[2:4], ids[4:5]]
    assert [c.number for c in chunks] == [0, 1, 2]
    assert {c.state for c in chunks} == {ChunkState.DONE}
    assert job.total == 5
    assert job.state == JobState.DONE
    assert job.started_at is not None and job.finished_at is not None
    assert job.dispatched_at is not None


def test_it_counts_done_changed_and_failed(run_job, people):
    people[0].first_name = "Touched"
    people[0].save()
    Person.objects.filter(pk=people[1].pk).update(last_name="Refuse")
    job = run_job(people)
    assert (job.total, job.done, job.changed, job.failed) == (5, 5, 3, 1)
    assert first_names(people) == ["Touched", "Name1", "Touched", "Touched", "Touched"]


def test_one_bad_row_never_aborts_its_chunk(run_job, people, settings):
    settings.JOB_CHUNK_SIZE = 10
    Person.objects.filter(pk=people[2].pk).update(last_name="Refuse")
    job = run_job(people)
    errors = list(JobRowError.objects.filter(job=job).values_list("person_id", "code", "message"))
    assert errors == [(people[2].pk, ErrorCode.BAD_REQUEST, "Refused.")]
    assert first_names(people).count("Touched") == 4


def planned(settings, people, actor, params=None) -> Job:
    """A job planned into chunks whose messages went nowhere (the tests run them by hand)."""
    job = engine.start_job(
        kind=touch.KIND,
        query=selection([p.pk for p in people]),
        params=params or {"firstName": "Touched"},
        actor=actor,
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # no server: nothing is sent
    tasks.plan_job.apply(args=(job.pk,))
    job.refresh_from_db()
    return job


def test_a_person_gone_since_planning_is_an_error_of_its_row(settings, people, operator_actor):
    job = planned(settings, people, operator_actor)
    Person.objects.filter(pk=people[4].pk).delete()
    tasks.run_chunk.apply(args=(job.chunks.get().pk,))
    job.refresh_from_db()
    assert list(job.row_errors.values_list("person_id", "code")) == [
        (people[4].pk, ErrorCode.NOT_FOUND)
    ]
    assert (job.state, job.changed, job.failed) == (JobState.DONE, 4, 1)


def test_its_events_name_the_job_and_its_actor(run_job, people, editor):
    job = run_job(people)
    events = Event.objects.filter(job=job)
    assert events.count() == 5
    assert set(events.values_list("source", "actor_label")) == {(Source.JOB, editor.username)}
    assert job.actor_user == editor and job.source == Source.UI


def test_a_dry_run_writes_nothing_and_counts_what_it_would_do(run_job, people):
    Person.objects.filter(pk=people[0].pk).update(last_name="Refuse")
    job = run_job(people, dry_run=True)
    assert (job.state, job.done, job.changed, job.failed) == (JobState.DONE, 5, 4, 1)
    assert first_names(people) == [f"Name{n}" for n in range(5)]
    assert not Event.objects.filter(job=job).exists()
    assert all(chunk.undo == [] for chunk in job.chunks.all())
    assert job.row_errors.count() == 1


def test_start_refuses_parameters_the_action_refuses(people, operator_actor):
    with pytest.raises(DomainError) as caught:
        engine.start_job(kind=touch.KIND, query=selection([1]), params={}, actor=operator_actor)
    assert caught.value.field == "firstName"
    assert not Job.objects.exists()


def test_start_refuses_an_unknown_kind(db, operator_actor):
    with pytest.raises(DomainError) as caught:
        engine.start_job(kind="no.such", query={}, params={}, actor=operator_actor)
    assert caught.value.code == ErrorCode.JOB_KIND_UNKNOWN


def test_start_refuses_a_role_below_the_actions(db, viewer, editor, operator_actor):
    for user, kind in ((viewer, touch.KIND), (editor, touch.ADMIN_KIND)):
        with pytest.raises(DomainError) as caught:
            engine.start_job(
                kind=kind, query={}, params={"firstName": "x"}, actor=Actor.operator(user)
            )
        assert caught.value.code == ErrorCode.FORBIDDEN


def test_the_params_are_stored_cleaned(run_job, people):
    job = run_job(people, params={"firstName": "  Touched "})
    assert job.params == {"firstName": "Touched", "sleep": 0.0}


def test_an_empty_population_is_done_at_once(run_job):
    job = run_job(query=selection([]))
    assert (job.state, job.total, job.chunks.count()) == (JobState.DONE, 0, 0)


def test_a_search_query_finds_its_people(run_job, people):
    job = run_job(query={"q": "Name3"})
    assert job.total >= 1
    assert "Touched" in first_names([people[3]])


def test_a_chunk_delivered_twice_is_done_once(run_job, people, settings):
    settings.JOB_CHUNK_SIZE = 2
    job = run_job(people)
    chunk = job.chunks.get(number=0)
    tasks.run_chunk.apply(args=(chunk.pk,))
    job.refresh_from_db()
    assert (job.done, job.changed) == (5, 5)
    assert Event.objects.filter(job=job).count() == 5


def test_a_planning_delivered_twice_plans_once(run_job, people):
    job = run_job(people)
    tasks.plan_job.apply(args=(job.pk,))
    assert job.chunks.count() == 1


def test_cancel_of_a_waiting_job_cancels_it_at_once(people, operator_actor):
    job = engine.start_job(
        kind=touch.KIND,
        query=selection([p.pk for p in people]),
        params={"firstName": "x"},
        actor=operator_actor,
    )
    job = engine.cancel_job(job=job, actor=operator_actor)
    assert job.state == JobState.CANCELLED and job.finished_at is not None
    tasks.plan_job.apply(args=(job.pk,))  # its message, arriving late
    assert not job.chunks.exists()
    assert first_names(people) == [f"Name{n}" for n in range(5)]


def test_cancel_skips_the_chunks_not_done(run_job, people, settings, operator_actor):
    """Cancelled after planning: the chunks still queued are skipped as their messages come,
    and the last one ends the job."""
    settings.JOB_CHUNK_SIZE = 2
    job = planned(settings, people, operator_actor)
    first, *others = job.chunks.order_by("number")
    tasks.run_chunk.apply(args=(first.pk,))
    engine.cancel_job(job=job, actor=operator_actor)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLING
    for chunk in others:
        tasks.run_chunk.apply(args=(chunk.pk,))
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.finished_at is not None
    assert (job.done, job.changed) == (2, 2)
    assert [c.state for c in job.chunks.order_by("number")] == [
        ChunkState.DONE,
        ChunkState.SKIPPED,
        ChunkState.SKIPPED,
    ]
    assert first_names(people).count("Touched") == 2


def test_cancel_of_a_finished_job_is_refused(run_job, people, operator_actor):
    job = run_job(people)
    with pytest.raises(DomainError) as caught:
        engine.cancel_job(job=job, actor=operator_actor)
    assert caught.value.code == ErrorCode.CONFLICT


def test_undo_puts_the_people_back(run_job, run_undo, people, settings):
    settings.JOB_CHUNK_SIZE = 2
    job = run_job(people)
    undo = run_undo(job)
    assert undo.undoes == job and undo.kind == job.kind
    assert (undo.state, undo.total, undo.changed, undo.failed) == (JobState.DONE, 5, 5, 0)
    assert first_names(people) == [f"Name{n}" for n in range(5)]
    assert Event.objects.filter(job=undo).count() == 5


def test_undo_leaves_a_person_changed_since_and_reports_it(run_job, run_undo, people):
    job = run_job(people)
    Person.objects.filter(pk=people[1].pk).update(first_name="Edited")
    undo = run_undo(job)
    assert (undo.changed, undo.failed) == (4, 1)
    assert list(undo.row_errors.values_list("person_id", "code")) == [
        (people[1].pk, ErrorCode.CHANGED_SINCE)
    ]
    assert first_names(people) == ["Name0", "Edited", "Name2", "Name3", "Name4"]


def test_undo_covers_only_the_people_the_job_changed(run_job, run_undo, people):
    Person.objects.filter(pk=people[0].pk).update(first_name="Touched")
    Person.objects.filter(pk=people[1].pk).update(last_name="Refuse")
    job = run_job(people)
    undo = run_undo(job)
    assert undo.total == 3
    assert first_names(people) == ["Touched", "Name1", "Name2", "Name3", "Name4"]


@pytest.mark.parametrize("reason", ["dry run", "undone", "undo", "running"])
def test_undo_is_refused(reason, run_job, run_undo, people, operator_actor):
    job = run_job(people, dry_run=reason == "dry run")
    if reason in ("undone", "undo"):
        undo = run_undo(job)
        job = undo if reason == "undo" else job
    if reason == "running":
        Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING)
    with pytest.raises(DomainError) as caught:
        engine.undo_job(job=job, actor=operator_actor)
    assert caught.value.code == ErrorCode.CONFLICT


def test_undo_is_refused_for_an_action_that_cannot_undo(run_job, people, operator_actor):
    job = run_job(people)
    action = touch.Touch()
    action.undoable = False
    from jobs import actions

    actions.register(action)
    try:
        with pytest.raises(DomainError) as caught:
            engine.undo_job(job=job, actor=operator_actor)
    finally:
        touch.register()
    assert caught.value.code == ErrorCode.CONFLICT


def test_a_chunk_that_raises_runs_again_then_fails_the_job(run_job, people, settings):
    settings.JOB_CHUNK_SIZE = 2
    settings.JOB_CHUNK_ATTEMPTS = 3
    job = run_job(people, params={"firstName": "explode"})
    assert job.state == JobState.FAILED
    assert "RuntimeError: the chunk exploded" in job.error
    assert job.finished_at is not None
    chunks = list(job.chunks.order_by("number"))
    assert chunks[0].attempts == 3
    assert {c.state for c in chunks} == {ChunkState.SKIPPED}
    assert (job.done, job.changed) == (0, 0)


def test_a_failed_run_is_rolled_back_whole(people, operator_actor, settings):
    """A chunk that raised wrote nothing: not its rows, not its counters."""
    job = planned(settings, people, operator_actor, {"firstName": "explode"})
    chunk = job.chunks.get()
    with pytest.raises(RuntimeError):
        tasks.execute_chunk(chunk.pk)
    chunk.refresh_from_db()
    assert chunk.state == ChunkState.PENDING
    assert Job.objects.get(pk=job.pk).done == 0


def test_planning_holds_a_few_chunks_at_a_time(run_job, settings):
    """Chunks are inserted in batches: a population of many chunks is a few INSERTs."""
    settings.JOB_CHUNK_SIZE = 1
    people = PersonFactory.create_batch(120)
    with CaptureQueriesContext(connection) as queries:
        job = run_job(people)
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "jobs_jobchunk"')]
    assert len(inserts) == 3  # 50 + 50 + 20
    assert job.total == 120


def test_progress_says_how_far_and_how_fast(run_job, people):
    job = run_job(people)
    progress = engine.progress(job)
    assert (progress.percent, progress.done, progress.total, progress.finished) == (100, 5, 5, True)
    assert progress.rate and progress.eta_seconds is None
    waiting = Job(kind=touch.KIND, state=JobState.PENDING)
    assert engine.progress(waiting).percent == 0


def test_start_cancel_and_undo_leave_audit_lines(run_job, run_undo, people, caplog, editor):
    caplog.set_level("INFO", logger="portal.audit")
    job = run_job(people)
    undo = run_undo(job)
    lines = [r.audit for r in caplog.records if r.name == "portal.audit"]
    assert [(line["action"], line["actor"], line["source"]) for line in lines] == [
        ("job started", editor.username, Source.UI),
        ("job undone", editor.username, Source.UI),
    ]
    assert lines[1]["undo_job"] == undo.pk
    assert lines[0]["target"] == f"job {job.pk} (test.touch)"


def test_a_job_cancelled_while_its_planning_died_ends_cancelled(settings, people, operator_actor):
    job = engine.start_job(
        kind=touch.KIND,
        query=selection([p.pk for p in people]),
        params={"firstName": "x"},
        actor=operator_actor,
    )
    Job.objects.filter(pk=job.pk).update(state=JobState.PLANNING)  # its worker died here
    job = engine.cancel_job(job=Job.objects.get(pk=job.pk), actor=operator_actor)
    assert job.state == JobState.CANCELLING
    settings.JOB_REDISPATCH_AFTER = 0
    Job.objects.filter(pk=job.pk).update(dispatched_at="2020-01-01T00:00:00Z")
    assert engine.retry_dispatch() == 1  # eager: the planning runs here
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and not job.chunks.exists()


def test_the_time_left_reads_in_words():
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    job = Job(
        state=JobState.RUNNING, total=10_000, done=200, started_at=now - timedelta(seconds=10)
    )
    assert engine.progress(job, now).eta_text == "about 8 min"
    job.done = 9_950
    assert engine.progress(job, now).eta_text == "about 0 s"
    job.done = 1
    assert engine.progress(job, now).eta_text == "about 28 h"


@pytest.mark.postgres_only  # SQLite has no row locks (no FOR UPDATE)
def test_a_chunk_locks_its_own_row_only_so_that_chunks_of_one_job_run_side_by_side(
    run_job, people, settings
):
    """Found by the two-worker benchmark: the chunk's FOR UPDATE joined the job (the chunks'
    ordering was the job's), locking the job's row for the whole chunk, so a second worker
    waited for each chunk of the first."""
    settings.JOB_CHUNK_SIZE = 2
    with CaptureQueriesContext(connection) as queries:
        run_job(people)
    locks = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('SELECT "jobs_jobchunk"') and "FOR UPDATE" in q["sql"]
    ]
    assert len(locks) == 3  # one per chunk
    for sql in locks:
        assert '"jobs_job"' not in sql.replace('"jobs_jobchunk"', "")
