"""gunicorn settings for `make serve` (the Makefile's command line names workers and address).

The access log masks personal data in URLs: see portal/access_log.py.
"""

logger_class = "portal.access_log.AccessLogger"
