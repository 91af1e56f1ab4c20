"""The operator's own settings (the portal's shell, not the people they look after)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portal.time_zones import validate_time_zone


class OperatorPreference(models.Model):
    """One operator's preferences: for now the time zone times are shown in ("" uses the
    zone the operator's browser reports). Read once at sign-in into the session
    (portal.time_zones), so that a page costs no statement for it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_preference"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="An IANA time zone (Europe/Zagreb); empty: the browser's.",
    )

    class Meta:
        verbose_name = "operator preference"

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone or 'browser time zone'})"
