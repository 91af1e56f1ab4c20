"""A person's history: the events, who made them (actor kinds) and from where (sources).
people/models.py re-exports every name here."""

from django.conf import settings
from django.db import models


class ActorKind(models.TextChoices):
    OPERATOR = "OPERATOR", "Operator"
    API_KEY = "API_KEY", "API key"
    DEVICE = "DEVICE", "Device"
    SYSTEM = "SYSTEM", "System"


class Source(models.TextChoices):
    UI = "UI", "Operator portal"
    API = "API", "API"
    ADMIN = "ADMIN", "Django admin"
    DEVICE = "DEVICE", "Device"
    COMMAND = "COMMAND", "Management command"
    SYSTEM = "SYSTEM", "System"
    JOB = "JOB", "Bulk job"
    IMPORT = "IMPORT", "Import"


class EventKind(models.TextChoices):
    INSTALL = "INSTALL", "Install"
    UNINSTALL = "UNINSTALL", "Uninstall"
    PERSONALIZE = "PERSONALIZE", "Personalize"
    DEPERSONALIZE = "DEPERSONALIZE", "Depersonalize"
    APP_LAUNCH = "APP_LAUNCH", "App Launch"
    PERSON_CREATED = "PERSON_CREATED", "Person created"
    ATTRIBUTES_CHANGED = "ATTRIBUTES_CHANGED", "Attributes changed"
    TAGS_CHANGED = "TAGS_CHANGED", "Tags changed"
    CUSTOM_ATTRIBUTES_CHANGED = "CUSTOM_ATTRIBUTES_CHANGED", "Custom attributes changed"
    CONTACTS_CHANGED = "CONTACTS_CHANGED", "Contacts changed"
    PRIMARY_CHANGED = "PRIMARY_CHANGED", "Primary device changed"
    PUSH_CHANGED = "PUSH_CHANGED", "Push changed"
    INSTALLATION_CHANGED = "INSTALLATION_CHANGED", "Installation changed"
    PERSON_UPDATED = "PERSON_UPDATED", "Person updated"
    # Reported by a device (the SDK's custom events), checked against a CustomEventDefinition.
    CUSTOM_EVENT = "CUSTOM_EVENT", "Custom event"
    # Another person merged into this one (directory.merge); its changes keep what undo needs.
    MERGE = "MERGE", "Merged"
    # A merge undone (directory.merge_undo.undo_merge), on both people; reverts names the MERGE.
    MERGE_UNDONE = "MERGE_UNDONE", "Merge undone"


class Event(models.Model):
    """One entry of a person's history: what happened, who did it, from where, what changed."""

    # Indexed by event_person_time_idx (person first): a second index on person_id alone led
    # the planner to read all of a long history and sort it for its first page.
    # None once the person is erased: the event stays as a tombstone (privacy.erase), its
    # person's id kept in erased_person_id and no personal data in its changes.
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="events", db_index=False, null=True
    )
    erased_person_id = models.PositiveBigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=255)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    push_registration_id = models.CharField(max_length=255, blank=True, default="")
    # {"field": {"before": ..., "after": ...}} or {"added": [...], "removed": [...]} per field.
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The event whose change this one reverted (directory.revert); itself revertible.
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverted_by"
    )
    # The bulk job that made this change (jobs.Job), when a job did.
    job = models.ForeignKey(
        "jobs.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
        db_index=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-created_at", "-id"], name="event_person_time_idx"),
            # The history filtered by kind or by actor (people.selectors.history_page): each
            # walks its own index in the page's order rather than filtering the whole history.
            models.Index(
                fields=["person", "kind", "-created_at", "-id"], name="event_person_kind_time_idx"
            ),
            models.Index(
                fields=["person", "actor_label", "-created_at", "-id"],
                name="event_person_actor_time_idx",
            ),
            # A job's events (its undo, its page): only the events a job made are indexed.
            models.Index(
                fields=["job"], condition=models.Q(job__isnull=False), name="event_job_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_label}"
