"""Possible duplicates: the person page's panel (loaded after the page, by htmx), the queue
of pairs to work through, and "Not a duplicate" (Editors and Administrators)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.access import edit_required, operator_required
from core.errors import DomainError
from core.roles import can_edit
from directory import duplicates
from people.duplicates import mark_not_duplicate
from people.history import Actor
from people.models import Person


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _panel(request: HttpRequest, person: Person, marked: Person | None = None) -> HttpResponse:
    context = {
        "person": person,
        "marked": marked,
        "candidates": duplicates.candidates(person.pk),
        "can_edit": can_edit(request.user),
    }
    template = "directory/_duplicates.html" if request.htmx else "directory/duplicates_person.html"
    return render(request, template, context)


@operator_required
@require_GET
def person_duplicates(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel of a person's possible duplicates; without htmx, a page of its own (the
    person page's link when scripts do not run)."""
    person = get_object_or_404(Person.objects.only("pk", "first_name", "last_name"), pk=pk)
    return _panel(request, person)


@edit_required
@require_POST
def not_duplicate(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """Remember that two people are not the same person. From the person page's panel: the
    panel again; from the queue: what was done, in place of the row; without htmx: back
    where it was."""
    person = get_object_or_404(Person, pk=pk)
    other_person = get_object_or_404(Person, pk=other)
    try:
        mark_not_duplicate(person=person, other=other_person, actor=Actor.operator(request.user))
    except DomainError as error:
        return HttpResponse(error.message, status=400)
    from_queue = request.POST.get("from") == "queue"
    if request.htmx:
        if from_queue:
            context = {"person": person, "other": other_person}
            return render(request, "directory/_duplicate_pair_marked.html", context)
        return _panel(request, person, marked=other_person)
    if from_queue:
        return redirect(reverse("people:duplicates_queue"))
    return redirect(reverse("people:duplicates", args=[person.pk]))


@operator_required
@require_GET
def duplicates_queue(request: HttpRequest) -> HttpResponse:
    """The pairs found by ``manage.py find_duplicates``, newest first, a page at a time."""
    after = _int_or_none(request.GET.get("after"))
    page = duplicates.queue_page(after)
    context = {"page": page, "after": after, "can_edit": can_edit(request.user)}
    return render(request, "directory/duplicates_queue.html", context)
