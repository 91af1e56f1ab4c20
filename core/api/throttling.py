"""Rate limits counted in the shared cache (Redis in production: see REDIS_URL in settings).

DRF's SimpleRateThrottle reads a list of timestamps, appends one and writes the list back:
two workers reading the same list at once both let a request through and one write is lost,
so a burst spread over several workers passes more than the rate. Here a key's window opens
at its first request and lasts the rate's period; every request increments a counter of that
window atomically (``cache.add`` then ``cache.incr``, Redis's SET NX and INCR), so at most
``num_requests`` requests pass per window, however many workers serve them. A refused
request's ``Retry-After`` is the time left in its window.

The client address (anonymous callers, devices) comes from core.client_address: the
trusted proxy's ``X-Forwarded-For`` entry, never a header the client chose.
"""

from __future__ import annotations

from rest_framework import exceptions, status
from rest_framework.throttling import SimpleRateThrottle

from core.api.authentication import ApiKeyPrincipal
from core.client_address import client_address

try:
    from redis.exceptions import RedisError
except ImportError:  # the redis client is only needed when REDIS_URL is set

    class RedisError(Exception):
        pass


class RateLimitStoreUnavailable(exceptions.APIException):
    """The shared store of the rate limits does not answer: refuse rather than not count."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Try again shortly."
    default_code = "service_unavailable"
    message_id = "SERVICE_UNAVAILABLE"
    wait = 5  # DRF's exception handler turns it into Retry-After


class SharedRateThrottle(SimpleRateThrottle):
    """A fixed window per key, opened by the key's first request, counted atomically."""

    def get_ident(self, request) -> str:
        return client_address(request) or "unknown"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        try:
            count, self.window_start = self._count_request()
        except RedisError as exc:
            raise RateLimitStoreUnavailable() from exc
        return count <= self.num_requests

    def _count_request(self) -> tuple[int, float]:
        """(requests in the key's current window, this one included; the window's start)."""
        # The first request of a window stores its start; concurrent first requests agree on
        # the one that cache.add stored.
        start = self.cache.get(self.key)
        if start is None:
            self.cache.add(self.key, self.now, self.duration)
            start = self.cache.get(self.key, self.now)
        counter = f"{self.key}:{start!r}"
        self.cache.add(counter, 0, self.duration + 1)
        try:
            return self.cache.incr(counter), start
        except ValueError:  # the window ended between add and incr: this request opens one
            self.cache.set(self.key, self.now, self.duration)
            self.cache.set(f"{self.key}:{self.now!r}", 1, self.duration + 1)
            return 1, self.now

    def wait(self) -> float | None:
        return max(0.0, self.window_start + self.duration - self.now)


class PerKeyRateThrottle(SharedRateThrottle):
    """Requests per API key (or per operator, or per address when anonymous)."""

    scope = "api"

    def get_cache_key(self, request, view):
        if isinstance(request.user, ApiKeyPrincipal):
            ident = f"key-{request.user.key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
