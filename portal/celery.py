"""The Celery application: the workers that run jobs' chunks (`make worker`).

Its configuration is the Django settings whose names start with ``CELERY_`` (portal/settings.py,
"Background jobs"): the broker is the Redis of ``REDIS_URL``; without it (`make run`, SQLite,
DEBUG) every task runs in the process that sends it. The tasks are found in each app's
``tasks`` module.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = logging.getLogger(__name__)


@worker_ready.connect
def send_waiting_work(**kwargs) -> None:
    """A worker that starts sends what waits for the queue: jobs started while the broker was
    down, and chunks whose message was lost with it (jobs.engine.retry_dispatch); then it
    watches for jobs that stall."""
    from jobs.engine import retry_dispatch

    threading.Thread(target=_watch_stalled_jobs, name="stalled-jobs", daemon=True).start()
    retry_dispatch()


def _watch_stalled_jobs() -> None:
    """Every quarter of JOB_STALLED_AFTER, in a thread of the worker's main process (its own
    database connection; each send opens its own broker connection), send again the jobs
    whose messages look lost: a Redis restarted without its data (nothing on disk) lost the
    queue, and the job would otherwise wait JOB_REDISPATCH_AFTER. While Redis is down this
    sends nothing (the job waits); once it is back the next look sends. Several workers may
    send the same chunks at once: a duplicate does nothing."""
    from django.conf import settings
    from django.db import close_old_connections

    from jobs.engine import retry_dispatch

    interval = max(1, settings.JOB_STALLED_AFTER // 4)
    while True:
        time.sleep(interval)
        close_old_connections()  # a database that went away meanwhile: a new connection
        try:
            sent = retry_dispatch(stalled=True)
        except Exception:
            logger.exception("Looking for stalled jobs failed")
            continue
        if sent:
            logger.warning("%s stalled job(s) sent again", sent)
