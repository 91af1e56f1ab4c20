"""How many people a result list holds: exact when counting is cheap, else an estimate said to
be one; never a COUNT over more than EXACT_COUNT_LIMIT rows (DESIGN.md: no exact COUNT(*)
over large tables), and never one that runs longer than COUNT_TIMEOUT_MS.

Counting a population can take far longer than reading its first page (at a million people
a platform's COUNT of 100,001 rows took 0.8 s, a name prefix's 8,000 rows 20 ms, the page
itself 10 ms): the search page says what its rows tell ("25+") and asks for the total in a
request of its own (directory.views.search.search_total).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from .backends import backend

# Above this many rows a total is an estimate (the planner's), never a COUNT(*).
EXACT_COUNT_LIMIT = 100_000
# A count that takes longer is cut short (PostgreSQL) and the total is the planner's estimate.
COUNT_TIMEOUT_MS = 300


@dataclass(frozen=True)
class Total:
    """A number of people: ``exact``, or an estimate (the planner's), or, where the database
    has no estimate, ``at_least`` so many."""

    count: int
    exact: bool = True
    at_least: bool = False

    @property
    def label(self) -> str:
        """ "1,234", "about 1.2 million", "about 340,000", "more than 100,000"."""
        if self.exact:
            return f"{self.count:,}"
        if self.at_least:
            return f"more than {self.count:,}"
        return f"about {rounded(self.count)}"

    @property
    def noun(self) -> str:
        return "person" if self.exact and self.count == 1 else "people"


def rounded(count: int) -> str:
    """An estimate to two significant digits: "1.2 million", "340,000", "97"."""
    if count >= 1_000_000:
        millions = round(count / 1_000_000, 1)
        return f"{millions:g} million"
    digits = len(str(count))
    if digits <= 2:
        return str(count)
    step = 10 ** (digits - 2)
    return f"{round(count / step) * step:,}"


def total_of(population: QuerySet, *, whole_table: bool = False) -> Total:
    """How many rows ``population`` has: a COUNT of at most EXACT_COUNT_LIMIT + 1 rows (one
    statement, cut short after COUNT_TIMEOUT_MS); past either, the planner's estimate of the
    statement (PostgreSQL), or "more than EXACT_COUNT_LIMIT". ``whole_table``: the population
    is every row of its table, whose estimate is asked first (one catalog read), so a large
    table is never counted at all."""
    db = backend()
    if whole_table:
        estimate = db.estimated_rows(population.model._meta.db_table)
        if estimate is not None and estimate >= EXACT_COUNT_LIMIT:
            return Total(estimate, exact=False)
    capped = population.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1]
    counted = db.bounded_count(capped, COUNT_TIMEOUT_MS)
    if counted is not None and counted <= EXACT_COUNT_LIMIT:
        return Total(counted)
    estimate = db.estimated_query_rows(population)
    if estimate is None:
        return Total(EXACT_COUNT_LIMIT, exact=False, at_least=True)
    return Total(max(estimate, counted or 0), exact=False)
