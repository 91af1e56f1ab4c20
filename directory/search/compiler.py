"""One query compiled: the search page's keyset pages (search_people) and the population as a
queryset (people_of: the API's list and admin's changelist).

Exact identifiers and filter-only lists come newest first; a name search comes in name order
(an index range). Filters are EXISTS subqueries (no DISTINCT over joins); pages are keyset
pages: no OFFSET, no COUNT(*). How each kind stays at index speed: docs/scaling.md.
"""

from __future__ import annotations

from django.db.models import QuerySet

from people.fields import fold
from people.models import Person

from .backends import backend
from .filters import drives, filtered, tags_of
from .identifiers import candidates, exact_ids, matched, union_of
from .names import name_cursor, name_filter, name_page, names_first
from .query import Match, SearchQuery
from .rows import SearchPage, person_rows
from .similar import similar_page

# A page of the operator's result list: what fits on a screen or two (the next page is one
# keyset step away).
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
# Above this many rows a total is an estimate (the planner's), never a COUNT(*).
EXACT_COUNT_LIMIT = 100_000


def search_people(
    query: SearchQuery, *, after: int | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> SearchPage:
    """One page of ``query``, after the person id ``after`` (the previous page's next_cursor;
    ``query.after`` when not given).

    Exact identifiers and filter-only lists come newest first; a name search comes in name
    order (an index range). Either way the cursor is a person id.
    """
    if after is None:
        after = query.after
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    text = query.q.strip()
    tags = tags_of(query)
    # A rare tag's people are read first for a list; an identifier finds at most a few
    # people, which EXISTS probes check.
    few_candidates = drives(tags)
    if text:
        return _text_page(query, text, tags, after, limit, few_candidates)
    # The page's ids first: the newest-first walk of the primary key then tests the filters
    # from indexes alone, without reading the row of every person it passes over; then the
    # rows of the page, with what they show.
    base = filtered(Person.objects.all(), query, tags, drive=True)
    if after is not None:
        base = base.filter(pk__lt=after)
    ids = list(base.order_by("-pk").values_list("pk", flat=True)[: limit + 1])
    people = person_rows(Person.objects.filter(pk__in=ids[:limit]).order_by("-pk")) if ids else []
    next_cursor = ids[limit - 1] if len(ids) > limit else None
    return SearchPage(people[:limit], [], next_cursor, False)


def _text_page(
    query: SearchQuery,
    text: str,
    tags: dict[str, tuple[int, bool]] | None,
    after: int | None,
    limit: int,
    few_candidates: bool,
) -> SearchPage:
    """A page of the search box's text: an identifier's people, else a name's."""
    lookups = candidates(text, query.kind) if query.kind != "name" else []
    exact = filtered(Person.objects.all(), query, tags, drive=False)

    def identifier_page() -> SearchPage | None:
        if not lookups:
            return None
        found = exact.filter(pk__in=union_of(lookups)).order_by("-pk")
        if after is not None:
            found = found.filter(pk__lt=after)
        people = person_rows(found, limit=limit + 1)
        if not people:
            return None
        next_cursor = people[limit - 1].pk if len(people) > limit else None
        people = people[:limit]
        return SearchPage(people, matched(lookups, people), next_cursor, True)

    # Text with a digit or an "@" is looked up as an identifier first. Other text is mostly a
    # name: its name page also says whether an identifier lookup finds anyone (one statement
    # instead of two), and the identifiers' page is read only then.
    name_too = query.kind in (None, "name")
    first_names = name_too and names_first(text)
    if not first_names:
        page = identifier_page()
        if page is not None:
            return page
        if not name_too or name_filter(text) is None:
            return SearchPage([], [], None, False)
    folded = fold(text)
    position = name_cursor(folded, after) if after is not None else None
    # The name ranges are walked in order, index-only, testing the tags on each entry.
    named = filtered(Person.objects.all(), query, tags, drive=True, tags_on_row=True)
    people = name_page(
        named,
        folded,
        position,
        limit + 1,
        few_candidates=few_candidates,
        identifiers=union_of(lookups) if first_names and lookups else None,
    )
    if first_names and lookups and (not people or people[0].identifier_found):
        page = identifier_page()
        if page is not None:
            return page
    if not people and after is None:
        similar = similar_page(named, folded, limit, few_candidates=few_candidates)
        if similar is not None:
            return similar
    next_cursor = people[limit - 1].pk if len(people) > limit else None
    return SearchPage(people[:limit], [Match("name", folded)], next_cursor, False)


def people_of(query: SearchQuery, queryset: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """The population of ``query`` as a queryset (unordered): the search box read as the admin
    reads it (an exact identifier's people, else a name prefix), and every condition.

    The API's JSON ``filter`` is compiled by directory.api.filters on top of this.
    """
    people = Person.objects.all() if queryset is None else queryset
    text = query.q.strip()
    if text:
        lookups = candidates(text, query.kind) if query.kind != "name" else []
        ids, _ = exact_ids(lookups)
        if ids:
            people = people.filter(pk__in=ids)
        else:
            condition = name_filter(text) if query.kind in (None, "name") else None
            if condition is None:
                return people.none()
            people = people.filter(condition)
    if query.has_filters:
        people = filtered(people, query, tags_of(query), drive=False)
    return people


def estimated_count(model=Person) -> int:
    """Rows of a table without counting them: the planner's estimate where the backend has
    one and the table is large; else exact (a COUNT(*))."""
    estimate = backend().estimated_rows(model._meta.db_table)
    if estimate is not None and estimate >= EXACT_COUNT_LIMIT:
        return estimate
    return model.objects.count()
