"""One query compiled: the search page's keyset pages (search_people) and the population as a
queryset (people_of: the API's list and admin's changelist).

Exact identifiers and filter-only lists come newest first; a name search comes in name order
(an index range). Filters are EXISTS subqueries (no DISTINCT over joins); pages are keyset
pages: no OFFSET, no COUNT(*). How each kind stays at index speed: docs/scaling.md.
"""

from __future__ import annotations

import functools

from django.db.models import F, Q, QuerySet, Subquery

from people.fields import fold
from people.models import Person

from .backends import backend
from .filters import drives, filtered, tags_of
from .identifiers import (
    candidates,
    exact_ids,
    matched,
    other_case_external_ids,
    union_of,
    unreadable_phone,
)
from .names import name_cursor, name_filter, name_page, names_first
from .query import SORTS, Match, SearchQuery
from .rows import SearchPage, person_rows
from .similar import similar_page
from .totals import EXACT_COUNT_LIMIT, Total, total_of

# A page of the operator's result list: what fits on a screen or two (the next page is one
# keyset step away).
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
# The column of each sort (query.SORTS), walked with the id as a keyset: the indexes
# person_search_name_c_idx (PostgreSQL; person_search_name_idx elsewhere),
# person_modified_idx and person_created_idx.
SORT_COLUMNS = {"name": "search_name", "updated": "modified_at", "created": "created_at"}


def search_people(
    query: SearchQuery,
    *,
    after: int | None = None,
    limit: int | None = None,
    total: bool = False,
) -> SearchPage:
    """One page of ``query``, after the person id ``after`` (the previous page's next_cursor;
    ``query.after`` when not given), of ``limit`` rows (``query.page_size`` when not given).

    Exact identifiers and filter-only lists come newest first, or in ``query.sort``; a name
    search comes in name order (an index range). Either way the cursor is a person id.
    ``total``: the page also says how many people there are (SearchPage.total) when that
    costs no count: a first page with no next one, or every person of a large table (its
    estimate); otherwise ``SearchPage.count_later`` says that count_people can count them.
    """
    if after is None:
        after = query.after
    if limit is None:
        limit = query.page_size or DEFAULT_PAGE_SIZE
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if query.sort is not None and query.sort not in SORTS:
        raise ValueError(f"Not a sort: {query.sort}")
    text = query.q.strip()
    tags = tags_of(query)
    # A rare tag's people are read first for a list; an identifier finds at most a few
    # people, which EXISTS probes check.
    few_candidates = drives(tags)
    if text:
        page, people = _text_page(query, text, tags, after, limit, few_candidates)
        population = None if people is None else (lambda: people)
    else:
        # The page's ids first: the walk of an index in order then tests the filters from
        # indexes alone, without reading the row of every person it passes over; then the
        # rows of the page, with what they show.
        base = filtered(Person.objects.all(), query, tags, drive=True)
        ids = list(in_order(base, _sort(query), after).values_list("pk", flat=True)[: limit + 1])
        people = person_rows(Person.objects.filter(pk__in=ids[:limit])) if ids else []
        position = {pk: number for number, pk in enumerate(ids)}
        people.sort(key=lambda row: position[row.pk])
        next_cursor = ids[limit - 1] if len(ids) > limit else None
        page = SearchPage(people[:limit], [], next_cursor, False)
        # Built only to be counted (count_people): a custom attribute condition reads its
        # definition.
        population = functools.partial(filtered, Person.objects.all(), query, tags, drive=False)
    if total:
        page.total = _total_without_counting(page, query, after)
        page.count_later = page.total is None and population is not None
    page.population = population
    return page


def _sort(query: SearchQuery) -> str | None:
    """The order of a filter-only list: ``query.sort``; newest first by default, which with a
    created filter is a backward walk of the range of person_created_idx (created_at, id)
    rather than of the primary key past everyone created since."""
    if query.sort is None and (query.created_from or query.created_to):
        return "-created"
    return query.sort


def count_people(query: SearchQuery) -> Total | None:
    """How many people ``query`` finds (totals.total_of: a bounded count, else an estimate),
    asked by the search page after its rows (a count can take longer than the page); None
    for a page that is the only one of its kind (similar names)."""
    page = search_people(query, after=None, limit=1)
    if page.population is None:
        return None
    if page.next_cursor is None:
        return Total(len(page.people))
    return total_of(page.population(), whole_table=not query.q.strip() and not query.has_filters)


