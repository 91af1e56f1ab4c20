"""The dashboard's figures, read in two statements whatever the size of the tables.

No exact COUNT(*) over a large table (DESIGN.md): every number is a capped count, the COUNT(*)
of `SELECT 1 … LIMIT cap + 1`, so it stops after cap + 1 rows of an index or a table and says
"cap+" past it. All the counts are terms of one UNION ALL statement; the applications they are
split by are read first. The day buckets are ranges of ``created_at``: on people they read the
index person_created_idx (created_at, id); installations need the same index on their
created_at to stay as cheap on a large table.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db import connection, models
from django.utils import timezone

from installations.models import Application, Installation, Platform
from people.models import Person, PersonType

# A tile or a bar stops counting here; past it the figure says "100000+".
COUNT_CAP = 100_000
# One day's bar stops counting here (30 of them in a statement).
DAY_CAP = 10_000
DAYS = 30
# The applications shown by name; more are named in admin.
APPLICATIONS_SHOWN = 10


@dataclass(frozen=True)
class Count:
    value: int
    more: bool  # the count stopped at its cap: there are more


@dataclass(frozen=True)
class Bar:
    """A row of a bar chart: its label, count, search and length (0-100, of the longest)."""

    label: str
    count: Count
    url: str
    length: float = 0.0


@dataclass(frozen=True)
class Day:
    """A column of a per-day chart: x and height in the chart's 0-300 by 0-100 box."""

    day: datetime.date
    count: Count
    x: float
    height: float

    @property
    def y(self) -> float:
        return round(100 - self.height, 2)


@dataclass(frozen=True)
class DaySeries:
    days: list[Day]
    total: int
    more: bool  # a day stopped at DAY_CAP
    busiest: Day | None  # the day with the most, None when every day is empty


@dataclass(frozen=True)
class PushShare:
    """Push on and off among the newest COUNT_CAP installations (all of them below it)."""

    on: int
    off: int
    sampled: bool  # there are more installations than COUNT_CAP: the newest were read

    @property
    def percent(self) -> int:
        return round(100 * self.on / (self.on + self.off)) if self.on + self.off else 0

    @property
    def on_length(self) -> float:
        """The push-on part of a 0-100 bar."""
        return round(100 * self.on / (self.on + self.off), 2) if self.on + self.off else 0.0


@dataclass(frozen=True)
class Dashboard:
    tiles: list[Bar]
    installations: Count
    platforms: list[Bar]
    applications: list[Bar]
    more_applications: bool
    people_per_day: DaySeries
    installations_per_day: DaySeries
    push: PushShare
    cap: int  # COUNT_CAP, DAY_CAP and DAYS as they were read
    day_cap: int
    days: int


class CappedCounts:
    """Capped counts gathered as terms of one UNION ALL statement, read by ``run()``."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.params: list[Any] = []

    def add(self, model: type[models.Model], cap: int, **where: Any) -> int:
        """Count ``model``'s rows that match ``where`` (field=value, field__gte=value,
        field__lt=value), up to ``cap`` + 1; returns the term's number."""
        quote = connection.ops.quote_name
        conditions = []
        for key, value in where.items():
            name, _, lookup = key.partition("__")
            field = model._meta.get_field(name)
            operator = {"": "=", "gte": ">=", "lt": "<"}[lookup]
            conditions.append(f"{quote(field.column)} {operator} %s")
            if isinstance(field, models.DateTimeField):
                value = connection.ops.adapt_datetimefield_value(value)
            self.params.append(value)
        condition = " AND ".join(conditions) or "1 = 1"
        number = len(self.terms)
        self.terms.append(
            f"SELECT {number}, COUNT(*) FROM (SELECT 1 FROM {quote(model._meta.db_table)}"
            f" WHERE {condition} LIMIT {int(cap) + 1}) AS term{number}"
        )
        return number

    def add_push_sample(self) -> tuple[int, int]:
        """Push on, and all, among the newest COUNT_CAP installations: two terms."""
        quote = connection.ops.quote_name
        table = quote(Installation._meta.db_table)
        enabled = quote(Installation._meta.get_field("registration_enabled").column)
        newest = (
            f"SELECT {enabled} AS enabled FROM {table}"
            f" ORDER BY {quote(Installation._meta.pk.column)} DESC LIMIT {COUNT_CAP}"
        )
        on, everyone = len(self.terms), len(self.terms) + 1
        self.terms.append(
            f"SELECT {on}, COALESCE(SUM(CASE WHEN enabled THEN 1 ELSE 0 END), 0)"
            f" FROM ({newest}) AS term{on}"
        )
        self.terms.append(f"SELECT {everyone}, COUNT(*) FROM ({newest}) AS term{everyone}")
        return on, everyone

    def run(self) -> dict[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(self.terms), self.params)
            return {int(number): int(count) for number, count in cursor.fetchall()}


