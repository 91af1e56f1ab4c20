"""An export job on a real worker (tests.jobs.worker_harness): its chunks write their parts
in the worker's process, the download streams them in chunk order, and the XLSX a download
asks for is made by the worker (202 until it is there)."""

from __future__ import annotations

import time

import pytest

from jobs.models import JobState
from people.history import Actor
from tests.factories import PersonFactory
from tests.jobs.worker_harness import Worker, queue, wait_for  # noqa: F401
from tests.transfer.export_support import csv_rows, xlsx_rows
from transfer import export_jobs, exports

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker(queue, tmp_path, _transfer_root):  # noqa: F811
    started = Worker(
        queue, tmp_path / "worker.log", 25, extra={"TRANSFER_ROOT": str(_transfer_root)}
    )
    started.start()
    yield started
    started.stop()


def test_an_export_job_on_a_real_worker(worker, client, editor, tmp_path):
    people = PersonFactory.create_batch(120)
    client.force_login(editor)
    export = exports.Export(
        query={}, columns=exports.choose_columns(["id", "lastName"]), file_format="xlsx"
    )
    job = export_jobs.start_job(export=export, actor=Actor.operator(editor))
    job = wait_for(job, {JobState.DONE, JobState.FAILED}, seconds=120, log=tmp_path / "worker.log")
    assert (job.state, job.total, job.done) == (JobState.DONE, 120, 120)
    assert len(export_jobs.parts(job)) == 5

    url = f"/exports/{job.pk}/download"
    assert client.get(url).status_code == 202  # asked of the worker
    deadline = time.monotonic() + 60
    while not export_jobs.xlsx_path(job).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = xlsx_rows(client.get(url))
    assert [row["id"] for row in rows] == [str(p.pk) for p in people]

    job.params["format"] = "csv"
    job.save(update_fields=["params"])
    assert [row["lastName"] for row in csv_rows(client.get(url))] == [p.last_name for p in people]
