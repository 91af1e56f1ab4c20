"""A population as the job engine stores it: a query (``SearchQuery.to_dict()``) or a
selection of rows (``{"ids": [...]}``), and the ids of the people it finds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from directory.search import SearchQuery, people_of
from people.models import Person

SELECTION = "ids"


def selection(person_ids: list[int]) -> dict[str, Any]:
    return {SELECTION: sorted({int(pk) for pk in person_ids})}


def people(query: dict[str, Any]):
    """The queryset of everyone the stored query finds (unordered)."""
    if SELECTION in query:
        return Person.objects.filter(pk__in=query[SELECTION])
    return people_of(SearchQuery.from_dict(query))


def person_ids(query: dict[str, Any], *, batch: int = 5000) -> Iterator[int]:
    """The ids of everyone the stored query finds, ascending, read in batches (a keyset walk
    on the primary key, so a million ids never sit in one result). A selection's ids are the
    people the operator chose, as chosen: one deleted since is still the job's, and its row
    fails (the actions' NOT_FOUND) instead of the job quietly acting on fewer people."""
    if SELECTION in query:
        yield from sorted({int(pk) for pk in query[SELECTION]})
        return
    last = 0
    base = people(query)
    while True:
        ids = list(base.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        yield from ids
        if len(ids) < batch:
            return
        last = ids[-1]
