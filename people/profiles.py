"""Profiles: a person with its phones and emails, tags, installations and custom attribute
values, what the API's person body and the push API's personalization answer show.

On PostgreSQL a page of profiles is one statement: each person row carries its related rows
as JSON arrays (correlated subqueries, each an index probe per person). Elsewhere the
queryset's prefetches read them. Either way a profile is a plain read model: the person, its
identities and tags as typed rows, its installations and attribute values as the models
make them (``Model.from_db``). Installations are reached through Person's reverse relation
``installations``, so this module does not import the installations app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.db.models import JSONField, Model, Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from people.models import AttributeDefinition, AttributeValue, ContactIdentity, Person, Tag


def installation_model() -> type[Model]:
    """The installation model, through Person's reverse relation ``installations``."""
    return Person._meta.get_field("installations").related_model


@dataclass(frozen=True, slots=True)
class IdentityRow:
    id: int
    kind: str
    value: str
    national_number: str


@dataclass(frozen=True, slots=True)
class TagRow:
    id: int
    name: str


@dataclass(eq=False, slots=True)
class Profile:
    """A person with what its profile shows: identities by id, tags by name, the primary
    installation first, attribute values by id (each with its definition)."""

    person: Person
    identities: list[IdentityRow]
    tags: list[TagRow]
    installations: list[Any]
    attribute_values: list[AttributeValue]

    @property
    def pk(self) -> int:
        return self.person.pk


# What a profile reads of an identity: every column but created_at, which nothing shown
# reads. The index identity_person_list_idx holds them, so they are read from it alone, not
# from the table's pages too (1.6 ms less for 20 people read from the disk).
IDENTITY_FIELDS = ("id", "kind", "value", "national_number")


class RelatedRowsField(JSONField):
    """The JSON a correlated subquery builds (``_related_sql``), decoded by orjson: a page of
    people carries a few dozen of these documents, and the standard library's decoder took
    about 0.4 ms of a 20-person API page, orjson 0.16. The same values as ``json.loads``: a
    number with a fraction is a float there too (decimals come as text), and DOMAIN.md keeps
    every integer within 64 bits, which orjson reads exactly. A document orjson refuses goes
    to ``JSONField``'s decoder as before.
    """

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str | bytes):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)


def _related_sql() -> dict[str, str]:
    """Correlated subqueries: a person's identities, tags, installations (each with its
    application) and attribute values (each with its definition) as JSON arrays.

    ``to_jsonb(row)`` keys each object by column name; plain SQL keeps the statement cheap to
    build (an ORM JSONObject of every installation field costs more to compile than to run).
    A decimal goes as text, so that it comes back exactly. Identities with IDENTITY_FIELDS and
    person_id: the columns of the index on person_id.
    """
    installation = installation_model()._meta.db_table
    application = installation_model()._meta.get_field("application").related_model
    person = Person._meta.db_table
    pairs = ", ".join(f"'{name}', i.{name}" for name in ("id", "person_id", *IDENTITY_FIELDS[1:]))
    return {
        "related_identities": (
            f"SELECT COALESCE(jsonb_agg(jsonb_build_object({pairs}) ORDER BY i.id), '[]') "
            f'FROM {ContactIdentity._meta.db_table} i WHERE i.person_id = "{person}"."id"'
        ),
        # The person's tag ids are on its own row: the few tags are read from people_tag, not
        # the person's entries of people_person_tags (cold pages).
        "related_tags": (
            "SELECT COALESCE(jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name) "
            f"ORDER BY t.name), '[]') "
            f'FROM {Tag._meta.db_table} t WHERE t.id = ANY("{person}".tag_ids)'
        ),
        "related_installations": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(d) || jsonb_build_object("
            "'app', to_jsonb(a)) ORDER BY d.is_primary DESC, d.id), '[]') "
            f"FROM {installation} d JOIN {application._meta.db_table} a "
            f'ON a.id = d.application_id WHERE d.person_id = "{person}"."id"'
        ),
        "related_attribute_values": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(v) || jsonb_build_object("
            "'value_number', v.value_number::text, 'definition', to_jsonb(ad)) ORDER BY v.id), "
            f"'[]') FROM {AttributeValue._meta.db_table} v "
            f"JOIN {AttributeDefinition._meta.db_table} ad ON ad.id = v.definition_id "
            f'WHERE v.person_id = "{person}"."id"'
        ),
    }


