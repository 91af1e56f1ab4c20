"""Every bulk action is registered with the job engine when the app is ready, with the role
that may start it and whether it can be undone."""

from __future__ import annotations

import json

import pytest

from core import roles
from core.errors import DomainError, ErrorCode
from jobs import actions
from people import services
from tests.factories import ApplicationFactory

KINDS = {
    "tags.add": (roles.EDITOR, True),
    "tags.remove": (roles.EDITOR, True),
    "attribute.set": (roles.EDITOR, True),
    "attribute.remove": (roles.EDITOR, True),
    "type.change": (roles.EDITOR, True),
    "push.set": (roles.EDITOR, True),
    # The person page's remote logout is an Editor's (installations.views.depersonalize).
    "installations.logout": (roles.EDITOR, False),
    # Deleting a person is an Administrator's (people.delete_person).
    "people.delete": (roles.ADMINISTRATOR, False),
}


def population_actions() -> list:
    """The actions this app registers (transfer registers its own: tests/transfer)."""
    return [a for a in actions.all_actions() if type(a).__module__.startswith("populations.")]


def test_every_action_is_registered_with_its_role_and_undo():
    registered = {a.kind: (a.role, a.undoable) for a in population_actions()}
    assert registered == KINDS
    for action in population_actions():
        assert action.label
        if not action.undoable and getattr(action, "menu", True):
            assert "cannot be undone" in action.label


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_parameters_that_are_no_object_are_refused(db, kind):
    with pytest.raises(DomainError) as caught:
        actions.get(kind).clean_params(["LEAD"])
    assert (caught.value.code, caught.value.field) == (ErrorCode.REQUEST_FORMAT_INVALID, "params")


GIVEN = {
    "tags.add": {"tags": [" VIP ", "vip", "Gold"]},
    "tags.remove": {"tags": ["VIP"]},
    "attribute.set": {"name": "balance", "value": "12.50"},
    "attribute.remove": {"name": "BALANCE"},
    "type.change": {"type": "lead"},
    "push.set": {"enabled": False, "application": "shop"},
    "installations.logout": {"application": ""},
    "people.delete": {"anything": 1},
    "export": {"format": "XLSX", "columns": ["tags", "firstName"]},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_parameters_as_the_job_keeps_them_clean_to_themselves(db, kind):
    """The engine stores clean_params' answer; the preview and every chunk read it again."""
    services.attribute_definition_create(name="Balance", data_type="DECIMAL")
    ApplicationFactory(code="shop")
    action = actions.get(kind)
    cleaned = action.clean_params(GIVEN[kind])
    assert action.clean_params(cleaned) == cleaned
    assert json.loads(json.dumps(cleaned)) == cleaned
