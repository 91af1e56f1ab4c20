"""Device hygiene: conditions on a person's installations that find profiles whose devices
need care. Each is a field of the one query (query.SearchQuery), compiled here to EXISTS
probes of the installations' indexes (installations.models.Installation.Meta.indexes), so that
they combine with every other condition and keep the list's keyset walk.

What each finds, precisely:

- ``stale_days`` (N): people with at least one installation whose ``modified_at`` (set by
  every write to the installation: a device's update of its system data, a personalization,
  an operator's change) is more than N days before now.
- ``several_no_primary``: people with two or more installations, none of them primary.
- ``push_off_notifying``: people with an installation whose push is off
  (``registration_enabled``, what an operator or the API turns off) while the device reports
  notifications on (``notifications_enabled``, system data): the person wants notifications
  and gets none.
- ``anonymous``: anonymous profiles that hold installations: no externalId, no phone and no
  email, and at least one installation. A device's first registration creates one, and a
  logout (installations.depersonalize) moves the installation to a fresh one; every device of
  such a profile is logged out.
- ``duplicate_devices``: people with two installations of one device fingerprint: the same
  application, device model and OS, under different push registrations (an app installed
  again on the same phone registers anew). Installations with no device model never match.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.errors import DomainError
from installations.models import Installation
from people.models import ContactIdentity

from .query import SearchQuery

DEFAULT_STALE_DAYS = 90
# A hundred years: past it, the cutoff would leave what a datetime holds.
MAX_STALE_DAYS = 36_500


def stale_days(value: int) -> int:
    """``value`` as a number of days (1 to MAX_STALE_DAYS); a DomainError naming the field."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_STALE_DAYS:
        raise DomainError(
            "BAD_REQUEST",
            f"Not updated in: the days must be a whole number from 1 to {MAX_STALE_DAYS}.",
            "staleDays",
        )
    return value


def stale_cutoff(days: int) -> dt.datetime:
    """The moment before which an installation's last update makes it stale."""
    return timezone.now() - dt.timedelta(days=stale_days(days))


def hygiene_conditions(query: SearchQuery) -> list[Q | Exists]:
    """The conditions of ``query``'s hygiene fields, each to be applied with ``filter``."""
    conditions: list[Q | Exists] = []
    if query.stale_days is not None:
        conditions.append(stale_devices(query.stale_days))
    if query.several_no_primary:
        conditions.append(several_without_primary())
    if query.push_off_notifying:
        conditions.append(push_off_while_notifying())
    if query.anonymous:
        conditions.append(anonymous_with_devices())
    if query.duplicate_devices:
        conditions.append(duplicate_devices())
    return conditions


def _installations() -> QuerySet[Installation]:
    return Installation.objects.filter(person_id=OuterRef("pk"))


def stale_devices(days: int) -> Exists:
    """An installation not updated since the cutoff: tested on installation_person_list_idx,
    which holds modified_at, index-only, as the people are walked."""
    return Exists(_installations().filter(modified_at__lt=stale_cutoff(days)))


def several_without_primary() -> Q:
    """An installation with an earlier one of the same person (so two or more), and no
    primary one: both probes of indexes on the person (installation_person_list_idx, which
    holds the id, and the partial unique index of the primary)."""
    earlier = Installation.objects.filter(person_id=OuterRef(OuterRef("pk")), pk__lt=OuterRef("pk"))
    several = Exists(_installations().filter(Exists(earlier)))
    primary = Exists(_installations().filter(is_primary=True))
    return Q(several) & ~Q(primary)


def push_off_while_notifying() -> Exists:
    """Push off on a device with notifications on: installation_push_off_idx, a
    partial index of those installations' people (few, by nature)."""
    return Exists(_installations().filter(registration_enabled=False, notifications_enabled=True))


def anonymous_with_devices() -> Q:
    """No externalId, no phone or email (identity_person_list_idx), and an installation."""
    identities = ContactIdentity.objects.filter(person_id=OuterRef("pk"))
    return Q(external_id__isnull=True) & ~Q(Exists(identities)) & Q(Exists(_installations()))


def duplicate_devices() -> Exists:
    """An installation with an earlier one of the same person, application, device model and
    OS; the person's installations are read by installation_person_list_idx."""
    same = Installation.objects.filter(
        person_id=OuterRef("person_id"),
        application_id=OuterRef("application_id"),
        device_model=OuterRef("device_model"),
        os=OuterRef("os"),
        pk__lt=OuterRef("pk"),
    )
    return Exists(_installations().exclude(device_model="").filter(Exists(same)))