def in_order(people: QuerySet[Person], sort: str | None, after: int | None) -> QuerySet[Person]:
    """``people`` in the order ``sort`` (query.SORTS; None: newest first), after the person
    ``after``: a keyset walk of an index of (column, id). The cursor's value is read in the
    same statement (a scalar subquery of its row); ``column >= value`` starts the index range
    at the cursor and the OR sorts out ties."""
    if sort is None:
        return (people.filter(pk__lt=after) if after is not None else people).order_by("-pk")
    descending = sort.startswith("-")
    column = SORT_COLUMNS[sort.lstrip("-")]
    key = backend().name_key(column) if column == "search_name" else F(column)
    people = people.alias(sort_key=key)
    if after is not None:
        value = Subquery(Person.objects.filter(pk=after).annotate(value=key).values("value")[:1])
        if descending:
            people = people.filter(sort_key__lte=value).filter(
                Q(sort_key__lt=value) | Q(pk__lt=after)
            )
        else:
            people = people.filter(sort_key__gte=value).filter(
                Q(sort_key__gt=value) | Q(pk__gt=after)
            )
    return people.order_by(*(("-sort_key", "-pk") if descending else ("sort_key", "pk")))


def _total_without_counting(
    page: SearchPage, query: SearchQuery, after: int | None
) -> Total | None:
    """What the total is without a count: the rows of a first page that has no next one, or
    the estimate of a large table when the query is every person (one catalog read)."""
    if page.corrected is not None:
        return None
    if after is None and page.next_cursor is None:
        return Total(len(page.people))
    if not query.q.strip() and not query.has_filters:
        estimate = backend().estimated_rows(Person._meta.db_table)
        if estimate is not None and estimate >= EXACT_COUNT_LIMIT:
            return Total(estimate, exact=False)
    return None


def _text_page(
    query: SearchQuery,
    text: str,
    tags: dict[str, tuple[int, bool]] | None,
    after: int | None,
    limit: int,
    few_candidates: bool,
) -> tuple[SearchPage, QuerySet[Person] | None]:
    """A page of the search box's text: an identifier's people, else a name's; and the
    population the page is one of (to count it)."""
    lookups = candidates(text, query.kind) if query.kind != "name" else []
    exact = filtered(Person.objects.all(), query, tags, drive=False)

    def identifier_page() -> SearchPage | None:
        if not lookups:
            return None
        found = in_order(exact.filter(pk__in=union_of(lookups)), query.sort, after)
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
            return page, exact.filter(pk__in=union_of(lookups))
        if not name_too or name_filter(text) is None:
            return _nobody(text, lookups, []), None
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
            return page, exact.filter(pk__in=union_of(lookups))
    if not people and after is None:
        similar = similar_page(named, folded, limit, few_candidates=few_candidates)
        if similar is not None:
            return similar, None
        return _nobody(text, lookups, [Match("name", folded)]), None
    next_cursor = people[limit - 1].pk if len(people) > limit else None
    page = SearchPage(people[:limit], [Match("name", folded)], next_cursor, False)
    return page, exact.filter(name_filter(text))


def _nobody(text: str, lookups: list, matches: list[Match]) -> SearchPage:
    """An empty page that says what the text was read as and where it may have gone wrong:
    an externalId that exists in another casing (externalIds are case-sensitive), or text
    that looks like a phone number but is none (identifiers.unreadable_phone)."""
    kinds = {candidate.match.kind for candidate in lookups}
    others = other_case_external_ids(text) if "externalId" in kinds else []
    if names_first(text) and not others:
        # Text that reads as a name: that no externalId is spelled so is no news.
        kinds.discard("externalId")
    return SearchPage(
        [],
        matches,
        None,
        False,
        tried=sorted(kinds),
        other_case_external_ids=others,
        unreadable_phone=unreadable_phone(text) if "nationalPhone" in kinds else False,
    )


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
    one and the table is large; else exact (a COUNT of at most EXACT_COUNT_LIMIT + 1 rows,
    past which it is the estimate, or that many)."""
    return total_of(model.objects.all(), whole_table=True).count
