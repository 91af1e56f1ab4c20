"""The person page's read model: a person with everything its page shows, in a fixed number of
queries however big the profile.

``person_page(pk)`` gives a ``PersonPage``: the person, its phones and emails, tags, custom
attribute values (each with its definition), installations (each with its application,
primary first), every attribute definition and the first page of history (or the page
before a cursor). On PostgreSQL it is one statement: the person's row with the related rows
as JSON arrays (correlated subqueries, each an index probe), turned into model instances with
``Model.from_db``. Elsewhere it is one ordinary query per relation.

It lives above people and installations because the page joins both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import JSONField, Model, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from installations.models import Application, Installation
from people import custom_attributes as attribute_types
from people import selectors
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    Event,
    IdentityKind,
    Person,
    Tag,
)
from people.selectors import HISTORY_PAGE_SIZE, AttributeRow, HistoryFilter, HistoryPage
from privacy.models import Erasure, ErasureState


@dataclass
class PersonPage:
    person: Person
    identities: list[ContactIdentity]
    tags: list[Tag]
    attribute_values: list[AttributeValue]
    installations: list[Installation]
    definitions: list[AttributeDefinition]
    history: HistoryPage

    @property
    def phones(self) -> list[ContactIdentity]:
        return [i for i in self.identities if i.kind == IdentityKind.PHONE]

    @property
    def emails(self) -> list[ContactIdentity]:
        return [i for i in self.identities if i.kind == IdentityKind.EMAIL]

    def attribute_rows(self) -> list[AttributeRow]:
        """Every definition with the person's value (None if unset): the attribute editor."""
        values = {
            row.definition_id: attribute_types.from_row(row.definition, row)
            for row in self.attribute_values
        }
        return [AttributeRow(d, values.get(d.pk)) for d in self.definitions]


def _with_pending_erasure(people: QuerySet[Person]) -> QuerySet[Person]:
    """People with ``pending_erasure_id`` and ``erasure_due_at`` (None: no erasure pending):
    the page shows a pending erasure, in the person's own statement."""
    pending = Erasure.objects.filter(person_id=OuterRef("pk"), state=ErasureState.PENDING)
    return people.annotate(
        pending_erasure_id=Subquery(pending.values("id")[:1]),
        erasure_due_at=Subquery(pending.values("due_at")[:1]),
    )


def person_page(
    pk: int, *, before: str | None = None, history_filter: HistoryFilter | None = None
) -> PersonPage:
    """The person's page, or 404. ``before``: a history cursor (the page older than it);
    ``history_filter``: which events the history shows (people.selectors.HistoryFilter)."""
    if connection.vendor == "postgresql":
        return _from_one_statement(pk, before, history_filter)
    return _from_queries(pk, before, history_filter)


# ---------------------------------------------------------------------------------------------
# Elsewhere: one query per relation


def _from_queries(
    pk: int, before: str | None, history_filter: HistoryFilter | None = None
) -> PersonPage:
    person = get_object_or_404(_with_pending_erasure(Person.objects.all()), pk=pk)
    return PersonPage(
        person=person,
        identities=list(person.identities.order_by("kind", "id")),
        tags=list(person.tags.order_by("name_key", "id")),
        attribute_values=list(
            AttributeValue.objects.filter(person_id=pk).select_related("definition").order_by("id")
        ),
        installations=list(
            Installation.objects.filter(person_id=pk)
            .select_related("application")
            .order_by("-is_primary", "id")
        ),
        definitions=list(AttributeDefinition.objects.order_by("name_key", "id")),
        history=selectors.history_page(pk, before=before, history_filter=history_filter),
    )


# ---------------------------------------------------------------------------------------------
# PostgreSQL: one statement


