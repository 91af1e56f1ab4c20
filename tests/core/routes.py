"""Every route of the URLconf, enumerated from it at run time, with its path parameters filled.

Routes are added all the time; the access tests walk whatever the URLconf holds when they run,
so a new page or endpoint is checked without anyone listing it here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, PathConverter, SlugConverter, UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

# Who may answer without a signed-in operator or a key (route names).
ANONYMOUS_ALLOWED = {"login", "admin:login", "health", "api-schema", "api-docs"}
# API prefixes: an anonymous request gets 401 there, not a redirect to the sign-in page.
API_PREFIXES = ("/people/2/", "/peopleevents/2/", "/mobile/1/")
DEVICE_API_PREFIX = "/mobile/1/"
ADMIN_PREFIX = "/admin/"
WRITE_METHODS = ("post", "put", "patch", "delete")

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_FALLBACKS = ("1", "people", "abc", "json", str(uuid.UUID(int=1)), "a/b")


@dataclass(frozen=True)
class Route:
    path: str  # a concrete path, "/person/12/tags/add"
    name: str | None  # "people:tags_add", with its namespace
    pattern: str  # the pattern text, for test ids and messages
    callback: Callable

    @property
    def label(self) -> str:
        return self.name or self.pattern

    @property
    def is_api(self) -> bool:
        return self.path.startswith(API_PREFIXES)

    @property
    def is_device_api(self) -> bool:
        return self.path.startswith(DEVICE_API_PREFIX)

    @property
    def is_admin(self) -> bool:
        return self.path.startswith(ADMIN_PREFIX)


Values = Callable[[str, str, str], Any]  # (parameter name, converter kind, route text) -> value


def default_value(name: str, converter: str, route: str) -> Any:
    return None


def _converter_kind(converter: object) -> str:
    if isinstance(converter, IntConverter):
        return "int"
    if isinstance(converter, UUIDConverter):
        return "uuid"
    if isinstance(converter, PathConverter):
        return "path"
    if isinstance(converter, SlugConverter):
        return "slug"
    return "str"


def _sample(kind: str) -> str:
    return {"int": "1", "uuid": str(uuid.UUID(int=1)), "path": "1", "slug": "abc"}.get(kind, "abc")


def _fill_route(pattern: RoutePattern, text_so_far: str, values: Values) -> str:
    route = str(pattern._route)
    converters = pattern.converters

    def replace(match: re.Match) -> str:
        name = match.group("name")
        kind = _converter_kind(converters.get(name))
        value = values(name, kind, text_so_far + route)
        return str(value) if value is not None else _sample(kind)

    return _PARAMETER.sub(replace, route)


def _fill_regex(pattern: RegexPattern, text_so_far: str, values: Values) -> str:
    regex = pattern.regex
    format_string, params = normalize(regex.pattern)[0]
    chosen: dict[str, str] = {}
    for param in params:
        preferred = values(param, "str", text_so_far + regex.pattern)
        candidates = ([str(preferred)] if preferred is not None else []) + list(_FALLBACKS)
        for candidate in candidates:
            trial = format_string % {**{p: "1" for p in params}, **chosen, param: candidate}
            if regex.match(trial):
                chosen[param] = candidate
                break
        else:
            chosen[param] = "1"
    return format_string % chosen if params else format_string


def iter_routes(values: Values = default_value) -> Iterator[Route]:
    def walk(patterns, prefix: str, pattern_prefix: str, namespace: str | None):
        for entry in patterns:
            if isinstance(entry.pattern, RoutePattern):
                piece = _fill_route(entry.pattern, pattern_prefix, values)
                text = str(entry.pattern._route)
            else:
                piece = _fill_regex(entry.pattern, pattern_prefix, values)
                text = entry.pattern.regex.pattern
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                yield from walk(entry.url_patterns, prefix + piece, pattern_prefix + text, inner)
            elif isinstance(entry, URLPattern):
                name = entry.name
                if name and namespace:
                    name = f"{namespace}:{name}"
                yield Route(
                    path="/" + prefix + piece,
                    name=name,
                    pattern=pattern_prefix + text,
                    callback=entry.callback,
                )

    yield from walk(get_resolver().url_patterns, "", "", None)
