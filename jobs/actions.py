"""What a bulk action is to the job engine, and the registry of them.

An action lives in the layer that sees what it changes (populations/actions/) and registers
itself here when its app is ready; the engine (jobs.engine, jobs.tasks) calls it through this
registry only, so this app imports nothing above core.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import DomainError, ErrorCode

# Rows selected by hand for one job (people on the bulk page, installations in Django admin):
# at most the largest search page (100) many times over, and well under the fields a request
# may carry (DATA_UPLOAD_MAX_NUMBER_FIELDS); beyond, "all matching" is the way (a selection
# travels in the request and is stored in the job).
SELECTION_LIMIT = 500


@dataclass(frozen=True)
class JobContext:
    """What an action needs to know of the job it runs for."""

    id: int
    kind: str
    params: dict[str, Any]
    actor_kind: str
    actor_label: str
    actor_user_id: int | None
    source: str
    dry_run: bool = False


@dataclass
class RowOutcome:
    """What happened to one person of a chunk.

    ``changed`` False and no ``error_code``: nothing to do (already so). ``error_code`` set:
    this person failed (a DomainError's code, or ``CHANGED_SINCE`` on undo) and nothing of it
    was written. ``undo``: JSON, what the action's undo needs to put this person back.

    An action on the rows of a file (an import: its chunks hold row numbers) says which row
    (``row``; ``person_id`` is then the person the row created or updated, None when it
    failed before reaching one), whether the row ``created`` its person, and for an error
    the file's ``column`` and the cell's ``value``.
    """

    person_id: int | None
    changed: bool = False
    error_code: str = ""
    message: str = ""
    undo: Any = None
    created: bool = False
    row: int | None = None
    column: str = ""
    value: str = ""


@dataclass
class PreviewRow:
    """One person of the preview's sample: the values the action would change, before and
    after (display text), and the installations it touches."""

    person_id: int
    label: str
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    error: str = ""


class BulkAction(Protocol):
    kind: str  # "tags.add"
    label: str  # "Add tags"
    # The least role that may start it (core.roles: EDITOR or ADMINISTRATOR).
    role: str
    # Whether an undo job can put the people back.
    undoable: bool

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters checked and normalized; a DomainError naming the field otherwise."""
        ...

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        """The ids of the people the query finds, in ascending order."""
        ...

    def apply(self, job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
        """Act on these people, inside the chunk's transaction (the engine rolls it back on a
        dry run). A person that fails is rolled back alone (a savepoint) and reported."""
        ...

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        """Put these people back from what ``apply`` recorded; a person changed since is
        reported with ``CHANGED_SINCE`` and left as it is."""
        ...

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        """Before and after for a sample, written nowhere."""
        ...


_REGISTRY: dict[str, BulkAction] = {}


def register(action: BulkAction) -> BulkAction:
    _REGISTRY[action.kind] = action
    return action


def get(kind: str) -> BulkAction:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise DomainError(ErrorCode.JOB_KIND_UNKNOWN, f"kind: no action named {kind!r}") from None


def all_actions() -> list[BulkAction]:
    return list(_REGISTRY.values())
