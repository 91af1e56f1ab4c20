"""API keys for automation: stored hashed, shown once, revocable, with a read or manage role."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone


class ApiKeyRole(models.TextChoices):
    READ = "read", "Read"
    MANAGE = "manage", "Manage"


def hash_key(raw: str) -> str:
    # Keys are 32 random bytes: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    name = models.CharField(max_length=128)
    role = models.CharField(max_length=8, choices=ApiKeyRole.choices, default=ApiKeyRole.READ)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A read key without it reads phones, emails and externalIds masked (people.masking);
    # a manage key always reads them whole (it writes them).
    personal_data = models.BooleanField(
        default=True,
        help_text="Reads phones, emails and externalIds unmasked (manage keys always do).",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(
        cls, *, name: str, role: str = ApiKeyRole.READ, personal_data: bool = True
    ) -> tuple[ApiKey, str]:
        """Create a key; the raw key is returned once and never stored."""
        raw = secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name,
            role=role,
            prefix=raw[:8],
            key_hash=hash_key(raw),
            personal_data=personal_data,
        )
        return key, raw

    @classmethod
    def authenticate(cls, raw: str) -> ApiKey | None:
        key = cls.objects.active().filter(key_hash=hash_key(raw)).first()
        if key is not None:
            cls.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return key

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
