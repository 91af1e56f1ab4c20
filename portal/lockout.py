"""The sign-in lockout: django-axes' database handler, locking an address as well as an account.

Axes locks what AXES_LOCKOUT_PARAMETERS names, all at one limit. The portal locks two things:

- an account from an address (``[["username", "ip_address"]]``) after AXES_FAILURE_LIMIT
  failures: a password guessed for one operator; a correct sign-in resets it;
- an address after AXES_ADDRESS_FAILURE_LIMIT failures whatever the usernames: password
  spraying, one or two guesses for many operators. A correct sign-in does not reset it (an
  attacker with one account of their own would otherwise reset it at will); it ends with the
  cool-off (AXES_COOLOFF_TIME) after the address's last failure, or when an administrator
  deletes the access attempts in Django admin (Axes, Access attempts).

The address is the trusted proxy's (core.client_address). The records are rows of axes'
AccessAttempt table: every worker sees the same counts.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class AddressAndAccountLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The account's failures from the address, or the failure limit itself (locked) when
        the address is over its own limit; axes compares this with AXES_FAILURE_LIMIT."""
        failures = super().get_failures(request, credentials)
        if self.address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures

    @staticmethod
    def address_failures(request) -> int:
        """Failed sign-ins from the request's address within the cool-off, any username."""
        attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
