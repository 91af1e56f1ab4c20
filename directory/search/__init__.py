"""Finding people: one query (query.SearchQuery) that the search page, the API's list and admin's
changelist share, compiled to statements on the indexes (compiler), with its parts: the box read
as an identifier (identifiers) or a name (names, similar), the conditions (filters), what differs
between databases (backends) and the rows a page shows (rows)."""

from .compiler import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SORT_COLUMNS,
    count_people,
    estimated_count,
    people_of,
    search_people,
)
from .filters import apply_filters, find_tag, forget_tag_sizes
from .identifiers import (
    IDENTIFIER_TYPES,
    exact_matches,
    person_id_by_identifier,
    person_ids_by_identifiers,
)
from .names import name_filter
from .query import PAGE_SIZES, SORTS, Match, PeopleQuery, SearchQuery
from .rows import PersonRow, SearchPage
from .similar import SIMILAR_SPELLINGS, similar_names
from .totals import EXACT_COUNT_LIMIT, Total

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "EXACT_COUNT_LIMIT",
    "IDENTIFIER_TYPES",
    "MAX_PAGE_SIZE",
    "PAGE_SIZES",
    "SIMILAR_SPELLINGS",
    "SORTS",
    "SORT_COLUMNS",
    "Match",
    "PeopleQuery",
    "PersonRow",
    "SearchPage",
    "SearchQuery",
    "Total",
    "apply_filters",
    "count_people",
    "estimated_count",
    "exact_matches",
    "find_tag",
    "forget_tag_sizes",
    "name_filter",
    "people_of",
    "person_id_by_identifier",
    "person_ids_by_identifiers",
    "search_people",
    "similar_names",
]
