"""Deployment check: the suppression key is the deployment's own (README, Privacy)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def suppression_key_set(app_configs, **kwargs):
    if settings.SUPPRESSION_KEY:
        return []
    return [
        Warning(
            "SUPPRESSION_KEY is not set: erased identifiers are hashed with a key derived "
            "from SECRET_KEY, and changing SECRET_KEY would lift every suppression.",
            hint="Set SUPPRESSION_KEY to a long random secret and never change it.",
            id="privacy.W001",
        )
    ]
