"""The range of numbers the portal stores (PostgreSQL's bigint), checked before any conversion."""

from __future__ import annotations

import math
from decimal import Decimal

MAX_NUMBER = 9223372036854775807
MIN_NUMBER = -9223372036854775808
# Digits of MAX_NUMBER: a number with more digits before its point is out of range, which a
# Decimal tells without converting itself (Decimal.adjusted()).
MAX_NUMBER_DIGITS = len(str(MAX_NUMBER))


def number_in_range(value: int | float | Decimal) -> bool:
    """Whether ``value`` is a finite number between MIN_NUMBER and MAX_NUMBER, found without
    converting it: ``int(Decimal("1E+1000000"))`` alone keeps a worker busy for half a minute
    (issue 24, item 2). Every number from outside passes here before anything converts it."""
    if isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() >= MAX_NUMBER_DIGITS:
            return False  # |value| >= 10**19 > MAX_NUMBER: compared below only when short
    elif isinstance(value, float) and not math.isfinite(value):
        return False
    return MIN_NUMBER <= value <= MAX_NUMBER


def integer_text_in_range(text: str) -> bool:
    """Whether whole-number text (digits with an optional sign) is in range, found by counting
    its digits before ``int()`` reads it (past 4300 digits int() raises; below, it is slow)."""
    digits = text.strip().lstrip("+-").lstrip("0")
    if len(digits) > MAX_NUMBER_DIGITS:
        return False
    return MIN_NUMBER <= int(text) <= MAX_NUMBER


def out_of_range_message(name: str) -> str:
    return f"{name} must be between {MIN_NUMBER} and {MAX_NUMBER}."
