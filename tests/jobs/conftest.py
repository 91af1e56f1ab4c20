import pytest

from jobs import actions, engine
from jobs.models import Job
from populations.population import selection
from tests.factories import PersonFactory
from tests.jobs import touch

# The real worker's fixtures, for the tests that start one (tests.jobs.worker_harness).
from tests.jobs.worker_harness import queue, workers  # noqa: F401


@pytest.fixture(autouse=True)
def touch_action(monkeypatch):
    """The tests' action (tests.jobs.touch), registered with the engine for this test only:
    the registry is a copy that monkeypatch puts back afterwards."""
    monkeypatch.setattr(actions, "_REGISTRY", dict(actions._REGISTRY))
    touch.register()


@pytest.fixture
def people(db):
    return [PersonFactory(first_name=f"Name{n}", last_name=f"Last{n}") for n in range(5)]


@pytest.fixture
def run_job(django_capture_on_commit_callbacks, operator_actor):
    """Start a job and run it to its end here (eager mode: its tasks run where they are sent,
    once the start's transaction commits)."""

    def run(people=None, *, query=None, params=None, actor=None, kind=touch.KIND, **kwargs) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            job = engine.start_job(
                kind=kind,
                query=query if query is not None else selection([p.pk for p in people]),
                params=params if params is not None else {"firstName": "Touched"},
                actor=actor or operator_actor,
                **kwargs,
            )
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def run_undo(django_capture_on_commit_callbacks, operator_actor):
    def run(job: Job, actor=None) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            undo = engine.undo_job(job=job, actor=actor or operator_actor)
        undo.refresh_from_db()
        return undo

    return run
