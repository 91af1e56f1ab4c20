"""The people app's tables that stand beside the profiles (people/models.py, which re-exports
them): the custom events devices may report, the identifiers of erased people that may not be
stored again, and the pairs of people the duplicate rules found or an operator dismissed."""

from django.conf import settings
from django.db import models


class EventFieldType(models.TextChoices):
    """The vendor's event definition field types (EventFieldType)."""

    STRING = "String", "String"
    BOOLEAN = "Boolean", "Boolean"
    DATE_TIME = "DateTime", "Date and time"
    NUMERIC = "Numeric", "Numeric"
    DECIMAL = "Decimal", "Decimal"
    LIST = "List", "List of objects"


class CustomEventDefinition(models.Model):
    """A custom event the apps may report (the vendor's event definition): its id and the
    properties an event of it carries, ``fields``: ``[{"name", "type"}]``, a ``List`` field
    with ``{"schema": {"type": "Object", "fields": [...]}}``. Managed like custom attribute
    definitions (people.event_definitions); fields are only ever added, never changed."""

    definition_id = models.CharField(max_length=36)
    title = models.CharField(max_length=100)
    description = models.CharField(max_length=2000, blank=True, default="")
    fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["definition_id"]
        constraints = [
            # Alphanumeric ids: lower-casing is the whole case folding.
            models.UniqueConstraint(
                models.functions.Lower("definition_id"), name="event_definition_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.definition_id


class SuppressedKind(models.TextChoices):
    PHONE = "PHONE", "Phone"
    EMAIL = "EMAIL", "Email"
    EXTERNAL_ID = "EXTERNAL_ID", "externalId"
    PUSH_REGISTRATION = "PUSH", "pushRegistrationId"


class SuppressedIdentifier(models.Model):
    """An identifier of an erased person that may not be stored again (DOMAIN.md, erasure).

    Only a keyed hash is kept (people.suppression.digest: HMAC-SHA256 with the deployment's
    SUPPRESSION_KEY), never the identifier: the row says "this value was erased" to whoever
    knows the value, and nothing to whoever reads the table. An administrator lifts one
    suppression by typing the identifier (privacy.services.lift_suppression).
    """

    kind = models.CharField(max_length=11, choices=SuppressedKind.choices)
    digest = models.CharField(max_length=64)
    # The erasure that suppressed it (privacy.models.Erasure): an id, not a foreign key, so
    # that this app does not depend on the one above it.
    erasure_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "digest"], name="suppressed_unique_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.digest[:12]}…"


class NotDuplicate(models.Model):
    """Two people an operator said are not the same person (the duplicates' "Not a
    duplicate"): never proposed as duplicates again. One row per pair, the lower id first,
    so (A, B) and (B, A) are the same row."""

    low = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    high = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    operator_label = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="not_duplicate_pair_key"),
            models.CheckConstraint(
                condition=models.Q(low__lt=models.F("high")), name="not_duplicate_ordered"
            ),
        ]
        indexes = [models.Index(fields=["high", "low"], name="not_duplicate_high_idx")]

    def __str__(self) -> str:
        return f"people {self.low_id} and {self.high_id} are not duplicates"


class DuplicatePair(models.Model):
    """Two people who may be the same person, found by ``manage.py find_duplicates``: the
    duplicates queue. The lower id first; ``reasons`` are rule names of
    ``directory.duplicates.RULES``. Rows are kept across runs (their id orders the queue,
    newest first); a run takes out the pairs no rule finds any more."""

    low = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    high = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    reasons = models.JSONField(default=list)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="duplicate_pair_key"),
            models.CheckConstraint(
                condition=models.Q(low__lt=models.F("high")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["high", "low"], name="duplicate_pair_high_idx")]

    def __str__(self) -> str:
        return f"people {self.low_id} and {self.high_id} may be duplicates"
