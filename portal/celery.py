"""The Celery application: the workers that run jobs' chunks (`make worker`).

Its configuration is the Django settings whose names start with ``CELERY_`` (portal/settings.py,
"Background jobs"): the broker is the Redis of ``REDIS_URL``; without it (`make run`, SQLite,
DEBUG) every task runs in the process that sends it. The tasks are found in each app's
``tasks`` module.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def send_waiting_work(**kwargs) -> None:
    """A worker that starts sends what waits for the queue: jobs started while the broker was
    down, and chunks whose message was lost with it (jobs.engine.retry_dispatch)."""
    from jobs.engine import retry_dispatch

    retry_dispatch()
