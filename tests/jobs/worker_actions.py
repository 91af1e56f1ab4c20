"""Imported by the real worker the tests start (``celery worker -I tests.jobs.worker_actions``):
the tests' action, registered in the worker's process."""

from tests.jobs.touch import register

register()
