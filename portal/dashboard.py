"""The dashboard's figures, read in three statements whatever the size of the tables.

No exact COUNT(*) over a large table (DESIGN.md):

- the tiles, the number of installations and the people created on each of the last 30 days
  are capped counts, the COUNT(*) of `SELECT 1 … LIMIT cap + 1`, all of them terms of one
  UNION ALL statement: each stops after cap + 1 rows and says "cap+" past it. The day buckets
  are ranges of ``created_at`` read from the index person_created_idx (created_at, id);
- the installations by platform, by application and with push on, and the installations
  created on each day, are read from the newest COUNT_CAP installations (by id, the primary
  key's index): all of them below that, a lower bound from the newest above it. One statement
  groups that sample; the third names its applications.
"""

from __future__ import annotations

import datetime
from collections import Counter
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
# The applications with the most installations shown; admin lists them all.
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
    url: str = ""  # the search for the people created that day ("": not linked)

    @property
    def y(self) -> float:
        return round(100 - self.height, 2)


@dataclass(frozen=True)
class DaySeries:
    days: list[Day]
    total: int
    more: bool  # a day's count is a lower bound (it stopped at its cap, or past the sample)
    busiest: Day | None  # the day with the most, None when every day is empty

    @property
    def linked(self) -> bool:
        return any(day.url for day in self.days)


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


def day_series(
    days: list[datetime.date],
    values: list[Count],
    search_url: str | None = None,
    field: str = "created",
) -> DaySeries:
    """The columns of ``days``; with ``search_url``, each day that has any links to the search
    of the people ``field`` on it: ``created``, or ``installed`` (a device registered that
    day); the search's day filters read days in the same zone."""
    highest = max((value.value for value in values), default=0)
    columns = [
        Day(
            day,
            value,
            x=10 * index + 1,
            height=round(96 * value.value / highest, 2) if highest else 0,
            url=(on_day(search_url, field, day) if search_url is not None and value.value else ""),
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
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=back) for back in range(DAYS - 1, -1, -1)]

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
    people_days = [
        counts.add(Person, DAY_CAP, created_at__gte=start_of(day), created_at__lt=start_of(next))
        for day, next in zip(days, days[1:] + [today + datetime.timedelta(days=1)], strict=True)
    ]
    found = counts.run()
    sampled = found[everything] > COUNT_CAP

    bounds = [start_of(day) for day in days] + [start_of(today + datetime.timedelta(days=1))]
    sample = newest_installations(bounds)
    by_platform: Counter = Counter()
    by_application: Counter = Counter()
    on = off = before_window = 0
    per_day = [0] * DAYS
    for group in sample:
        by_platform[group.os] += group.count
        by_application[group.application_id] += group.count
        if group.registration_enabled:
            on += group.count
        else:
            off += group.count
        before_window += group.before
        per_day = [total + count for total, count in zip(per_day, group.per_day, strict=True)]
    # A sample that does not reach back to the first day: the days up to the one of its
    # oldest installation may have more.
    partial_days = 0
    if sampled and not before_window:
        partial_days = next((index + 1 for index, count in enumerate(per_day) if count), DAYS)
    # The most installations first; between equals, the older application.
    shown = sorted(by_application, key=lambda pk: (-by_application[pk], pk))[:APPLICATIONS_SHOWN]
    names = (
        {
            pk: (code, name)
            for pk, code, name in Application.objects.filter(pk__in=shown).values_list(
                "pk", "code", "name"
            )
        }
        if shown
        else {}
    )

    def rows(terms: list[tuple[str, int, str]]) -> list[tuple[str, Count, str]]:
        return [
            (label, capped(found[term], COUNT_CAP), search_url + query)
            for label, term, query in terms
        ]

    return Dashboard(
        tiles=[Bar(label, count, url) for label, count, url in rows(tiles)],
        installations=capped(found[everything], COUNT_CAP),
        platforms=bars(
            [
                (
                    platform,
                    Count(by_platform[platform], sampled),
                    f"{search_url}?platform={platform}",
                )
                for platform in Platform.values
            ]
        ),
        applications=bars(
            [
                (
                    names[pk][1],
                    Count(by_application[pk], sampled),
                    f"{search_url}?{urlencode({'app': names[pk][0]})}",
                )
                for pk in sorted(shown, key=lambda pk: (-by_application[pk], names[pk][1]))
                if pk in names
            ]
        ),
        more_applications=len(by_application) > APPLICATIONS_SHOWN,
        people_per_day=day_series(
            days, [capped(found[term], DAY_CAP) for term in people_days], search_url
        ),
        # Counted among the newest COUNT_CAP installations (a sample, so the oldest days may
        # show a part: "+"); each day links to the people with a device registered on it.
        installations_per_day=day_series(
            days,
            [Count(count, index < partial_days) for index, count in enumerate(per_day)],
            search_url,
            field="installed",
        ),
        push=PushShare(on=on, off=off, sampled=sampled),
        cap=COUNT_CAP,
        day_cap=DAY_CAP,
        days=DAYS,
    )


@dataclass(frozen=True)
class SampleGroup:
    os: str
    application_id: int
    registration_enabled: bool
    count: int
    before: int  # created before the first day
    per_day: list[int]  # created on each day


def newest_installations(bounds: list[datetime.datetime]) -> list[SampleGroup]:
    """The newest COUNT_CAP installations (by id: the primary key's index read backwards,
    however large the table), grouped by platform, application and push, with how many of each
    group were created before ``bounds[0]`` and between each two bounds: one statement."""
    quote = connection.ops.quote_name
    meta = Installation._meta
    os, application, enabled, created = (
        quote(meta.get_field(name).column)
        for name in ("os", "application", "registration_enabled", "created_at")
    )
    moments = [connection.ops.adapt_datetimefield_value(bound) for bound in bounds]
    per_day = ", ".join(
        "SUM(CASE WHEN created >= %s AND created < %s THEN 1 ELSE 0 END)" for _ in bounds[1:]
    )
    params = [moments[0]]
    for start, end in zip(moments, moments[1:], strict=False):
        params += [start, end]
    sql = (
        "SELECT os, application, enabled, COUNT(*),"
        f" SUM(CASE WHEN created < %s THEN 1 ELSE 0 END), {per_day}"
        f" FROM (SELECT {os} AS os, {application} AS application, {enabled} AS enabled,"
        f" {created} AS created FROM {quote(meta.db_table)}"
        f" ORDER BY {quote(meta.pk.column)} DESC LIMIT {int(COUNT_CAP)}) AS newest"
        " GROUP BY os, application, enabled"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            SampleGroup(
                os, application, bool(enabled), int(count), int(before), list(map(int, days))
            )
            for os, application, enabled, count, before, *days in cursor.fetchall()
        ]


def on_day(search_url: str, field: str, day: datetime.date) -> str:
    """The search for the people created on ``day``, or with a device registered on it
    (``field``: created or installed; directory.forms.SearchForm)."""
    return f"{search_url}?{urlencode({f'{field}_from': day, f'{field}_to': day})}"


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the current time zone (the operator's: portal.time_zones)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())