def _related_sql() -> dict[str, str]:
    person = Person._meta.db_table
    links = Person.tags.through._meta
    link_person = links.get_field("person").column
    link_tag = links.get_field("tag").column
    return {
        "page_identities": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(i) ORDER BY i.kind, i.id), '[]') "
            f'FROM {ContactIdentity._meta.db_table} i WHERE i.person_id = "{person}"."id"'
        ),
        "page_tags": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(t) ORDER BY t.name_key, t.id), '[]') "
            f"FROM {links.db_table} l JOIN {Tag._meta.db_table} t ON t.id = l.{link_tag} "
            f'WHERE l.{link_person} = "{person}"."id"'
        ),
        # A decimal goes as text, so that it comes back exactly.
        "page_attribute_values": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(v) || jsonb_build_object("
            "'value_number', v.value_number::text, 'definition', to_jsonb(d)) ORDER BY v.id), "
            f"'[]') FROM {AttributeValue._meta.db_table} v "
            f"JOIN {AttributeDefinition._meta.db_table} d ON d.id = v.definition_id "
            f'WHERE v.person_id = "{person}"."id"'
        ),
        "page_installations": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(i) || jsonb_build_object("
            "'application', to_jsonb(a)) ORDER BY i.is_primary DESC, i.id), '[]') "
            f"FROM {Installation._meta.db_table} i "
            f"JOIN {Application._meta.db_table} a ON a.id = i.application_id "
            f'WHERE i.person_id = "{person}"."id"'
        ),
        # The pending erasure, if any (one per person at most: privacy.models.Erasure).
        "page_erasure": (
            "SELECT jsonb_build_object('id', r.id, 'due_at', r.due_at) "
            f"FROM {Erasure._meta.db_table} r "
            f'WHERE r.person_id = "{person}"."id" AND r.state = \'{ErasureState.PENDING}\''
        ),
        "page_definitions": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(d) ORDER BY d.name_key, d.id), '[]') "
            f"FROM {AttributeDefinition._meta.db_table} d"
        ),
        # One more than a page: whether there is an older one.
        "page_history": (
            "SELECT COALESCE(jsonb_agg(to_jsonb(e) ORDER BY e.created_at DESC, e.id DESC), '[]') "
            f'FROM (SELECT * FROM {Event._meta.db_table} WHERE person_id = "{person}"."id" '
            f"ORDER BY created_at DESC, id DESC LIMIT {HISTORY_PAGE_SIZE + 1}) e"
        ),
    }


def _from_one_statement(
    pk: int, before: str | None, history_filter: HistoryFilter | None = None
) -> PersonPage:
    related = _related_sql()
    if selectors.decode_history_cursor(before) is not None or history_filter:
        # An older page or a filtered one: its own query, by the cursor and the filter.
        del related["page_history"]
    queryset = Person.objects.annotate(
        **{name: RawSQL(f"({sql})", [], output_field=JSONField()) for name, sql in related.items()}
    )
    person = get_object_or_404(queryset, pk=pk)
    rows = {name: getattr(person, name) for name in related}
    erasure = rows["page_erasure"]
    person.pending_erasure_id = erasure["id"] if erasure else None
    person.erasure_due_at = (
        Erasure._meta.get_field("due_at").to_python(erasure["due_at"]) if erasure else None
    )
    tags = _instances(Tag, rows["page_tags"])
    applications: dict[int, Application] = {}
    installations = []
    for row in rows["page_installations"]:
        installation = _instance(Installation, row)
        app = row["application"]
        if app["id"] not in applications:
            applications[app["id"]] = _instance(Application, app)
        installation.application = applications[app["id"]]
        installations.append(installation)
    definitions = _instances(AttributeDefinition, rows["page_definitions"])
    by_id = {definition.pk: definition for definition in definitions}
    values = []
    for row in rows["page_attribute_values"]:
        value = _instance(AttributeValue, row)
        value.definition = by_id.get(value.definition_id) or _instance(
            AttributeDefinition, row["definition"]
        )
        values.append(value)
    if "page_history" in rows:
        events = _instances(Event, rows["page_history"])
        more = len(events) > HISTORY_PAGE_SIZE
        events = events[:HISTORY_PAGE_SIZE]
        cursor = selectors.encode_history_cursor(events[-1]) if more else None
        history = HistoryPage(events, cursor)
    else:
        history = selectors.history_page(pk, before=before, history_filter=history_filter)
    return PersonPage(
        person=person,
        identities=_instances(ContactIdentity, rows["page_identities"]),
        tags=tags,
        attribute_values=values,
        installations=installations,
        definitions=definitions,
        history=history,
    )


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


def _instances(model: type[Model], rows: list[dict[str, Any]]) -> list:
    return [_instance(model, row) for row in rows]
