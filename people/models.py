"""People, their contact identities, tags, custom attributes and history.

Invariants that must hold whatever writes the row are database constraints here: unique
externalId, one owner per phone and per email, tag and definition names unique regardless of
case. Workflows live in services.py.
"""

from django.conf import settings
from django.db import models

from people.name_keys import NameKeyField


class PersonType(models.TextChoices):
    LEAD = "LEAD", "Lead"
    CUSTOMER = "CUSTOMER", "Customer"


class Gender(models.TextChoices):
    MALE = "MALE", "Male"
    FEMALE = "FEMALE", "Female"


class Origin(models.TextChoices):
    """Where a profile came from: shown on the person page."""

    DEVICE = "DEVICE", "Device registration"
    UI = "UI", "Operator portal"
    API = "API", "API"
    ADMIN = "ADMIN", "Django admin"
    SYSTEM = "SYSTEM", "System"


class Person(models.Model):
    type = models.CharField(max_length=8, choices=PersonType.choices, default=PersonType.CUSTOMER)
    external_id = models.CharField(max_length=256, null=True, blank=True, unique=True)
    first_name = models.CharField(max_length=255, blank=True, default="")
    last_name = models.CharField(max_length=255, blank=True, default="")
    middle_name = models.CharField(max_length=50, blank=True, default="")
    gender = models.CharField(max_length=6, choices=Gender.choices, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    address = models.CharField(max_length=256, blank=True, default="")
    city = models.CharField(max_length=50, blank=True, default="")
    country = models.CharField(max_length=50, blank=True, default="")
    # A language code, "en", or language-region, "en-GB" (DOMAIN.md): at most 5 characters.
    preferred_language = models.CharField(max_length=5, blank=True, default="")
    profile_picture = models.CharField(max_length=2083, blank=True, default="")
    # Lower-cased, accent-stripped "first last" and "last first", kept by the services, so that
    # a name prefix search is an indexed range scan on every database.
    search_name = models.CharField(max_length=520, blank=True, default="", editable=False)
    search_name_reversed = models.CharField(max_length=520, blank=True, default="", editable=False)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.SYSTEM)
    # On PostgreSQL the database also keeps each person's tag ids on the row (tag_ids, not a
    # model field, migration 0010) for the search's index walks.
    tags = models.ManyToManyField("Tag", related_name="people", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)
    # Bumped by every write through the services; lets an edit say which version it started from.
    version = models.PositiveIntegerField(default=1)
    # Not stored: on the person an edit returns, the version that edit found under the lock
    # (people.services.person_update), so a caller can tell its own change from another's.
    previous_version: int | None = None

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Pattern operator classes let PostgreSQL answer LIKE 'prefix%' from the index
            # whatever the database collation; other databases ignore them.
            models.Index(
                fields=["search_name"],
                name="person_search_name_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["search_name_reversed"],
                name="person_search_name_rev_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["type", "id"], name="person_type_idx"),
            # On PostgreSQL also INCLUDE (tag_ids): migration 0010.
            models.Index(fields=["created_at", "id"], name="person_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=PersonType.values), name="person_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.external_id or f"Person {self.pk}"

    @property
    def is_anonymous(self) -> bool:
        """No externalId, phone or email (the identities are prefetched on list pages)."""
        return not self.external_id and not self.identities.all()


class IdentityKind(models.TextChoices):
    PHONE = "PHONE", "Phone"
    EMAIL = "EMAIL", "Email"


class ContactIdentity(models.Model):
    """A phone or an email of one person: unique across all people, stored normalized."""

    # Indexed by identity_person_list_idx (Meta), which also holds what a result row shows.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="identities", db_index=False
    )
    kind = models.CharField(max_length=5, choices=IdentityKind.choices)
    # Phones: E.164 digits without "+"; emails: lower-cased address.
    value = models.CharField(max_length=320)
    # Phones only: the national significant number, for searches typed without country code.
    national_number = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "contact identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_value"),
            models.CheckConstraint(
                condition=models.Q(kind__in=IdentityKind.values), name="identity_kind_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["national_number"],
                name="identity_national_idx",
                condition=models.Q(kind="PHONE"),
            ),
            # A person's identities, with the columns a result row shows
            # (search.LIST_IDENTITY_FIELDS): on PostgreSQL lists read them index-only.
            models.Index(
                fields=["person"],
                include=["id", "kind", "value", "national_number"],
                name="identity_person_list_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class NameTerm(models.Model):
    """A word of someone's folded name ("smith", "ana"): the dictionary that a name search
    which finds nobody corrects its words against (people.search.similar_names).

    On PostgreSQL the database keeps it: a trigger on people_person adds the words of every
    name written, whatever writes it; ``manage.py prune_name_terms`` takes out the words
    nobody's name has any more (migration 0018). Elsewhere it stays empty and a name search
    has no similar-name fallback.
    """

    term = models.CharField(max_length=520, primary_key=True)

    def __str__(self) -> str:
        return self.term


class Tag(models.Model):
    name = models.CharField(max_length=256)
    # people.name_keys.name_key(name), kept on every save: what "the same name" means.
    name_key = NameKeyField(source="name")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name_key"], name="tag_name_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DataType(models.TextChoices):
    STRING = "STRING", "String"
    INTEGER = "INTEGER", "Integer"
    DECIMAL = "DECIMAL", "Decimal"
    BOOLEAN = "BOOLEAN", "Boolean"
    DATE = "DATE", "Date"
    DATE_TIME = "DATE_TIME", "Date and time"
    LIST_OF_OBJECTS = "LIST_OF_OBJECTS", "List of objects"


class AttributeDefinition(models.Model):
    """A person custom attribute: its name and a data type that never changes once set."""

    name = models.CharField(max_length=256)
    # people.name_keys.name_key(name), kept on every save: what "the same name" means.
    name_key = NameKeyField(source="name")
    data_type = models.CharField(max_length=16, choices=DataType.choices)
    # LIST_OF_OBJECTS only: field name -> scalar data type.
    object_schema = models.JSONField(null=True, blank=True)
    description = models.CharField(max_length=512, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name_key"], name="definition_name_key_unique"),
            models.CheckConstraint(
                condition=models.Q(data_type__in=DataType.values), name="definition_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.data_type})"


class AttributeValue(models.Model):
    """One person's value of one custom attribute, in the column of its type.

    Typed columns (rather than one JSON blob) let equality and range searches use a plain
    B-tree index per type, and make "a definition in use cannot be deleted" a PROTECT
    foreign key.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="attribute_values")
    definition = models.ForeignKey(
        AttributeDefinition, on_delete=models.PROTECT, related_name="values"
    )
    # STRING values, and the exact text of DECIMAL values.
    value_text = models.TextField(null=True, blank=True)
    # INTEGER and DECIMAL values, for comparisons.
    value_number = models.DecimalField(max_digits=40, decimal_places=20, null=True, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    value_datetime = models.DateTimeField(null=True, blank=True)
    value_json = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "definition"], name="attribute_value_unique"),
        ]
        indexes = [
            models.Index(fields=["definition", "value_number"], name="attr_number_idx"),
            models.Index(fields=["definition", "value_date"], name="attr_date_idx"),
            models.Index(fields=["definition", "value_datetime"], name="attr_datetime_idx"),
            models.Index(fields=["definition", "value_bool"], name="attr_bool_idx"),
            # Long strings are compared through a prefix: a B-tree entry has a size limit.
            models.Index(
                models.F("definition"),
                models.functions.Substr("value_text", 1, 200),
                name="attr_text_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition.name} of person {self.person_id}"


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


class Event(models.Model):
    """One entry of a person's history: what happened, who did it, from where, what changed."""

    # Indexed by event_person_time_idx (person first): a second index on person_id alone led
    # the planner to read all of a long history and sort it for its first page.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="events", db_index=False
    )
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

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-created_at", "-id"], name="event_person_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_label}"
