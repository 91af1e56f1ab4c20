"""People with their identities, tags, installations (and custom attribute values) loaded with
them: the profile the API's person body and the person page read.

On PostgreSQL each person row carries its related rows as JSON arrays (correlated subqueries,
no prefetch round trips), which are put where a prefetch would have put them; elsewhere the
queryset's own prefetches load them. Installations are reached through Person's reverse
relation, so this module does not import the installations app.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection
from django.db.models import JSONField, Prefetch, QuerySet, signals
from django.db.models.base import DEFERRED, ModelState
from django.db.models.expressions import RawSQL
from django.db.models.query import ModelIterable

from people.models import AttributeDefinition, AttributeValue, ContactIdentity, Person, Tag


def installation_model():
    """The installation model, through Person's reverse relation ``installations``."""
    return Person._meta.get_field("installations").related_model


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


# ---------------------------------------------------------------------------------------------
# What a result row shows


def _row_prefetches() -> list[Prefetch]:
    installation = installation_model()
    return [
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("id")),
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch(
            "installations",
            queryset=installation.objects.select_related("application").order_by(
                "-is_primary", "id"
            ),
        ),
    ]


def _with_rows(queryset: QuerySet[Person], *, list_rows: bool = False) -> QuerySet[Person]:
    """What a result row shows: in the same statement on PostgreSQL, else prefetched."""
    return _with_related(queryset.prefetch_related(*_row_prefetches()), list_rows=list_rows)


def list_queryset() -> QuerySet[Person]:
    """People with what a result row shows, in a fixed number of queries.

    On PostgreSQL each person row carries its identities, tags and installations as JSON
    (``_with_related``): one statement in all. Elsewhere three prefetch queries follow.
    """
    return _with_rows(Person.objects.all())


# What a result row of the operator list reads of an identity, a tag and an installation;
# the other columns stay deferred (as with ``.only()``): a list does not carry every device's
# system data.
LIST_IDENTITY_FIELDS = ("id", "person_id", "kind", "value", "national_number")
LIST_INSTALLATION_FIELDS = (
    "id",
    "person_id",
    "application_id",
    "push_registration_id",
    "os",
    "is_primary",
    "registration_enabled",
)


def _related_sql(
    *, attribute_values: bool = False, tag_order: str = "t.name", list_rows: bool = False
) -> dict[str, str]:
    """Correlated subqueries: a person's identities, tags and installations as JSON arrays.

    ``to_jsonb(row)`` keys each object by column name; plain SQL keeps the statement cheap to
    build (an ORM JSONObject of every installation field costs more to compile than to run).
    A decimal goes as text, so that it comes back exactly. ``list_rows``: installations with
    LIST_INSTALLATION_FIELDS only. Identities always with LIST_IDENTITY_FIELDS (every column
    but created_at, which nothing shown reads): the index identity_person_list_idx holds
    them, so they are read from it alone, not from the table's pages too (1.6 ms less for
    20 people read from the disk).
    """
    installation = installation_model()._meta.db_table
    application = installation_model()._meta.get_field("application").related_model
    person = Person._meta.db_table
    installation_json, tag_json = "to_jsonb(d)", "to_jsonb(t)"
    pairs = ", ".join(f"'{name}', i.{name}" for name in LIST_IDENTITY_FIELDS)
    identity_json = f"jsonb_build_object({pairs})"
    if list_rows:
        pairs = ", ".join(f"'{name}', d.{name}" for name in LIST_INSTALLATION_FIELDS)
        installation_json = f"jsonb_build_object({pairs})"
        tag_json = "jsonb_build_object('id', t.id, 'name', t.name)"
    sql = {
        "related_identities": (
            f"SELECT COALESCE(jsonb_agg({identity_json} ORDER BY i.id), '[]') "
            f'FROM {ContactIdentity._meta.db_table} i WHERE i.person_id = "{person}"."id"'
        ),
        # The person's tag ids are on its own row (migration 0010): the few tags are read
        # from people_tag, not the person's entries of people_person_tags (cold pages).
        "related_tags": (
            f"SELECT COALESCE(jsonb_agg({tag_json} ORDER BY {tag_order}), '[]') "
            f'FROM {Tag._meta.db_table} t WHERE t.id = ANY("{person}".tag_ids)'
        ),
        "related_installations": (
            f"SELECT COALESCE(jsonb_agg({installation_json} || jsonb_build_object("
            "'app', to_jsonb(a)) ORDER BY d.is_primary DESC, d.id), '[]') "
            f"FROM {installation} d JOIN {application._meta.db_table} a "
            f'ON a.id = d.application_id WHERE d.person_id = "{person}"."id"'
        ),
    }
    if attribute_values:
        sql["related_attribute_values"] = (
            "SELECT COALESCE(jsonb_agg(to_jsonb(v) || jsonb_build_object("
            "'value_number', v.value_number::text, 'definition', to_jsonb(ad)) ORDER BY v.id), "
            f"'[]') FROM {AttributeValue._meta.db_table} v "
            f"JOIN {AttributeDefinition._meta.db_table} ad ON ad.id = v.definition_id "
            f'WHERE v.person_id = "{person}"."id"'
        )
    return sql


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


