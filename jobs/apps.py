from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The job engine: long work on a population of people, split into chunks that any Celery
    worker can take, with its state, progress, errors and what undo needs in the database.
    It knows actions only through jobs.actions' registry: the layers above register theirs."""

    name = "jobs"
    verbose_name = "Jobs"
