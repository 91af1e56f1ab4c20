"""The floor, and stand-ins for pages that do not exist yet.

The floor is the least a page can do: read one person by primary key and render a tiny
template. The stand-ins call the same domain functions as the real pages would (the search
module, the services), so the bench runs before those pages land; bench/run.py uses the real
pages as soon as they answer.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template import Context, Template
from django.views.decorators.http import require_POST

from directory.search import SearchQuery, search_people
from people.history import Actor
from people.models import Person
from people.profiles import list_people

FLOOR = Template("<p>{{ person.first_name }} {{ person.last_name }}</p>")
RESULTS = Template(
    "<ul>{% for person in page.people %}<li><a href='/person/{{ person.pk }}/'>"
    "{{ person.display_name }}</a> {{ person.type }}"
    "{% for i in person.identities.all %} {{ i.value }}{% endfor %}"
    "{% for t in person.tags.all %} {{ t.name }}{% endfor %}"
    "{% for d in person.installations.all %} {{ d.os }} {{ d.application.name }}{% endfor %}"
    "</li>{% endfor %}</ul>{% if page.next_cursor %}<a href='?after={{ page.next_cursor }}'>"
    "next</a>{% endif %}"
)
PERSON = Template(
    "<h1>{{ person.display_name }}</h1>{% for i in person.identities.all %}{{ i.value }}"
    "{% endfor %}{% for d in person.installations.all %}{{ d.push_registration_id }}"
    "{% endfor %}{% for t in person.tags.all %}{{ t.name }}{% endfor %}"
)


def _query(request: HttpRequest) -> SearchQuery:
    flag = {"yes": True, "no": False}
    return SearchQuery(
        q=request.GET.get("q", ""),
        type=request.GET.get("type") or None,
        tags=[t for t in request.GET.get("tags", "").split(",") if t.strip()],
        application=request.GET.get("app") or None,
        platform=request.GET.get("platform") or None,
        has_primary=flag.get(request.GET.get("primary", "")),
        push_enabled=flag.get(request.GET.get("push", "")),
        attribute=request.GET.get("attribute") or None,
        attribute_value=request.GET.get("value") or None,
        attribute_op=request.GET.get("op") or "eq",
    )


def floor(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person, pk=pk)
    return HttpResponse(FLOOR.render(Context({"person": person})))


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    page = search_people(_query(request))
    return HttpResponse(RESULTS.render(Context({"page": page})))


@login_required
def person_list(request: HttpRequest) -> JsonResponse:
    page = search_people(_query(request), limit=20)
    return JsonResponse(
        {
            "persons": [
                {
                    "id": p.pk,
                    "externalId": p.external_id,
                    "firstName": p.first_name,
                    "lastName": p.last_name,
                    "phones": [i.value for i in p.identities.all() if i.kind == "PHONE"],
                    "emails": [i.value for i in p.identities.all() if i.kind == "EMAIL"],
                    "tags": [t.name for t in p.tags.all()],
                }
                for p in page.people
            ]
        }
    )


@login_required
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(list_people(), pk=pk)
    return HttpResponse(PERSON.render(Context({"person": person})))


@login_required
@require_POST
def set_primary(request: HttpRequest, pk: int) -> HttpResponse:
    from installations import services

    installation = services.Installation.objects.get(pk=pk)
    operation = (
        services.installation_set_primary
        if request.POST.get("is_primary") == "true"
        else services.installation_unset_primary
    )
    operation(installation=installation, actor=Actor.operator(request.user))
    return HttpResponse("ok")


@login_required
@require_POST
def personalize(request: HttpRequest, push_registration_id: str) -> JsonResponse:
    from installations.personalize import installation_personalize

    body = json.loads(request.body)
    person = installation_personalize(
        installation=push_registration_id,
        actor=Actor.operator(request.user),
        identity=body.get("identity"),
        attributes=body.get("attributes"),
    )
    return JsonResponse({"id": person.pk})