def capped(count: int, cap: int) -> Count:
    return Count(min(count, cap), count > cap)


def bars(rows: list[tuple[str, Count, str]]) -> list[Bar]:
    longest = max((count.value for _, count, _ in rows), default=0)
    return [
        Bar(label, count, url, round(100 * count.value / longest, 2) if longest else 0.0)
        for label, count, url in rows
    ]


def day_series(days: list[datetime.date], counts: list[int]) -> DaySeries:
    values = [capped(count, DAY_CAP) for count in counts]
    highest = max((value.value for value in values), default=0)
    columns = [
        Day(
            day,
            value,
            x=10 * index + 1,
            height=round(96 * value.value / highest, 2) if highest else 0,
        )
        for index, (day, value) in enumerate(zip(days, values, strict=True))
    ]
    busiest = max(columns, key=lambda column: column.count.value) if highest else None
    return DaySeries(
        days=columns,
        total=sum(value.value for value in values),
        more=any(value.more for value in values),
        busiest=busiest,
    )


def read_dashboard(search_url: str) -> Dashboard:
    """Every figure of the dashboard; ``search_url`` is the search page the figures link to."""
    applications = list(
        Application.objects.order_by("name", "id").values_list("id", "code", "name")[
            : APPLICATIONS_SHOWN + 1
        ]
    )
    counts = CappedCounts()
    tiles = [
        ("People", counts.add(Person, COUNT_CAP), ""),
        ("Customers", counts.add(Person, COUNT_CAP, type=PersonType.CUSTOMER), "?type=CUSTOMER"),
        ("Leads", counts.add(Person, COUNT_CAP, type=PersonType.LEAD), "?type=LEAD"),
        (
            "Installations with push enabled",
            counts.add(Installation, COUNT_CAP, registration_enabled=True),
            "?push=yes",
        ),
        (
            # At most one primary installation per person: one primary row is one person.
            "People with a primary device",
            counts.add(Installation, COUNT_CAP, is_primary=True),
            "?primary=yes",
        ),
    ]
    everything = counts.add(Installation, COUNT_CAP)
    platforms = [
        (platform, counts.add(Installation, COUNT_CAP, os=platform), f"?platform={platform}")
        for platform in Platform.values
    ]
    by_application = [
        (name, counts.add(Installation, COUNT_CAP, application=pk), f"?{urlencode({'app': code})}")
        for pk, code, name in applications[:APPLICATIONS_SHOWN]
    ]
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
    ranges = [(start_of(day), start_of(day + datetime.timedelta(days=1))) for day in days]
    people_days = [
        counts.add(Person, DAY_CAP, created_at__gte=start, created_at__lt=end)
        for start, end in ranges
    ]
    installation_days = [
        counts.add(Installation, DAY_CAP, created_at__gte=start, created_at__lt=end)
        for start, end in ranges
    ]
    push_on, push_all = counts.add_push_sample()

    found = counts.run()

    def rows(terms: list[tuple[str, int, str]]) -> list[tuple[str, Count, str]]:
        return [
            (label, capped(found[term], COUNT_CAP), search_url + query)
            for label, term, query in terms
        ]

    return Dashboard(
        tiles=[Bar(label, count, url) for label, count, url in rows(tiles)],
        installations=capped(found[everything], COUNT_CAP),
        platforms=bars(rows(platforms)),
        applications=bars(rows(by_application)),
        more_applications=len(applications) > APPLICATIONS_SHOWN,
        people_per_day=day_series(days, [found[term] for term in people_days]),
        installations_per_day=day_series(days, [found[term] for term in installation_days]),
        push=PushShare(
            on=found[push_on],
            off=found[push_all] - found[push_on],
            sampled=found[everything] > COUNT_CAP,
        ),
        cap=COUNT_CAP,
        day_cap=DAY_CAP,
        days=DAYS,
    )


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the portal's time zone (UTC unless TIME_ZONE says otherwise)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())
