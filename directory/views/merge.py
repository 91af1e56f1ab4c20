"""The merge screen (directory.merge): two people side by side, a choice per differing field,
custom attribute and the primary installation, defaults preselected; its POST merges and goes
to the survivor with a message that has an Undo button. Undo is also on the survivor's history
row of the merge. Editors and Administrators only (viewers: 403)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from core.access import edit_required
from core.errors import DomainError, ErrorCode
from directory.merge import (
    OTHER,
    SIDES,
    SURVIVOR,
    MergeChoices,
    Side,
    default_choices,
    merge,
    read_sides,
)
from directory.merge_undo import undo_merge
from people.fields import STANDARD_FIELDS
from people.history_lines import label, value_text
from people.models import Person
from people.operator_messages import for_operator
from people.views import actor_of, person_url

TEMPLATE = "directory/merge.html"


@edit_required
def merge_people(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """GET: the two people side by side with the defaults; POST: merge ``other`` into
    ``pk`` with the choices made (refused: the screen again with the error, nothing done)."""
    if pk == other:
        raise Http404("A person cannot be merged with itself.")
    if request.method != "POST":
        return render(request, TEMPLATE, screen_context(*_both(pk, other)))
    choices = choices_from_form(request.POST)
    try:
        result = merge(
            survivor_id=pk,
            other_id=other,
            choices=choices,
            actor=actor_of(request),
            expected_versions={
                pk: _int(request.POST.get("survivor_version")),
                other: _int(request.POST.get("other_version")),
            },
        )
    except DomainError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        context = screen_context(*_both(pk, other), choices=choices)
        context["error"] = for_operator(error).message
        status = 409 if error.code == ErrorCode.VERSION_CONFLICT else 400
        return render(request, TEMPLATE, context, status=status)
    undo_url = reverse("people:merge_undo", args=[pk, result.event.pk])
    messages.success(
        request,
        format_html(
            'Merged person {} into {}. <form method="post" action="{}" class="inline">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" class="btn small" data-testid="merge-undo">Undo</button>'
            "</form>",
            other,
            result.person.display_name,
            undo_url,
            get_token(request),
        ),
    )
    return redirect(person_url(pk))


@edit_required
@require_POST
def merge_undo(request: HttpRequest, pk: int, event_pk: int) -> HttpResponse:
    """Undo the merge of event ``event_pk`` (the survivor ``pk``'s): back to the survivor with
    what happened, or the conflicts that refused it (nothing changed)."""
    try:
        result = undo_merge(event_id=event_pk, actor=actor_of(request))
    except DomainError as error:
        if error.code == ErrorCode.NOT_FOUND:
            raise Http404(error.message) from None
        # A conflict's message lists each change since; others read as everywhere.
        conflict = error.code == ErrorCode.REVERT_CONFLICT
        messages.error(request, error.message if conflict else for_operator(error).message)
        return redirect(person_url(pk, "history"))
    messages.success(
        request,
        f"Merge undone: person {result.other.pk} ({result.other.display_name}) is back.",
    )
    return redirect(person_url(pk))


def _both(pk: int, other: int) -> list[Side]:
    """Both people as the screen shows them (404 if either does not exist)."""
    people = {p.pk: p for p in Person.objects.filter(pk__in=(pk, other))}
    if len(people) != 2:
        raise Http404("No such person.")
    return read_sides(people[pk], people[other])


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def choices_from_form(data: Any) -> MergeChoices:
    """The radios: ``field-<name>``, ``attribute-<name>`` (survivor or other), ``primary``."""
    fields = {
        name: data[f"field-{name}"]
        for name in STANDARD_FIELDS
        if data.get(f"field-{name}") in SIDES
    }
    attributes = {
        key.removeprefix("attribute-"): value
        for key, value in data.items()
        if key.startswith("attribute-") and value in SIDES
    }
    primary = data.get("primary")
    return MergeChoices(fields, attributes, primary if isinstance(primary, str) else None)


def _shown(value: Any) -> str:
    return "—" if value in (None, "") else value_text(value)


def screen_context(
    survivor: Side, other: Side, *, choices: MergeChoices | None = None
) -> dict[str, Any]:
    defaults = default_choices(survivor, other)
    chosen = MergeChoices(
        {**defaults.fields, **(choices.fields if choices else {})},
        {**defaults.custom_attributes, **(choices.custom_attributes if choices else {})},
        defaults.primary if choices is None or choices.primary is None else choices.primary,
    )
    fields = [
        _row(
            name,
            label(name),
            survivor.fields[name],
            other.fields[name],
            chosen.fields[name],
            f"field-{name}",
        )
        for name in STANDARD_FIELDS
    ]
    attributes = [
        _row(
            name,
            name,
            survivor.attributes.get(name),
            other.attributes.get(name),
            chosen.custom_attributes[name],
            f"attribute-{name}",
        )
        for name in sorted(chosen.custom_attributes)
    ]
    installations = [
        {"installation": i, "owner": side_name}
        for side_name, side in ((SURVIVOR, survivor), (OTHER, other))
        for i in side.installations
    ]
    return {
        "survivor": survivor,
        "other": other,
        "fields": fields,
        "attributes": attributes,
        "installations": installations,
        "primary": chosen.primary or "",
        "phones": sorted(set(survivor.phones) | set(other.phones)),
        "emails": sorted(set(survivor.emails) | set(other.emails)),
        "tags": sorted(set(survivor.tags.values()) | set(other.tags.values()), key=str.casefold),
        "swap_url": reverse("people:merge", args=[other.person.pk, survivor.person.pk]),
    }


def _row(name: str, title: str, mine: Any, theirs: Any, side: str, input_name: str) -> dict:
    differs = (None if mine == "" else mine) != (None if theirs == "" else theirs)
    return {
        "name": name,
        "label": title,
        "survivor": _shown(mine),
        "other": _shown(theirs),
        "differs": differs,
        "chosen": side,
        "input": input_name,
    }
