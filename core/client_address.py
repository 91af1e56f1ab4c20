"""The client's address, as the rate limits and the sign-in lockout count it.

``TRUSTED_PROXY_COUNT`` (default 0) says how many reverse proxies stand in front of the
portal, each appending the address it received a request from to ``X-Forwarded-For``:

- 0: the portal is reached directly; the client is ``REMOTE_ADDR`` and ``X-Forwarded-For``,
  which anyone can send, is ignored;
- N: the client is the N-th address from the right of ``X-Forwarded-For`` (the one the
  outermost trusted proxy saw); addresses further left were written by the client and are
  ignored. Without the header (a request that did not pass the proxies) it is ``REMOTE_ADDR``.

DRF's throttles (core.api.throttling) and django-axes (AXES_CLIENT_IP_CALLABLE) both ask
this function, so that both count the same client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The client's IP address for ``request`` (a Django or DRF request)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded.strip():
        return remote
    addresses = [part.strip() for part in forwarded.split(",")]
    candidate = addresses[-min(proxies, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address: the proxy is not the one configured. Count the proxy itself
        # rather than a value a client may have chosen.
        return remote
