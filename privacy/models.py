"""Records of privacy requests that keep no personal data: erasures and access records.

An Erasure outlives its person: it names the person by id only (an id is not personal data),
who asked and why, when it is due, and once done what was erased, as counts. An AccessRecord
says who exported a person's data (the access-request bundle) and when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ErasureState(models.TextChoices):
    PENDING = "PENDING", "Pending"
    CANCELLED = "CANCELLED", "Cancelled"
    DONE = "DONE", "Erased"


class Erasure(models.Model):
    """An administrator's request to erase one person, pending for a cooling-off period
    (ERASURE_COOLING_OFF_DAYS), then run (privacy.services.run_due_erasures)."""

    person_id = models.PositiveBigIntegerField()
    state = models.CharField(
        max_length=9, choices=ErasureState.choices, default=ErasureState.PENDING
    )
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_label = models.CharField(max_length=255)
    requested_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # What was erased, as counts: {"identities": 3, "installations": 2, "tags": 4, ...}.
    erased = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One open request per person.
            models.UniqueConstraint(
                fields=["person_id"],
                condition=models.Q(state="PENDING"),
                name="erasure_one_pending_per_person",
            ),
        ]
        indexes = [
            # The due requests, oldest first (run_due_erasures).
            models.Index(
                fields=["due_at"],
                condition=models.Q(state="PENDING"),
                name="erasure_pending_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Erasure of person {self.person_id} ({self.get_state_display()})"


class AccessKind(models.TextChoices):
    EXPORT = "EXPORT", "Exported all data (access request)"
    SUPPRESSION_LIFTED = "LIFTED", "Lifted a suppression"
    REVEAL = "REVEAL", "Revealed a masked value"


class AccessRecord(models.Model):
    """Who read or released personal data, when, how and why: the audit of the access
    request bundle and of lifted suppressions."""

    kind = models.CharField(max_length=6, choices=AccessKind.choices)
    person_id = models.PositiveBigIntegerField(null=True, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=255)
    source = models.CharField(max_length=8)
    # No personal data: for a lifted suppression, the kind of identifier, not its value.
    detail = models.CharField(max_length=255, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person_id", "-created_at"], name="access_person_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_label}"