@functools.cache
def _columns(model: type[Model]) -> tuple[tuple[str, ...], tuple[tuple[str, Callable], ...]]:
    """The model's field names (attnames), and each field's column with its ``to_python``."""
    fields = model._meta.concrete_fields
    return (
        tuple(f.attname for f in fields),
        tuple((f.column, f.to_python) for f in fields),
    )


def _instance(model: type[Model], row: dict[str, Any]) -> Any:
    """A model instance from its row as ``to_jsonb`` wrote it (``Model.from_db``)."""
    names, columns = _columns(model)
    values = [
        None if row.get(column) is None else to_python(row[column]) for column, to_python in columns
    ]
    return model.from_db(connection.alias, names, values)


def _from_json(person: Person) -> Profile:
    """The profile of a person row that carries its related rows as JSON (``_related_sql``)."""
    installation = installation_model()
    application = installation._meta.get_field("application").related_model
    applications: dict[int, Model] = {}
    installations = []
    for row in person.related_installations:
        item = _instance(installation, row)
        app = row["app"]
        if app["id"] not in applications:
            applications[app["id"]] = _instance(application, app)
        item.application = applications[app["id"]]
        installations.append(item)
    definitions: dict[int, AttributeDefinition] = {}
    values = []
    for row in person.related_attribute_values:
        value = _instance(AttributeValue, row)
        definition = row["definition"]
        if definition["id"] not in definitions:
            definitions[definition["id"]] = _instance(AttributeDefinition, definition)
        value.definition = definitions[definition["id"]]
        values.append(value)
    return Profile(
        person=person,
        identities=[
            IdentityRow(*(row[name] for name in IDENTITY_FIELDS))
            for row in person.related_identities
        ],
        tags=[TagRow(row["id"], row["name"]) for row in person.related_tags],
        installations=installations,
        attribute_values=values,
    )


def profile_of_person(person: Person) -> Profile:
    """The profile of a Person instance, its relations read by its managers (no query for a
    relation that ``profiles`` prefetched)."""
    return Profile(
        person=person,
        identities=[
            IdentityRow(i.id, i.kind, i.value, i.national_number) for i in person.identities.all()
        ],
        tags=[TagRow(t.id, t.name) for t in person.tags.all()],
        installations=list(person.installations.all()),
        attribute_values=list(person.attribute_values.all()),
    )


def _prefetches() -> list[Prefetch]:
    installation = installation_model()
    return [
        Prefetch(
            "identities",
            queryset=ContactIdentity.objects.only("person_id", *IDENTITY_FIELDS).order_by("id"),
        ),
        Prefetch("tags", queryset=Tag.objects.only("id", "name").order_by("name")),
        Prefetch(
            "installations",
            queryset=installation.objects.select_related("application").order_by(
                "-is_primary", "id"
            ),
        ),
        Prefetch(
            "attribute_values",
            queryset=AttributeValue.objects.select_related("definition").order_by("id"),
        ),
    ]


def profiles(people: QuerySet[Person]) -> list[Profile]:
    """The profiles of ``people``: one statement on PostgreSQL, five elsewhere."""
    if connection.vendor == "postgresql":
        annotated = people.annotate(
            **{
                name: RawSQL(f"({sql})", [], output_field=RelatedRowsField())
                for name, sql in _related_sql().items()
            }
        )
        return [_from_json(person) for person in annotated]
    return [profile_of_person(person) for person in people.prefetch_related(*_prefetches())]


def profile(person_id: int) -> Profile:
    """The profile of one person; Person.DoesNotExist if there is none."""
    found = profiles(Person.objects.filter(pk=person_id))
    if not found:
        raise Person.DoesNotExist("Person matching query does not exist.")
    return found[0]


def list_people() -> QuerySet[Person]:
    """People with their identities, tags and installations prefetched (three more queries)."""
    return Person.objects.prefetch_related(*_prefetches()[:3])
