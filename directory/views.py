"""Operator pages that join people and installations."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from core.access import delete_required
from core.errors import DomainError
from installations import services as installation_services
from people.models import Person
from people.views import actor_of, person_url


@delete_required
def person_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation that names the person (GET), then the deletion (POST): its installations
    move to fresh anonymous profiles (installations.services.person_delete)."""
    person = get_object_or_404(Person, pk=pk)
    if request.method == "POST":
        name = person.display_name
        try:
            installation_services.person_delete(person=person, actor=actor_of(request))
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(person_url(person))
        messages.success(request, f"Deleted {name} (person {pk}).")
        return redirect("home")
    return render(request, "people/person_delete.html", {"person": person})
