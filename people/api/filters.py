"""Query parameters of the list operations: ``orderBy`` and the page parameters (``limit``,
``page``, ``includeTotalCount``). The person list's JSON ``filter`` is directory.api.filters'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from core.errors import DomainError, ErrorCode

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
MAX_PAGE = 2147483647


# ---------------------------------------------------------------------------------------------
# orderBy


def parse_order_by(text: str, fields: dict[str, str], *, default: str) -> tuple[str, list[str]]:
    """``"lastName:desc"`` -> the canonical text and the ORM ordering (ties broken by id)."""
    text = (text or default).strip()
    name, _, direction = text.partition(":")
    direction = (direction or "asc").strip().lower()
    name = name.strip()
    if name not in fields or direction not in ("asc", "desc"):
        raise DomainError(
            ErrorCode.BAD_REQUEST,
            f"orderBy must be one of {', '.join(fields)} with :asc or :desc, not {text!r}.",
            "orderBy",
        )
    sign = "-" if direction == "desc" else ""
    return f"{name}:{direction}", [f"{sign}{fields[name]}", f"{sign}id"]


NAME_ORDER_FIELDS = {"name": "name", "createdAt": "created_at"}
NAME_DEFAULT_ORDER = "name:asc"


def name_ordering(text: str) -> tuple[str, list[str]]:
    return parse_order_by(text, NAME_ORDER_FIELDS, default=NAME_DEFAULT_ORDER)


# ---------------------------------------------------------------------------------------------
# limit, page, includeTotalCount


class PageParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1,
        max_value=MAX_LIMIT,
        default=DEFAULT_LIMIT,
        help_text=f"Results per page: default {DEFAULT_LIMIT}, at most {MAX_LIMIT}.",
    )
    page = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE, default=1, help_text="Page of results, from 1."
    )
    includeTotalCount = serializers.BooleanField(  # noqa: N815 - the vendor's name
        default=False, help_text="Also return totalCount (counts every match)."
    )


def page_params(query_params) -> dict[str, Any]:
    params = PageParamsSerializer(data=query_params)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)


def page_of(
    queryset: QuerySet,
    params: dict[str, Any],
    *,
    rows_of: Callable[[list[int]], Iterable] | None = None,
) -> tuple[list, int | None]:
    """One page (OFFSET, as the vendor's page numbers require) and, when asked, the count.

    ``rows_of``: the page's ids are read first (ordered and offset, from an index where one
    holds the filter's and the order's columns), then ``rows_of(ids)``, the page's rows with
    what they show. Otherwise a filter that matches thousands of people reads every one of
    their rows to sort them, for a page of 20."""
    start = (params["page"] - 1) * params["limit"]
    page = queryset[start : start + params["limit"]]
    if rows_of is None:
        rows = list(page)
    else:
        ids = list(page.values_list("pk", flat=True))
        by_id = {row.pk: row for row in rows_of(ids)} if ids else {}
        rows = [by_id[pk] for pk in ids if pk in by_id]
    total = queryset.order_by().count() if params["includeTotalCount"] else None
    return rows, total
