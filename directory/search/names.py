"""The search box read as a name: the start of "first last" or "last first", case- and
accent-insensitive, as ranges of the folded name columns in code point order, read as keyset
pages ((name, id) after the cursor); never a sort of every "jo...".
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import BooleanField, Case, F, Q, QuerySet, When
from django.db.models.expressions import RawSQL

from people.fields import successor
from people.lookups import name_filter
from people.models import Person

from .backends import backend
from .rows import PersonRow, person_rows

NAME_COLUMNS = ("search_name", "search_name_reversed")


def names_first(text: str) -> bool:
    """Whether ``text`` is searched as a name before as an identifier: it could be a name
    (name_filter) and has no digit and no "@" (phones, emails, ids and push registrations
    mostly do)."""
    return (
        "@" not in text
        and not any(character.isdigit() for character in text)
        and name_filter(text) is not None
    )


def _name_key(column: str):
    # Code point order on every database (backends: COLLATE "C" on PostgreSQL).
    return backend().name_key(column)


def _name_range(queryset: QuerySet[Person], column: str, prefix: str) -> QuerySet[Person]:
    if column != "search_name":
        queryset = queryset.alias(**{f"{column}_key": _name_key(column)})
    return queryset.filter(**{f"{column}_key__gte": prefix, f"{column}_key__lt": successor(prefix)})


def name_page(
    queryset: QuerySet[Person],
    prefix: str,
    after: tuple[str, int] | None,
    size: int,
    *,
    few_candidates: bool = False,
    identifiers: RawSQL | None = None,
) -> list[PersonRow]:
    """Up to ``size`` people whose name starts with ``prefix``, by (matching key, id).

    People whose "first last" matches are listed under it; the others under "last first".
    Two index ranges, each read up to ``size`` rows, then merged and sorted (at most twice
    ``size`` rows) in the same statement, which alone fetches the related rows of the page.
    When a filter leaves few candidates (a rare tag), they are read first and sorted instead.
    ``identifiers`` (``identifiers.union_of``): each person also says, as
    ``identifier_found``, whether that lookup finds anyone (an uncorrelated EXISTS, which
    PostgreSQL runs once).
    """
    first = Q(search_name_key__gte=prefix, search_name_key__lt=successor(prefix))
    queryset = queryset.alias(search_name_key=_name_key("search_name"))
    key = Case(When(first, then=F("search_name_key")), default=_name_key("search_name_reversed"))
    if few_candidates:
        reversed_key = _name_key("search_name_reversed")
        ranges = queryset.alias(search_name_reversed_key=reversed_key).filter(
            first
            | Q(
                search_name_reversed_key__gte=prefix,
                search_name_reversed_key__lt=successor(prefix),
            )
        )
    else:
        parts = []
        for number, column in enumerate(NAME_COLUMNS):
            part = _name_range(queryset, column, prefix)
            if number == 1:
                # People whose "first last" matches are listed under it already.
                part = part.exclude(first)
            column_key = f"{column}_key"
            if after is not None:
                after_key, after_id = after
                # The index condition starts the range at the cursor; the OR sorts out ties.
                part = part.filter(**{f"{column_key}__gte": after_key}).filter(
                    Q(**{f"{column_key}__gt": after_key}) | Q(pk__gt=after_id)
                )
            try:
                sql, params = (
                    part.order_by(column_key, "pk").values("pk")[:size].query.sql_with_params()
                )
            except EmptyResultSet:
                # A filter no row can meet (a tag nobody has): Django does not even compile
                # the range, which has no rows.
                continue
            parts.append((f"SELECT {column}_range.pk FROM ({sql}) AS {column}_range", params))
        if not parts:
            return []
        page_ids = RawSQL(
            " UNION ALL ".join(sql for sql, _ in parts),
            [param for _, params in parts for param in params],
        )
        ranges = Person.objects.filter(backend().any_of(page_ids)).alias(
            search_name_key=_name_key("search_name")
        )
    ranges = ranges.alias(name_key=key)
    if identifiers is not None:
        found = RawSQL(f"EXISTS ({identifiers.sql})", identifiers.params, BooleanField())
        ranges = ranges.annotate(identifier_found=found)
    if after is not None and few_candidates:
        after_key, after_id = after
        ranges = ranges.filter(Q(name_key__gt=after_key) | Q(name_key=after_key, pk__gt=after_id))
    return person_rows(
        ranges.order_by("name_key", "pk"), limit=size, identifier_found=identifiers is not None
    )


def name_cursor(prefix: str, after: int) -> tuple[str, int] | None:
    """(key, id) of the person a name page ended with: the first name column that matches."""
    names = Person.objects.filter(pk=after).values_list(*NAME_COLUMNS).first()
    if names is None:
        return None
    for value in names:
        if value.startswith(prefix):
            return value, after
    return None
