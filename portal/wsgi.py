import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Requests get the database timeouts of a web process (portal/settings.py, WEB_PROCESS).
os.environ.setdefault("PORTAL_PROCESS", "web")
application = get_wsgi_application()

from portal.request_guards import CharsetGuard  # noqa: E402 - needs the settings above

application = CharsetGuard(application)
