"""The history as a change log: the lines that say what one event changed.

An event's ``changes`` (people.models.Event) hold, per field, either its ``before`` and
``after`` or the ``added`` and ``removed`` items of a list (tags, phones, emails); custom
attributes sit one level down under ``customAttributes``; installation, launch, personalize
and custom events record plain values (``application``, ``sessionStart``, ``identity`` ...).
Lists and objects read as the items added and removed ("Added tag VIP"), a changed value as
"City: Zagreb → Split"; values are spelled as JSON spells them (true, false, null), strings as
they are, phones as the page shows them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from people.identities import format_phone

# Names whose words a plain split of the camel case spells badly.
LABELS = {
    "externalId": "External ID",
    "isPrimary": "Primary device",
    "os": "OS",
    "osVersion": "OS version",
    "movedTo": "Moved to person",
    "movedFrom": "Moved from person",
    "definitionId": "Event",
    "notApplied": "Not applied",
    "pushRegistrationId": "Push registration ID",
}
# A list field's items, one word each ("Added tag VIP").
ITEM_NAMES = {"tags": "tag", "phones": "phone", "emails": "email", "installations": "installation"}
# Where the names below are the operator's own (attribute names, additionalData keys,
# custom event properties): shown as they are, not as words.
OWN_NAMES = {"customAttributes", "additionalData", "properties"}
PHONE_KEYS = {"phones", "phone"}


def label(key: str) -> str:
    """A field's name as words: ``firstName`` -> "First name"."""
    if key in LABELS:
        return LABELS[key]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).lower()
    return words[:1].upper() + words[1:]


def value_text(value: Any, *, phone: bool = False) -> str:
    """A value as JSON spells it, but a string as it is (and a phone as the page shows it)."""
    if isinstance(value, str):
        return format_phone(value) if phone else value
    if isinstance(value, dict):
        # By name: PostgreSQL's jsonb keeps no order of its own to show.
        return "(" + ", ".join(f"{k}: {value_text(value[k])}" for k in sorted(value)) + ")"
    return json.dumps(value, ensure_ascii=False, default=str)


def _is_diff(change: Any) -> bool:
    return isinstance(change, dict) and bool(change) and set(change) <= {"before", "after"}


def _is_list_change(change: Any) -> bool:
    return isinstance(change, dict) and bool(change) and set(change) <= {"added", "removed"}


def change_lines(changes: dict[str, Any] | None, *, prefix: str = "") -> list[str]:
    """The lines of one event's ``changes``, in the order they were recorded."""
    lines: list[str] = []
    for key, change in (changes or {}).items():
        if key.startswith("_"):
            continue  # machine data, not a change (a merge's undo record: directory.merge)
        own = prefix in OWN_NAMES
        name = key if own else label(key)
        # Inside a sentence ("Set city to Split"); an own name or an acronym stays as it is.
        mid = name if own or name[1:2].isupper() else name[:1].lower() + name[1:]
        phone = key in PHONE_KEYS
        if _is_list_change(change):
            item = ITEM_NAMES.get(key, f"{mid} item")
            lines += [f"Added {item} {value_text(v, phone=phone)}" for v in change.get("added", [])]
            lines += [
                f"Removed {item} {value_text(v, phone=phone)}" for v in change.get("removed", [])
            ]
        elif _is_diff(change):
            lines += _diff_lines(name, mid, change.get("before"), change.get("after"), phone=phone)
        elif isinstance(change, dict):
            nested = change_lines(change, prefix=key)
            # Custom attributes by their names alone; other objects name their field first.
            lines += nested if key == "customAttributes" else [f"{name} › {n}" for n in nested]
        elif isinstance(change, list):
            shown = ", ".join(value_text(v, phone=phone) for v in change)
            lines.append(f"{name}: {shown or '—'}")
        else:
            lines.append(f"{name}: {value_text(change, phone=phone)}")
    return lines


def _diff_lines(name: str, mid: str, before: Any, after: Any, *, phone: bool = False) -> list[str]:
    if before is not None or after is not None:
        if isinstance(before, list | None) and isinstance(after, list | None):
            return _list_lines(mid, before or [], after or [])
        if isinstance(before, dict | None) and isinstance(after, dict | None):
            return _object_lines(name, mid, before or {}, after or {})
    # An empty text field is stored as "" and read as no value, like null.
    if before is None or before == "":
        return [f"Set {mid} to {value_text(after, phone=phone)}"]
    if after is None or after == "":
        return [f"Cleared {mid} (was {value_text(before, phone=phone)})"]
    return [f"{name}: {value_text(before, phone=phone)} → {value_text(after, phone=phone)}"]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _list_lines(name: str, before: list[Any], after: list[Any]) -> list[str]:
    """A list value (a list-of-objects attribute): the items that came and went."""
    kept = {_key(v) for v in before}
    now = {_key(v) for v in after}
    return [f"Added {name} item {value_text(v)}" for v in after if _key(v) not in kept] + [
        f"Removed {name} item {value_text(v)}" for v in before if _key(v) not in now
    ]


def _object_lines(name: str, mid: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """An object value (an installation's additionalData): its names added, removed, changed."""
    lines = []
    for key, value in sorted(after.items()):
        if key not in before:
            lines.append(f"Added {mid} {key}: {value_text(value)}")
        elif _key(before[key]) != _key(value):
            lines.append(f"{name} {key}: {value_text(before[key])} → {value_text(value)}")
    lines += [
        f"Removed {mid} {key} (was {value_text(value)})"
        for key, value in sorted(before.items())
        if key not in after
    ]
    return lines
