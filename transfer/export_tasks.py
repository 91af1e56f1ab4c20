"""The worker's part of an XLSX export job: its file made from the parts, once asked for
(transfer.export_jobs.job_xlsx)."""

from __future__ import annotations

from celery import shared_task

from jobs.models import Job, JobState
from transfer import export_jobs, exports


@shared_task(name="transfer.export_xlsx", acks_late=True)
def make_xlsx(job_id: int) -> None:
    """Make the XLSX of export job ``job_id``; nothing when it is made already (a message
    delivered twice) or the job is gone."""
    job = Job.objects.filter(pk=job_id, kind=exports.KIND, state=JobState.DONE).first()
    if job is not None:
        export_jobs.make_job_xlsx(job)
