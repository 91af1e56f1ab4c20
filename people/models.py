"""People, their contact identities, tags, custom attributes and history.

Invariants that must hold whatever writes the row are database constraints here: unique
externalId, one owner per phone and per email, tag and definition names unique regardless of
case. Workflows live in services.py.

This module is the schema: every index is in a ``Meta.indexes`` and every trigger in a
``Meta.triggers`` (django-pgtrigger). Indexes that only PostgreSQL can hold (a collation, an
operator class, GIN, the search's covering indexes) are ``PostgreSQLIndex`` and
``PostgreSQLGinIndex`` (people/db_fields.py): on SQLite they are not made, and the search
probes what is there.
The few things no model option can say (extended statistics, statistics targets of index
columns, the pattern index Django adds beside a text primary key) are migration 0002, on
PostgreSQL only.
"""

import pgtrigger
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Collate, Lower, Substr, Upper

from people.db_fields import (
    CodePointCharField,
    DatabaseKeptArrayField,
    PostgreSQLGinIndex,
    PostgreSQLIndex,
    trigram_index,
)
from people.event_models import ActorKind as ActorKind
from people.event_models import Event as Event
from people.event_models import EventKind as EventKind
from people.event_models import Source as Source
from people.name_keys import NameKeyField

# The tables beside the profile and the history, in their own modules (re-exported:
# ``people.models`` names every model of the app).
from people.record_models import CustomEventDefinition as CustomEventDefinition
from people.record_models import DuplicatePair as DuplicatePair
from people.record_models import EventFieldType as EventFieldType
from people.record_models import NotDuplicate as NotDuplicate
from people.record_models import SuppressedIdentifier as SuppressedIdentifier
from people.record_models import SuppressedKind as SuppressedKind


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
    # Unique by a constraint (Meta), not unique=True: Django would add a varchar_pattern_ops
    # twin of the unique index on PostgreSQL, and externalIds are only compared by equality
    # (the API's #startsWith compares UPPER(external_id), which that index never served).
    external_id = models.CharField(max_length=256, null=True, blank=True)
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
    tags = models.ManyToManyField("Tag", through="PersonTag", related_name="people", blank=True)
    # The person's tag ids, in order: on PostgreSQL the database keeps them equal to the
    # person's rows of people_person_tags (PersonTag's triggers), and the indexes the search
    # walks hold them, so a tag is tested on the index entry. Elsewhere nothing keeps them
    # and the search probes people_person_tags.
    tag_ids = DatabaseKeptArrayField(
        models.BigIntegerField(), default=list, db_default=[], editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    # Bumped by every write through the services; lets an edit say which version it started from.
    version = models.PositiveIntegerField(default=1)
    # Not stored: on the person an edit returns, the version that edit found under the lock
    # (people.services.person_update), so a caller can tell its own change from another's.
    previous_version: int | None = None
    # Not stored: on the person an edit returns, the event it recorded (None: nothing changed).
    recorded_event = None

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("see_personal_data", "Can see phones, emails and externalIds unmasked"),
            ("reveal_personal_data", "Can reveal one masked value, with a reason (recorded)"),
        ]
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
            # The duplicates' rule "same name and birth date" (directory.duplicates).
            models.Index(
                fields=["search_name", "birth_date"],
                name="person_name_birth_idx",
                condition=models.Q(birth_date__isnull=False),
            ),
            # The API's newest-first list; on PostgreSQL with the tag ids, tested on the entry.
            models.Index(
                fields=["created_at", "id"], include=["tag_ids"], name="person_created_idx"
            ),
            # The search page's lists by last update (either way): a keyset walk of
            # (modified_at, id), the tags tested on the entry (PostgreSQL).
            models.Index(
                fields=["modified_at", "id"], include=["tag_ids"], name="person_modified_idx"
            ),
            # An externalId that finds nobody is looked up once more whatever its case, to
            # offer the one that differs only in case (externalIds are case-sensitive).
            models.Index(Upper("external_id"), name="person_external_id_upper_idx"),
            # A name search is a range on the folded name in code point order, its page
            # ordered by (name, id): the first entries of these, with no sort of every match.
            # The "last first" one carries "first last" too: a person listed under "first
            # last" is left out of the "last first" range from the index alone.
            PostgreSQLIndex(
                Collate("search_name", "C"),
                "id",
                include=["tag_ids"],
                name="person_search_name_c_idx",
            ),
            PostgreSQLIndex(
                Collate("search_name_reversed", "C"),
                "id",
                include=["search_name", "tag_ids"],
                name="person_search_name_rev_c_idx",
            ),
            # The API's firstName/lastName #startsWith (UPPER(name) LIKE 'HOR%'), with what a
            # newest-first page of ids needs from the index alone.
            *(
                PostgreSQLIndex(
                    OpClass(Upper(column), name="text_pattern_ops"),
                    include=["id", column, "created_at", "tag_ids"],
                    name=f"person_{column}_upper_idx",
                )
                for column in ("first_name", "last_name")
            ),
            trigram_index(Upper("first_name"), "person_first_name_trgm_idx"),
            trigram_index(Upper("last_name"), "person_last_name_trgm_idx"),
            trigram_index(Upper("city"), "person_city_trgm_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="people_person_external_id_key"),
            models.CheckConstraint(
                condition=models.Q(type__in=PersonType.values), name="person_type_valid"
            ),
        ]
        triggers = [
            # The words of every name written, whatever writes it, into the similar-name
            # dictionary (NameTerm): in word order, so that two writers adding the same new
            # words wait for each other in one order, never in a circle.
            *(
                pgtrigger.Trigger(
                    name=name,
                    when=pgtrigger.After,
                    operation=operation,
                    condition=pgtrigger.Condition(condition),
                    func="""
                        INSERT INTO people_nameterm (term)
                        SELECT DISTINCT word
                        FROM unnest(string_to_array(NEW.search_name, ' ')) AS word
                        WHERE word <> '' ORDER BY word
                        ON CONFLICT DO NOTHING;
                        RETURN NULL;
                    """,
                )
                for name, operation, condition in (
                    ("person_name_terms_created", pgtrigger.Insert, "NEW.search_name <> ''"),
                    (
                        "person_name_terms_renamed",
                        pgtrigger.UpdateOf("search_name"),
                        "NEW.search_name <> ''"
                        " AND NEW.search_name IS DISTINCT FROM OLD.search_name",
                    ),
                )
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
            trigram_index(Upper("value"), "identity_value_trgm_idx"),
            # The duplicates' email rule (directory.duplicates): people whose email has the
            # same local part, lower(split_part(value, '@', 1)); PostgreSQL only.
            PostgreSQLIndex(
                Lower(
                    Func(
                        F("value"),
                        Value("@"),
                        Value(1),
                        function="split_part",
                        output_field=models.CharField(),
                    )
                ),
                "person",
                condition=models.Q(kind="EMAIL"),
                name="identity_email_local_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class NameTerm(models.Model):
    """A word of someone's folded name ("smith", "ana"): the dictionary that a name search
    which finds nobody corrects its words against (directory.search.similar).

    On PostgreSQL the database keeps it: a trigger on people_person adds the words of every
    name written, whatever writes it; ``manage.py prune_name_terms`` takes out the words
    nobody's name has any more. Elsewhere it stays empty and a name search has no
    similar-name fallback.
    """

    # In code point order: the primary key answers "is any word spelled starting with this?"
    # as a range, like the name indexes.
    term = CodePointCharField(max_length=520, primary_key=True)

    class Meta:
        indexes = [
            # The words similar to a typed one (pg_trgm).
            PostgreSQLGinIndex(
                fields=["term"], opclasses=["gin_trgm_ops"], name="name_term_trgm_idx"
            ),
        ]

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


# What the tag_ids triggers do: add the rows' tags to their people, and take them off. Each
# works on the row's current value (a concurrent change of the same person is re-read before
# the update), so two transactions tagging the same person both count.
_ADD_TAG_IDS = """
    UPDATE people_person AS p
    SET tag_ids = ARRAY(SELECT DISTINCT t FROM unnest(p.tag_ids || added.ids) AS t ORDER BY t)
    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM added_links GROUP BY person_id)
        AS added
    WHERE p.id = added.person_id AND NOT p.tag_ids @> added.ids;
"""
_REMOVE_TAG_IDS = """
    UPDATE people_person AS p
    SET tag_ids = ARRAY(
        SELECT t FROM unnest(p.tag_ids) AS t WHERE t <> ALL (removed.ids) ORDER BY t
    )
    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM removed_links GROUP BY person_id)
        AS removed
    WHERE p.id = removed.person_id AND p.tag_ids && removed.ids;
"""


class PersonTag(models.Model):
    """Who has which tag: the one record of it (Person.tags). On PostgreSQL, statement
    triggers keep people_person.tag_ids equal to a person's rows here, whatever writes them
    (the services, admin, a bulk load, a cascade, a TRUNCATE)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    # Indexed by person_tags_tag_person_idx (tag first).
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False)

    class Meta:
        db_table = "people_person_tags"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "tag"], name="people_person_tags_person_id_tag_id_eeb66cb0_uniq"
            ),
        ]
        indexes = [
            # The people of a tag, in person order, from the index alone: the tag list and
            # every combination with a tag read a tag's people first.
            models.Index(fields=["tag", "person"], name="person_tags_tag_person_idx"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="person_tags_added",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="added_links"),
                func=_ADD_TAG_IDS + "RETURN NULL;",
            ),
            pgtrigger.Trigger(
                name="person_tags_removed",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Delete,
                referencing=pgtrigger.Referencing(old="removed_links"),
                func=_REMOVE_TAG_IDS + "RETURN NULL;",
            ),
            pgtrigger.Trigger(
                name="person_tags_changed",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                referencing=pgtrigger.Referencing(old="removed_links", new="added_links"),
                func=_REMOVE_TAG_IDS + _ADD_TAG_IDS + "RETURN NULL;",
            ),
            # A TRUNCATE fires no row events: it empties everyone's tag_ids.
            pgtrigger.Trigger(
                name="person_tags_truncated",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Truncate,
                func="UPDATE people_person SET tag_ids = '{}' WHERE tag_ids <> '{}'; RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return f"tag {self.tag_id} of person {self.person_id}"


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
            # A filter that matches many people wants the newest of them: with the person id
            # last, equal values come in person order, and the newest matches are the end of
            # an index range, read backwards (index-only when the text is short).
            PostgreSQLIndex(
                "definition",
                Substr("value_text", 1, 200),
                "person",
                name="attr_text_person_idx",
            ),
            PostgreSQLIndex(
                fields=["definition", "value_number", "person"], name="attr_number_person_idx"
            ),
            PostgreSQLIndex(
                fields=["definition", "value_bool", "person"], name="attr_bool_person_idx"
            ),
            PostgreSQLIndex(
                fields=["definition", "value_date", "person"], name="attr_date_person_idx"
            ),
            # The API's #startsWith on a text attribute, in any casing
            # (search.text_values_starting compares this expression with the capitalized prefix).
            PostgreSQLIndex(
                "definition",
                OpClass(Upper(Substr("value_text", 1, 200)), name="text_pattern_ops"),
                "person",
                name="attr_text_upper_idx",
            ),
            trigram_index(Upper("value_text"), "attr_text_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.definition.name} of person {self.person_id}"