RELATIONS = {
    "related_identities": "identities",
    "related_tags": "tags",
    "related_installations": "installations",
    "related_attribute_values": "attribute_values",
}


def _with_related(
    queryset: QuerySet[Person],
    *,
    attribute_values: bool = False,
    tag_order: str = "t.name",
    list_rows: bool = False,
) -> QuerySet[Person]:
    """On PostgreSQL: each person row also carries its related rows as JSON arrays.

    Correlated subqueries, each an index probe per person of the page, instead of a prefetch
    query per relation; ``_RelatedRowsIterable`` puts them where the prefetch would have, so
    ``person.identities.all()`` and friends run no query (and the prefetch finds them done).
    """
    if not _on_postgresql():
        return queryset
    queryset = queryset.annotate(
        **{
            name: RawSQL(f"({sql})", [], output_field=RelatedRowsField())
            for name, sql in _related_sql(
                attribute_values=attribute_values, tag_order=tag_order, list_rows=list_rows
            ).items()
        }
    )
    queryset._iterable_class = _RelatedRowsIterable
    return queryset


def with_related_rows(
    queryset: QuerySet[Person], *, attribute_values: bool = False, tags_by_lower_name: bool = False
) -> QuerySet[Person]:
    """``queryset`` whose people come with their identities, tags, installations (and custom
    attribute values) in the same statement on PostgreSQL; elsewhere the queryset's own
    prefetches load them."""
    order = "t.name_key, t.id" if tags_by_lower_name else "t.name"
    return _with_related(queryset, attribute_values=attribute_values, tag_order=order)


def instances_from_json(model, rows: list[dict]) -> list:
    """Model instances from rows as ``to_jsonb`` wrote them."""
    plain = not _has_init_receivers(model)
    return [_instance(model, row, plain) for row in rows]


@functools.cache
def _converters(model) -> tuple[list[str], list]:
    """Field names, and for each a function reading its JSON value (None: as it is)."""
    names, converters = [], []
    for f in model._meta.concrete_fields:
        names.append(f.attname)
        internal = f.get_internal_type()
        if internal == "DateTimeField":
            converters.append(dt.datetime.fromisoformat)
        elif internal == "DateField":
            converters.append(dt.date.fromisoformat)
        elif internal == "DecimalField":
            converters.append(Decimal)
        else:
            converters.append(None)
    return names, converters


def _has_init_receivers(model) -> bool:
    return signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)


def _instance(model, row: dict, plain: bool | None = None):
    """A model instance from its row as JSON, as ``Model.from_db`` makes it; columns missing
    from the row are deferred (read on first use, as with ``.only()``).

    Without ``Model.__init__`` (a dozen times slower for a wide row) unless a model has
    init signal receivers that would expect it.
    """
    names, converters = _converters(model)
    if plain is None:
        plain = not _has_init_receivers(model)
    if not plain:
        values = [
            DEFERRED
            if name not in row
            else row[name]
            if convert is None or row[name] is None
            else convert(row[name])
            for name, convert in zip(names, converters, strict=True)
        ]
        return model.from_db("default", names, values)
    instance = model.__new__(model)
    fields = instance.__dict__
    for name, convert in zip(names, converters, strict=True):
        if name in row:
            value = row[name]
            fields[name] = value if convert is None or value is None else convert(value)
    state = instance._state = ModelState()
    state.adding = False
    state.db = "default"
    return instance


