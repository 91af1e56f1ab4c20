"""Which history events have a revert, and what one would restore, read from the event alone
(the revert itself, which needs people and installations, is directory.revert).

The history shows a Revert button on these rows, with what it would restore in the words of
the change log (people.history_lines): a revert's changes are the event's with each value's
``before`` and ``after`` swapped and each list's ``added`` and ``removed`` swapped.
"""

from __future__ import annotations

from typing import Any

from people.fields import STANDARD_FIELDS
from people.history_lines import change_lines
from people.models import Event, EventKind

# Person edits (people.services.person_update records them).
PERSON_KINDS = frozenset(
    {
        EventKind.ATTRIBUTES_CHANGED,
        EventKind.TAGS_CHANGED,
        EventKind.CUSTOM_ATTRIBUTES_CHANGED,
        EventKind.CONTACTS_CHANGED,
        EventKind.PERSON_UPDATED,
    }
)
# Installation edits: the one field each records (installations.services).
INSTALLATION_KINDS = {
    EventKind.PUSH_CHANGED: "registrationEnabled",
    EventKind.PRIMARY_CHANGED: "isPrimary",
}
LIST_FIELDS = ("tags", "phones", "emails")
PERSON_FIELDS = frozenset({*STANDARD_FIELDS, *LIST_FIELDS, "customAttributes"})


def is_diff(change: Any) -> bool:
    return isinstance(change, dict) and bool(change) and set(change) <= {"before", "after"}


def is_revertible(event: Event) -> bool:
    """Whether an event is of a kind whose change can be reverted (its values may still
    conflict): install, launch, personalize, custom events, a person's creation, system data
    and additionalData changes are not."""
    changes = event.changes or {}
    if event.kind in INSTALLATION_KINDS:
        return is_diff(changes.get(INSTALLATION_KINDS[event.kind])) and bool(
            event.push_registration_id
        )
    return event.kind in PERSON_KINDS and bool(changes) and set(changes) <= PERSON_FIELDS


def inverse_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """What reverting ``changes`` would change, in the same shape."""
    inverse: dict[str, Any] = {}
    for key, change in changes.items():
        if is_diff(change):
            inverse[key] = {"before": change.get("after"), "after": change.get("before")}
        elif key in LIST_FIELDS and isinstance(change, dict):
            inverse[key] = {"added": change.get("removed", []), "removed": change.get("added", [])}
        elif isinstance(change, dict):
            inverse[key] = inverse_changes(change)
    return inverse


def revert_lines(event: Event) -> list[str]:
    """What a revert of ``event`` would restore, as change-log lines; none: no revert."""
    if not is_revertible(event):
        return []
    return change_lines(inverse_changes(event.changes))
