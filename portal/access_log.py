"""gunicorn's access log without personal data (`make serve`, gunicorn.conf.py).

A URL carries what the logs must not: the API's lookups put phones, emails and externalIds in
the query (``?identifier=jane.doe%40example.com``, ``?phone=%2B385...``), the search page the
operator's query (``/?q=...``), the device API the application code (``?sender=...``) and a
device's push registration id in the path. The access log keeps the method, the path with
device ids and anything that reads as an email or phone masked (portal.logging.mask), the
names of the query parameters without their values, and the referring page without its query.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from gunicorn.glogging import Logger

from portal.logging import mask


def query_names(query: str) -> str:
    """``identifier=jane%40example.com&type=EMAIL`` -> ``identifier&type``."""
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return "&".join(mask(name) for name in names)


def safe_url(path: str, query: str = "") -> str:
    names = query_names(query)
    return mask(path) + (f"?{names}" if names else "")


def safe_referer(referer: str) -> str:
    if referer == "-":
        return referer
    parts = urlsplit(referer)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return origin + safe_url(parts.path, parts.query)


class AccessLogger(Logger):
    """gunicorn's Logger whose access-log atoms carry no personal data."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        atoms["U"] = mask(path)
        atoms["q"] = query_names(query)
        atoms["r"] = f"{atoms['m']} {safe_url(path, query)} {atoms['H']}"
        atoms["f"] = safe_referer(atoms["f"])
        # The user name of a Basic Authorization header (the portal uses none) may be an email.
        atoms["u"] = "-"
        # Request headers and the WSGI environment (``%({name}i)s``, ``%({name}e)s``) repeat
        # the URL, the credentials and the cookies: no format may use them.
        return {
            name: value
            for name, value in atoms.items()
            if not (name.startswith("{") and name.endswith(("}i", "}e")))
        }
