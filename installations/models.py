"""Applications and their push installations.

"At most one primary installation per person" is a partial unique constraint, so no code path
can break it; the services take a lock on the person row and unset the old primary before
setting the new one.
"""

import secrets

from django.db import models

from people.models import Person


def generate_application_code() -> str:
    return secrets.token_hex(16)


def mask_push_service_token(token: str) -> str:
    """ "" when there is none; otherwise its length and last four characters (a long token),
    or only its length (a short one), so that nobody can push to the device from a screen."""
    if not token:
        return ""
    if len(token) < 16:
        return f"set ({len(token)} characters)"
    return f"…{token[-4:]} ({len(token)} characters)"


class Application(models.Model):
    code = models.CharField(max_length=64, unique=True, default=generate_application_code)
    name = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    # User data authorization with JWT, as the vendor's SDKs do it (JwtSupplier /
    # MMJwtSupplier): tokens signed HS256 with this secret, named by ``kid`` in their header.
    # Set by administrators only (services.application_set_jwt); the secret is never shown.
    jwt_key_id = models.CharField(max_length=128, blank=True, default="")
    jwt_secret = models.CharField(max_length=256, blank=True, default="")  # hex, as the vendor's
    jwt_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(jwt_secret="") | ~models.Q(jwt_key_id=""),
                name="application_jwt_secret_has_key_id",
            ),
            models.CheckConstraint(
                condition=models.Q(jwt_required=False) | ~models.Q(jwt_secret=""),
                name="application_jwt_required_has_secret",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Platform(models.TextChoices):
    ANDROID = "Android", "Android"
    IOS = "iOS", "iOS"
    HUAWEI = "Huawei", "Huawei"


class Installation(models.Model):
    # Unique by a constraint (Meta), not unique=True: every lookup is by equality (the search,
    # the API, the vendor's identifier PUSH), which the unique index answers; Django's
    # varchar_pattern_ops twin of it would be another B-tree written by every registration.
    push_registration_id = models.CharField(max_length=255)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="installations"
    )
    # PROTECT: deleting a person moves its installations to fresh anonymous profiles first
    # (installations.depersonalize.person_delete); nothing else may take them down with it.
    # Indexed by installation_person_list_idx (Meta), which also holds what a row shows.
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="installations", db_index=False
    )
    is_primary = models.BooleanField(default=False)
    registration_enabled = models.BooleanField(default=True)

    # System data: written by the device, read-only for operators and automation.
    notifications_enabled = models.BooleanField(default=True)
    geofencing_sdk = models.BooleanField(default=False)
    sdk_version = models.CharField(max_length=64, blank=True, default="")
    app_version = models.CharField(max_length=64, blank=True, default="")
    os = models.CharField(max_length=32, blank=True, default="")
    os_version = models.CharField(max_length=64, blank=True, default="")
    device_manufacturer = models.CharField(max_length=128, blank=True, default="")
    device_model = models.CharField(max_length=128, blank=True, default="")
    device_secure = models.BooleanField(default=False)
    os_language = models.CharField(max_length=35, blank=True, default="")
    device_timezone_offset = models.CharField(max_length=16, blank=True, default="")
    device_name = models.CharField(max_length=255, blank=True, default="")
    cloud_type = models.CharField(max_length=16, blank=True, default="")
    # The SDK's modules that the app runs (iOS adds "inappchat", "inbox", "webrtcui": true to
    # its system data when the In-app chat, Inbox or WebRTC UI module is on). These and the two
    # fields below have database defaults too: rows written by SQL (generate_people's COPY)
    # need not name them.
    inapp_chat = models.BooleanField(default=False, db_default=False)
    inbox = models.BooleanField(default=False, db_default=False)
    webrtc_ui = models.BooleanField(default=False, db_default=False)

    # Written by the device, not system data: the app's own id for its user on this install
    # (the SDK's public applicationUserId) and the push address (FCM, HMS or APNs token),
    # answered only to the device itself; operators see it masked (push_service_token_masked).
    application_user_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    push_service_token = models.CharField(max_length=1024, blank=True, default="", db_default="")

    additional_data = models.JSONField(default=dict, blank=True)
    # The latest moment the device reported the app in use (session reports), never later
    # than when the report arrived; null until the first report.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["push_registration_id"],
                name="installations_installation_push_registration_id_key",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(is_primary=True),
                name="one_primary_installation_per_person",
            ),
        ]
        indexes = [
            # A person's installations (and the platform filter), with the columns a result
            # row shows (search.LIST_INSTALLATION_FIELDS): on PostgreSQL lists read them
            # index-only. And when each was last updated, which the hygiene condition
            # directory.search.hygiene.stale_devices tests on the entry as the people are
            # walked: old devices belong to old people, so the newest-first walk passes every
            # newer person's devices first; on 300,000 generated people "not updated in 700
            # days" read 290,000 installation rows for that (340 ms), index-only 75 ms.
            models.Index(
                fields=["person", "os"],
                include=[
                    "id",
                    "application",
                    "push_registration_id",
                    "is_primary",
                    "registration_enabled",
                    "modified_at",
                ],
                name="installation_person_list_idx",
            ),
            models.Index(fields=["application", "person"], name="installation_app_person_idx"),
            # Installations not seen since a date (hygiene views).
            models.Index(fields=["last_seen_at"], name="installation_last_seen_idx"),
            # The people with a device registered on given days (the search's installed_from
            # and installed_to, which the dashboard's installations chart links to).
            models.Index(
                fields=["created_at"], include=["person"], name="installation_created_idx"
            ),
            # Push off on a device with notifications on: few rows, so a partial index of
            # their people (directory.search.hygiene.push_off_while_notifying).
            models.Index(
                fields=["person"],
                condition=models.Q(registration_enabled=False, notifications_enabled=True),
                name="installation_push_off_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.push_registration_id

    SYSTEM_DATA_FIELDS = {
        # vendor name -> model field
        "registrationEnabled": "registration_enabled",
        "notificationsEnabled": "notifications_enabled",
        "geofencingSdk": "geofencing_sdk",
        "sdkVersion": "sdk_version",
        "appVersion": "app_version",
        "os": "os",
        "osVersion": "os_version",
        "deviceManufacturer": "device_manufacturer",
        "deviceModel": "device_model",
        "deviceSecure": "device_secure",
        "osLanguage": "os_language",
        "deviceTimezoneOffset": "device_timezone_offset",
        "deviceName": "device_name",
        "cloudType": "cloud_type",
    }

    # The SDK module flags (SDK name -> model field): device-written system data that the
    # vendor's push API has no name for, so only the device API shows it.
    SDK_MODULE_FIELDS = {"inappchat": "inapp_chat", "inbox": "inbox", "webrtcui": "webrtc_ui"}

    @property
    def push_service_token_masked(self) -> str:
        """The push address as operators see it: never whole, only its last four characters."""
        return mask_push_service_token(self.push_service_token)

    @property
    def system_data(self) -> dict:
        return {name: getattr(self, field) for name, field in self.SYSTEM_DATA_FIELDS.items()}