def _set_related(instance, name: str, value) -> None:
    # What select_related leaves (the descriptor's __set__ checks routers and types).
    instance._meta.get_field(name).set_cached_value(instance, value)


@functools.cache
def _empty_queryset(model) -> QuerySet:
    return QuerySet(model=model)


def _cache(person: Person, name: str, model, instances: list) -> None:
    # What prefetch_related leaves: a queryset whose results are known, under the relation's
    # name (the key it uses for a reverse foreign key and for a many-to-many alike). A copy
    # of one empty queryset per model: building a QuerySet (and its Query) per relation and
    # person costs more than the rows. Every QuerySet method clones the query before it
    # changes anything, so sharing it is safe.
    queryset = QuerySet.__new__(QuerySet)
    queryset.__dict__.update(_empty_queryset(model).__dict__)
    queryset._result_cache = instances
    queryset._prefetch_done = True
    if not hasattr(person, "_prefetched_objects_cache"):
        person._prefetched_objects_cache = {}
    person._prefetched_objects_cache[name] = queryset


def prefetched(person: Person, relation: str) -> list:
    """The rows of a prefetched relation (``identities``, ``tags``, ``installations``...) as a
    list: what ``person.<relation>.all()`` returns, without building a related manager per
    call (a result page reads three relations of a page of people)."""
    cache = getattr(person, "_prefetched_objects_cache", {})
    if relation in cache and cache[relation]._result_cache is not None:
        return cache[relation]._result_cache
    return list(getattr(person, relation).all())


class _RelatedRowsIterable(ModelIterable):
    """People whose related rows came as JSON in the same row (``_with_related``).

    Tags, applications and definitions are few: one instance each per statement.
    """

    def __iter__(self):
        installation = installation_model()
        application = installation._meta.get_field("application").related_model
        shared: dict[tuple[type, int], Any] = {}
        models = (ContactIdentity, installation, application, Tag, AttributeValue)
        plain = {model: not _has_init_receivers(model) for model in (*models, AttributeDefinition)}

        def make(model, row: dict):
            return _instance(model, row, plain[model])

        def one(model, row: dict):
            key = (model, row["id"])
            if key not in shared:
                shared[key] = make(model, row)
            return shared[key]

        for person in super().__iter__():
            if hasattr(person, "related_identities"):
                identities = [make(ContactIdentity, row) for row in person.related_identities]
                installations = []
                for row in person.related_installations:
                    item = make(installation, row)
                    _set_related(item, "application", one(application, row["app"]))
                    installations.append(item)
                for item in [*identities, *installations]:
                    _set_related(item, "person", person)
                _cache(person, "identities", ContactIdentity, identities)
                _cache(person, "installations", installation, installations)
                tags = [one(Tag, row) for row in person.related_tags]
                _cache(person, "tags", Tag, tags)
                del person.related_identities, person.related_tags
                del person.related_installations
            if hasattr(person, "related_attribute_values"):
                values = []
                for row in person.related_attribute_values:
                    value = make(AttributeValue, row)
                    _set_related(value, "definition", one(AttributeDefinition, row["definition"]))
                    _set_related(value, "person", person)
                    values.append(value)
                _cache(person, "attribute_values", AttributeValue, values)
                del person.related_attribute_values
            yield person


def profile_queryset() -> QuerySet[Person]:
    """``list_queryset`` plus the custom attribute values: everything a full profile shows.

    One statement on PostgreSQL (the related rows as JSON), five elsewhere.
    """
    return _with_related(
        Person.objects.prefetch_related(
            *_row_prefetches(),
            Prefetch(
                "attribute_values",
                queryset=AttributeValue.objects.select_related("definition").order_by("id"),
            ),
        ),
        attribute_values=True,
    )
