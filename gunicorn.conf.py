"""gunicorn settings for `make serve` (the Makefile's command line names workers and address).

The access log masks personal data in URLs: see portal/access_log.py.
"""

logger_class = "portal.access_log.AccessLogger"

# Seconds a request may take before its worker is restarted (gunicorn's default is 30): the
# largest import file (100 MB, a million rows) takes about 20 s to check and store, after its
# upload. A sync worker counts a streamed download's whole time too: a large export's file
# (about 190 MB for a million people) needs a client faster than 1.6 MB/s.
timeout = 120
