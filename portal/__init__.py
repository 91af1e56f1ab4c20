# The Celery application is loaded with Django, so that tasks sent by the web process (and run
# in it, in eager mode) use its configuration.
from portal.celery import app as celery_app

__all__ = ["celery_app"]
