"""One value that describes a population of people: what the search page, the API's list and
admin's changelist ask for, parsed from each of them into this one shape and compiled once
(directory.search.compiler).

It is plain data: ``to_dict`` / ``from_dict`` and ``to_query_string`` / ``from_query_string``
give it back exactly, so that a query can be saved, shared as a link or handed to a job.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, urlencode

from people.lookups import Match

__all__ = [
    "ATTRIBUTE_OPS",
    "PAGE_SIZES",
    "SORTS",
    "TEXT_KINDS",
    "Match",
    "PeopleQuery",
    "SearchQuery",
]

# What the search box text is read as: None classifies it (an identifier, else a name).
TEXT_KINDS = ("pushRegistrationId", "phone", "email", "externalId", "name")
ATTRIBUTE_OPS = ("eq", "gt", "gte", "lt", "lte")
# The orders of a result list ("-" first: descending), each a keyset walk of an index of
# (column, id) (compiler.SORT_COLUMNS); None is the list's own order (newest first, a name
# search in name order).
SORTS = ("name", "-name", "updated", "-updated", "created", "-created")
# The page sizes the search page offers.
PAGE_SIZES = (25, 50, 100)


@dataclass
class SearchQuery:
    """A population of people and the page of it wanted.

    ``q`` is the search box (an identifier or the start of a name; ``kind`` narrows how it is
    read); the conditions hold together. ``attribute`` with ``attribute_value`` and
    ``attribute_op`` is a custom attribute condition, read by the definition's data type
    (presence without a value). ``created_from`` and ``created_to`` are the first and last
    day of creation, ``installed_from`` and ``installed_to`` of a device's registration.
    ``filter`` is the API's JSON filter expression as given, ``order_by`` its orderBy;
    ``after`` is a keyset cursor (a person id), ``page`` and ``limit`` an offset page (the
    API's). ``sort`` (one of SORTS) and ``page_size`` are the search page's order and page
    size; the API and admin order and page their own way.
    """

    q: str = ""
    kind: str | None = None
    type: str | None = None
    tags: list[str] = field(default_factory=list)
    application: str | None = None  # application code
    platform: str | None = None
    has_primary: bool | None = None
    push_enabled: bool | None = None
    attribute: str | None = None  # custom attribute name
    attribute_value: str | None = None  # as typed; read by the definition's type
    attribute_op: str = "eq"  # eq | gt | gte | lt | lte
    # Days (YYYY-MM-DD, both included) the person was created on, in the current time zone
    # (the operator's: portal.time_zones); read by filters.created_day.
    created_from: str | None = None
    created_to: str | None = None
    # Days (the same way) one of the person's devices was registered on: the dashboard's
    # installations per day link here.
    installed_from: str | None = None
    installed_to: str | None = None
    filter: str | None = None  # the vendor's JSON filter text
    order_by: str | None = None
    after: int | None = None
    page: int | None = None
    limit: int | None = None
    include_total: bool = False
    sort: str | None = None
    page_size: int | None = None
    # Device hygiene (directory.search.hygiene, where each is defined): a device not updated
    # in ``stale_days`` days; several devices and none primary; push turned off by an
    # operator on a device that has notifications on; an anonymous profile holding devices
    # (what a logout leaves); two registrations of one device fingerprint.
    stale_days: int | None = None
    several_no_primary: bool = False
    push_off_notifying: bool = False
    anonymous: bool = False
    duplicate_devices: bool = False

    @property
    def has_filters(self) -> bool:
        return bool(
            self.type
            or self.tags
            or self.application
            or self.platform
            or self.has_primary is not None
            or self.push_enabled is not None
            or self.attribute
            or self.created_from
            or self.created_to
            or self.installed_from
            or self.installed_to
            or self.filter
            or self.has_hygiene
        )

    @property
    def has_hygiene(self) -> bool:
        """Whether a device hygiene condition is set."""
        return bool(
            self.stale_days is not None
            or self.several_no_primary
            or self.push_off_notifying
            or self.anonymous
            or self.duplicate_devices
        )

    # Serialization ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The fields that differ from an empty query, as JSON-ready values."""
        empty = SearchQuery()
        return {
            f.name: list(value) if isinstance(value, list) else value
            for f in fields(self)
            if (value := getattr(self, f.name)) != getattr(empty, f.name)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchQuery:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Not a field of a query: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "tags" in values:
            values["tags"] = list(values["tags"])
        return cls(**values)

    def to_params(self) -> list[tuple[str, str]]:
        """Query string pairs: one per field, ``tag`` once per tag, booleans as yes/no."""
        params: list[tuple[str, str]] = []
        for name, value in self.to_dict().items():
            if name == "tags":
                params.extend(("tag", tag) for tag in value)
            elif isinstance(value, bool):
                params.append((name, "yes" if value else "no"))
            else:
                params.append((name, str(value)))
        return params

    def to_query_string(self) -> str:
        return urlencode(self.to_params())

    @classmethod
    def from_query_string(cls, text: str) -> SearchQuery:
        data: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, value in parse_qsl(text, keep_blank_values=True):
            if name == "tag":
                data.setdefault("tags", []).append(value)
            elif name not in types:
                raise ValueError(f"Not a field of a query: {name}")
            elif "bool" in str(types[name]):
                data[name] = value == "yes"
            elif "int" in str(types[name]):
                data[name] = int(value)
            else:
                data[name] = value
        return cls.from_dict(data)


# The population's value under the name the next features use.
PeopleQuery = SearchQuery
