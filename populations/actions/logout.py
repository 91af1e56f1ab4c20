"""Remote logout of everyone a query finds (``installations.logout``): each installation of
theirs (of one application, or all, or only those given: ``installations``, Django admin's
selected rows, the job's people being those who hold them) leaves its person for a fresh
anonymous profile.

It is the person page's remote logout (installations.depersonalize.installation_depersonalize)
for many installations at once, through the same write (``depersonalize_locked``): the same
Depersonalize events on the person left and on the new profile, the installation no longer
primary. The same rule too: an installation alone on an anonymous profile stays there (logging
out an anonymous person's devices one by one moves all but the last). The role is the one
that may log a device out on the person page (Editor).

Not undoable: the device is signed out on its side when it learns of the move, and the fresh
profiles may have been personalized since; putting installations back could not restore that.
The people are locked before their installations, as person_delete locks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from core import roles
from core.errors import DomainError, ErrorCode
from installations.depersonalize import depersonalize_locked
from jobs.actions import JobContext, PreviewRow, RowOutcome, register
from people.models import ContactIdentity, Person
from populations.actions.base import (
    application_id,
    clean_application,
    gone_row,
    installation_label,
    installations_prefetch,
    job_actor,
    lock_installations,
    lock_people,
    missing,
    outcomes_of_errors,
    parameters,
    person_ids,
    preview_people,
    restricted,
    sample,
    unique,
)

ANONYMOUS = "a new anonymous profile"


def leaving(installations: list, matched: set[int], anonymous: bool) -> list:
    """Which of one person's ``installations`` (all of them, in id order) a logout of those
    in ``matched`` moves: all of them, but on an anonymous profile the last that would be
    left alone there."""
    moving = [i for i in installations if i.pk in matched]
    if anonymous and moving and len(moving) == len(installations):
        moving = moving[:-1]
    return moving


def matches(installation, application: int | None, only: set[int] | None) -> bool:
    """Whether a logout of ``application`` (None: all) restricted to ``only`` (None: no
    restriction) moves ``installation`` (but the last on an anonymous profile)."""
    return (application is None or installation.application_id == application) and (
        only is None or installation.pk in only
    )


def locked_leaving(
    people: dict[int, dict[str, Any]], application: int | None, only: set[int] | None = None
) -> list:
    """The installations of these locked people that a logout moves (``leaving``), locked:
    all of theirs are read, to know which one would be the last on an anonymous profile."""
    identified = set(
        ContactIdentity.objects.filter(person_id__in=list(people))
        .values_list("person_id", flat=True)
        .order_by()
        .distinct()
    )
    by_person: dict[int, list] = {}
    for installation in lock_installations(people):
        by_person.setdefault(installation.person_id, []).append(installation)
    moving = []
    for pk, installations in by_person.items():
        matched = {i.pk for i in installations if matches(i, application, only)}
        anonymous = not people[pk]["external_id"] and pk not in identified
        moving += leaving(installations, matched, anonymous)
    return moving


class LogOut:
    kind = "installations.logout"
    label = "Log out devices remotely (cannot be undone)"
    role = roles.EDITOR
    undoable = False

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return restricted(params, {"application": clean_application(parameters(params))})

    def targets(self, query: dict[str, Any]) -> Iterable[int]:
        return person_ids(query)

    def apply(self, job: JobContext, person_ids: Sequence[int]) -> list[RowOutcome]:
        ids = unique(person_ids)
        try:
            with transaction.atomic():
                application = application_id(job.params.get("application"))
                people = lock_people(ids, "external_id")
                only = job.params.get("installations")
                moving = locked_leaving(people, application, None if only is None else set(only))
                # Read before the move: it sets each installation's new person.
                moved = {installation.person_id for installation in moving}
                if moving:
                    depersonalize_locked(moving, job_actor(job))
        except DomainError as error:
            return outcomes_of_errors(ids, error)
        return [
            missing(pk) if pk not in people else RowOutcome(pk, changed=pk in moved) for pk in ids
        ]

    def undo(self, job: JobContext, rows: Sequence[tuple[int, Any]]) -> list[RowOutcome]:
        raise DomainError(ErrorCode.NOT_REVERTIBLE, "A remote logout cannot be undone.", "kind")

    def preview(self, params: dict[str, Any], person_ids: Sequence[int]) -> list[PreviewRow]:
        params = self.clean_params(params)  # as given, or as the job keeps them
        ids = sample(person_ids)
        people = preview_people(
            ids,
            Person.objects.prefetch_related(installations_prefetch(None), "identities"),
        )
        rows = []
        for pk in ids:
            person = people.get(pk)
            if person is None:
                rows.append(gone_row(pk))
                continue
            installations = list(person.installations.all())
            only = params.get("installations")
            matched = {
                i.pk
                for i in installations
                if (params["application"] is None or i.application.code == params["application"])
                and (only is None or i.pk in only)
            }
            moving = leaving(installations, matched, person.is_anonymous)
            rows.append(
                PreviewRow(
                    pk,
                    person.display_name,
                    before={installation_label(i): person.display_name for i in moving},
                    after={installation_label(i): ANONYMOUS for i in moving},
                )
            )
        return rows


register(LogOut())
