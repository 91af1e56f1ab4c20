"""Import and export register with the job engine when the app is ready: an import is an
Editor's and can be undone; an export reads, so every role that reads people may start it,
and there is nothing to undo."""

from __future__ import annotations

from core import roles
from jobs import actions


def test_import_and_export_are_registered_with_their_roles():
    registered = {
        a.kind: (a.role, a.undoable)
        for a in actions.all_actions()
        if type(a).__module__.startswith("transfer.")
    }
    assert registered == {
        "people.import": (roles.EDITOR, True),
        "export": (roles.VIEWER, False),
    }
