"""How many people a result list holds: exact when counting is cheap, else an estimate said to
be one; never a COUNT over more than EXACT_COUNT_LIMIT rows (DESIGN.md: no exact COUNT(*)
over large tables).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from .backends import backend

# Above this many rows a total is an estimate (the planner's), never a COUNT(*).
EXACT_COUNT_LIMIT = 100_000


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
    statement); past that the planner's estimate of the statement (PostgreSQL), or "more than
    EXACT_COUNT_LIMIT". ``whole_table``: the population is every row of its table, whose
    estimate is asked first (one catalog read), so a large table is never counted at all."""
    db = backend()
    if whole_table:
        estimate = db.estimated_rows(population.model._meta.db_table)
        if estimate is not None and estimate >= EXACT_COUNT_LIMIT:
            return Total(estimate, exact=False)
    counted = population.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1].count()
    if counted <= EXACT_COUNT_LIMIT:
        return Total(counted)
    estimate = db.estimated_query_rows(population)
    if estimate is None:
        return Total(EXACT_COUNT_LIMIT, exact=False, at_least=True)
    return Total(max(estimate, counted), exact=False)
