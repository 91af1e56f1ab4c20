"""A complete audit trail (issue 8, item 3): every write path says who did it and from where.

The test enumerates the write paths itself, so a new one cannot slip by:

- every URL pattern whose view accepts POST, PUT, PATCH or DELETE (from the URL resolver;
  DRF and class-based views by their handlers, function views by their method decorators,
  an undecorated function view counts as accepting POST), with every admin action;
- every management command of the project's apps.

Each must have an entry in the tables below: a case that performs the write and checks what
it recorded, or an exemption with its reason. Three kinds of record count:

- a history event of the person (people.models.Event) with the actor's label and source;
- for writes that belong to no person's history (a definition, a tag, an application, a
  deleted person), a line in the audit log ``portal.audit`` with actor and source;
- for Django admin writes to tables that are not people (operators, groups, API keys), the
  admin's own log entry (django.contrib.admin LogEntry) naming the administrator.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.core.management import call_command, get_commands
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiKey, ApiKeyRole
from installations.models import Application, Installation
from jobs import actions
from people import event_definitions, services, suppression
from people.history import Actor
from people.models import AttributeDefinition, DataType, Event, Person, Tag
from populations import saved_views
from populations.models import SavedView
from portal.models import OperatorPreference
from privacy import services as privacy_services
from privacy.models import Erasure
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PROJECT_APPS = {
    "core",
    "jobs",
    "people",
    "installations",
    "directory",
    "privacy",
    "populations",
    "transfer",
    "portal",
}

# ---------------------------------------------------------------------------------------------
# Enumerating the write paths


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            assert isinstance(pattern, URLPattern)
            name = f"{namespace}{pattern.name}" if pattern.name else prefix + str(pattern.pattern)
            yield name, pattern.callback


def _write_methods(view: Callable) -> set[str]:
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if view_class is not None:
        return {m.upper() for m in ("post", "put", "patch", "delete") if hasattr(view_class, m)}
    function = view
    while function is not None:
        try:
            names = inspect.getclosurevars(function).nonlocals
        except TypeError:
            names = {}
        if "request_method_list" in names:  # require_POST, require_GET, require_http_methods
            return set(names["request_method_list"]) & WRITE_METHODS
        function = getattr(function, "__wrapped__", None)
    return {"POST"}  # no method decorator: it may write on a POST


def write_paths() -> set[tuple[str, str]]:
    """(route name, method) of every route that accepts a write method."""
    return {
        (name, method)
        for name, view in _walk(get_resolver().url_patterns)
        for method in _write_methods(view)
    }


def admin_actions() -> set[tuple[str, str]]:
    """(model label, action name) of every admin action, as a superuser would see them."""
    request = RequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    return {
        (model._meta.label_lower, action)
        for model, model_admin in admin.site._registry.items()
        for action in model_admin.get_actions(request)
    }


def project_commands() -> set[str]:
    return {name for name, app in get_commands().items() if app in PROJECT_APPS}


# ---------------------------------------------------------------------------------------------
# The world every case writes to


@dataclass
class World:
    editor: Client
    administrator: Client
    administrator_user: User
    api: APIClient
    device: APIClient
    person: Person
    primary: Installation
    second: Installation
    anonymous: Installation
    app: Application
    score: AttributeDefinition
    unused: AttributeDefinition

    def push(self, installation: Installation, suffix: str = "") -> str:
        return f"/people/2/contactInformation/push/{installation.push_registration_id}{suffix}"

    def appinstance(self, installation: Installation, suffix: str = "") -> str:
        return f"/mobile/1/appinstance/{installation.push_registration_id}{suffix}"


@pytest.fixture(autouse=True)
def job_actions(monkeypatch):
    """The job cases register the tests' action (tests/jobs/touch.py) for their test only:
    the registry is a copy that monkeypatch puts back, so no other test finds it."""
    monkeypatch.setattr(actions, "_REGISTRY", dict(actions._REGISTRY))


@pytest.fixture
def world(db, editor, administrator) -> World:
    actor = Actor.system("setup")
    score = services.attribute_definition_create(name="Score", data_type=DataType.INTEGER)
    services.attribute_definition_create(
        name="Cart", data_type=DataType.LIST_OF_OBJECTS, object_schema={"sku": "STRING"}
    )
    unused = services.attribute_definition_create(name="Unused", data_type=DataType.STRING)
    services.tag_create(name="gold")
    person = services.person_create(
        actor=actor,
        fields={"firstName": "Ana", "lastName": "Horvat", "externalId": "crm-1"},
        phones=["+385 91 641 9710"],
        emails=["ana@example.com"],
        tags=["vip"],
        custom_attributes={"Score": 1},
    )
    app = ApplicationFactory(name="Shop", code="shop")
    primary = InstallationFactory(
        person=person, application=app, push_registration_id="push-primary", is_primary=True
    )
    second = InstallationFactory(person=person, application=app, push_registration_id="push-2")
    anonymous = InstallationFactory(application=app, push_registration_id="push-anonymous")
    editor_client, admin_client = Client(), Client()
    editor_client.force_login(editor)
    admin_client.force_login(administrator)
    _, raw = ApiKey.issue(name="audit", role=ApiKeyRole.MANAGE)
    api, device = APIClient(), APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"App {raw}", HTTP_APPCODE="shop")
    device.credentials(HTTP_AUTHORIZATION="App shop")
    return World(
        editor_client,
        admin_client,
        administrator,
        api,
        device,
        person,
        primary,
        second,
        anonymous,
        app,
        score,
        unused,
    )


# ---------------------------------------------------------------------------------------------
# What a write must record


@dataclass(frozen=True)
class Who:
    label: str
    source: str


EDITOR = Who("eddie.editor", "UI")
ADMINISTRATOR_UI = Who("ada.admin", "UI")
ADMINISTRATOR = Who("ada.admin", "ADMIN")
API_KEY = Who("API key audit", "API")
DEVICE = Who("Device of app shop", "DEVICE")


@dataclass(frozen=True)
class Recorded:
    """The write leaves history events by ``who`` (all of them, unless ``only`` is False)."""

    run: Callable[[World], Any]
    who: Who
    only: bool = True


@dataclass(frozen=True)
class Audited:
    """The write leaves an audit log line ``action`` by ``who``."""

    run: Callable[[World], Any]
    action: str
    who: Who


@dataclass(frozen=True)
class AdminLogged:
    """A Django admin write to a table that is not a person: the admin's log entry."""

    run: Callable[[World], Any]


@dataclass(frozen=True)
class Exempt:
    """Writes no person data; ``reason`` says why no record is due. ``probe`` (optional)
    sends the write and checks that nothing was written."""

    reason: str
    probe: Callable[[World], Any] | None = None


def ok(response) -> Any:
    assert response.status_code < 400, (response.status_code, response.content[:1000])
    return response


def refused(response) -> Any:
    assert response.status_code in (403, 405), (response.status_code, response.content[:300])
    return response


def refused_form(response) -> Any:
    """A form sent back with its errors (nothing written)."""
    assert response.status_code == 422, (response.status_code, response.content[:300])
    return response


HTMX = {"HTTP_HX_REQUEST": "true"}
BY_EXTERNAL_ID = "?identifier=crm-1&type=EXTERNAL_ID"
QUERY = {"query": {"identifier": "crm-1", "type": "EXTERNAL_ID"}}


def ui(name: str, world: World, data: dict, *args: Any, client: Client | None = None):
    url = reverse(name, args=args or [world.person.pk])
    return ok((client or world.editor).post(url, data, **HTMX))


def card(name: str, world: World, installation: Installation, data: dict):
    return ok(world.editor.post(reverse(name, args=[installation.pk]), data, **HTMX))


def a_tag_change(world: World) -> Event:
    """A revertible event of the world's person (made by the setup's actor)."""
    services.person_add_tags(person=world.person, actor=Actor.system("setup"), names=["spare"])
    return world.person.events.filter(kind="TAGS_CHANGED").latest("id")


def merge_pair(world: World) -> list[Person]:
    return [world.person, world.anonymous.person]


def merged(world: World) -> Event:
    """The MERGE event of another person merged into the world's person (by the system)."""
    from directory.merge import merge

    other = PersonFactory()
    return merge(
        survivor_id=world.person.pk, other_id=other.pk, choices=None, actor=Actor.system("setup")
    ).event


def pending_erasure(world: World) -> Erasure:
    return privacy_services.request_erasure(
        person_id=world.person.pk, reason="asked", user=world.administrator_user
    )


def suppressed_email(world: World) -> str:
    suppression.suppress([("EMAIL", "gone@example.com")], erasure_id=None)
    return "Gone@Example.com"


def due_erasure(world: World) -> None:
    Erasure.objects.create(
        person_id=world.person.pk,
        reason="asked",
        requested_label="ada.admin",
        due_at=timezone.now() - dt.timedelta(seconds=1),
    )


def a_job(world: World, *, finished: bool = False):
    """A job of the tests' action (tests/jobs/touch.py) on the world's person, started by the
    setup's actor: waiting for the queue, or run to its end here."""
    from jobs import engine, tasks
    from populations.population import selection
    from tests.jobs import touch

    touch.register()
    job = engine.start_job(
        kind=touch.KIND,
        query=selection([world.person.pk]),
        params={"firstName": "Bulk"},
        actor=Actor.system("setup"),
    )
    if finished:
        tasks.plan_job.apply(args=(job.pk,))
        for chunk in job.chunks.all():
            tasks.run_chunk.apply(args=(chunk.pk,))
        job.refresh_from_db()
    return job


def job_body(world: World) -> dict:
    from tests.jobs import touch

    touch.register()
    return {"kind": touch.KIND, "query": {"ids": [world.person.pk]}, "params": {"firstName": "B"}}


def namesake(world: World) -> Person:
    return services.person_create(
        actor=Actor.system("setup"), fields={"firstName": "Ana", "lastName": "Horvat"}
    )


def overview(world: World) -> dict:
    return {
        "version": world.person.version,
        "type": "CUSTOMER",
        "firstName": "Anna",
        "lastName": "Horvat",
        "externalId": "crm-1",
    }


# ---------------------------------------------------------------------------------------------
# Django admin: form data as the browser would send it


def form_data(client: Client, url: str) -> dict[str, Any]:
    """The values of an admin change or add form and its inline formsets, as posted."""
    response = ok(client.get(url))
    data: dict[str, Any] = {}

    def put(form: forms.BaseForm) -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()  # what the widget shows (JSON as text, dates as ISO)
            if field.show_hidden_initial:  # the value the page showed, sent back with it
                shown = field.hidden_widget().format_value(value)
                if shown is not None:
                    data[form[name].html_initial_name] = shown
            if isinstance(field, forms.BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            if isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [str(v) for v in value]
            elif value is not None:
                data[form.add_prefix(name)] = str(value)

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form)
        for form in formset.forms:
            put(form)
    return data


def admin_url(label: str, view: str, *args: Any) -> str:
    return reverse(f"admin:{label.replace('.', '_')}_{view}", args=args)


def new_saved_view(world: World) -> SavedView:
    """A saved view of the editor (eddie.editor), whom the world's editor client is."""
    owner = User.objects.get(username="eddie.editor")
    return saved_views.saved_view_create(
        owner=owner, name=f"View {SavedView.objects.count()}", query=saved_views.SearchQuery()
    )


def view_url(name: str, world: World) -> str:
    return reverse(name, args=[new_saved_view(world).pk])


def admin_add(label: str, values: dict | Callable[[World], dict]) -> Callable[[World], Any]:
    def run(world: World):
        url = admin_url(label, "add")
        given = values(world) if callable(values) else values
        data = {**form_data(world.administrator, url), **given}
        response = world.administrator.post(url, data)
        assert response.status_code == 302, _form_errors(response)

    return run


def admin_change(label: str, target: Callable[[World], Any], values: dict) -> Callable:
    def run(world: World):
        url = admin_url(label, "change", target(world).pk)
        data = {**form_data(world.administrator, url), **values}
        response = world.administrator.post(url, data)
        assert response.status_code == 302, _form_errors(response)

    return run


def admin_delete(label: str, target: Callable[[World], Any]) -> Callable[[World], Any]:
    def run(world: World):
        obj = target(world)
        response = world.administrator.post(admin_url(label, "delete", obj.pk), {"post": "yes"})
        assert response.status_code == 302, response.content[:500]
        assert not type(obj).objects.filter(pk=obj.pk).exists()

    return run


def admin_action(label: str, action: str, targets: Callable[[World], list]) -> Callable:
    def run(world: World):
        objects = targets(world)
        response = world.administrator.post(
            admin_url(label, "changelist"),
            {"action": action, "_selected_action": [o.pk for o in objects], "post": "yes"},
        )
        assert response.status_code == 302, response.content[:500]

    return run


def admin_refused(label: str, view: str, target: Callable[[World], Any] | None = None):
    def probe(world: World):
        args = [target(world).pk] if target else []
        refused(world.administrator.post(admin_url(label, view, *args), {"post": "yes"}))

    return probe


def _form_errors(response) -> Any:
    context = response.context
    if context and "adminform" in context:
        form = context["adminform"].form
        inlines = [f.errors for i in context["inline_admin_formsets"] for f in i.formset.forms]
        return form.errors, inlines
    return response.status_code, response.content[:500]


def new_operator(world: World) -> User:
    return User.objects.create_user("olga.operator", password="correct-horse-battery")


def a_preference(world: World) -> OperatorPreference:
    return OperatorPreference.objects.create(user=new_operator(world), time_zone="Europe/Zagreb")


def new_group(world: World) -> Group:
    return Group.objects.create(name="Night shift")


def new_key(world: World) -> ApiKey:
    return ApiKey.issue(name="old key", role=ApiKeyRole.READ)[0]


def spare_application(world: World) -> Application:
    return Application.objects.get_or_create(code="spare", defaults={"name": "Spare"})[0]


def push_off(installation: Installation) -> Installation:
    Installation.objects.filter(pk=installation.pk).update(registration_enabled=False)
    return installation


def the_person(world: World) -> Person:
    return world.person


def the_phone(world: World):
    return world.person.identities.get(kind="PHONE")


def an_event_definition(world: World):
    return event_definitions.event_definition_create(
        definition_id="opened", title="Opened", actor=Actor.system("setup")
    )


def the_tag(world: World) -> Tag:
    return Tag.objects.get(name="vip")


# ---------------------------------------------------------------------------------------------
# The table: every write path and what it must record

SAVED_VIEW = (
    "a saved view is an operator's own search (a name and a query), no person's data: "
    "nothing is recorded about anyone"
)
IMPORT_START = (
    "starts an import job (or its dry run) and changes nobody itself: the job row names who "
    "started it, and each person the job changes gets a history event with source Import "
    "naming the job (tests/transfer/test_import_rows.py)"
)
EXPORT = (
    "an export reads people: it is on the audit log (portal.audit: who, the query, the "
    "columns and the rows; tests/transfer/test_export_job.py), and a large one is a job that "
    "changes nobody"
)
READ_ONLY_PAGE = "a page that only reads: a POST shows the same page and writes nothing"
OWN_SESSION = (
    "signs an operator in or out, or changes their own password: no person's data; "
    "sign-in attempts are recorded by django-axes (AccessAttempt, AccessLog)"
)
VALUES = "values are edited on the person (custom attributes): this admin only reads (403)"
HISTORY = "history is written by the services only, never by hand: this admin only reads (403)"
JOBS = "jobs are started, cancelled and undone on their pages and the API: this admin only reads"
DUPLICATES = (
    "pairs said not to be duplicates are written by the person page and the duplicates queue "
    "(audited there), the queue by find_duplicates: this admin only reads (403)"
)
PRIVACY_RECORDS = (
    "erasure requests and access records are written by the privacy services (the person "
    "page, the API, run_erasures) and never by hand: this admin only reads (403)"
)
ROLES = (
    "the role groups are kept by the migrations and the role field of an operator: "
    "Administrators may not edit raw groups (403)"
)
LEGACY_REDIRECT = "Django admin's old change URL: a redirect to the change page, writes nothing"
AXES = (
    "django-axes' records of sign-in attempts, not people: written by sign-ins only; "
    "the admin reads and clears them, and Django admin logs every deletion"
)

WRITE_PATHS: dict[tuple[str, str], Recorded | Audited | AdminLogged | Exempt] = {
    # Operator UI: the person page
    ("people:create", "POST"): Recorded(
        lambda w: ok(
            w.editor.post(
                reverse("people:create"), {"type": "CUSTOMER", "firstName": "Nova", "lastName": "X"}
            )
        ),
        EDITOR,
    ),
    ("people:delete", "POST"): Audited(
        lambda w: ok(w.administrator.post(reverse("people:delete", args=[w.person.pk]))),
        "person deleted",
        ADMINISTRATOR_UI,
    ),
    # Merge two people (directory.merge): the MERGE event, then the undo's events
    ("people:merge", "POST"): Recorded(
        lambda w: ok(
            w.editor.post(reverse("people:merge", args=[w.person.pk, PersonFactory().pk]))
        ),
        EDITOR,
    ),
    ("people:merge_undo", "POST"): Recorded(
        lambda w: ok(w.editor.post(reverse("people:merge_undo", args=[w.person.pk, merged(w).pk]))),
        EDITOR,
        only=False,
    ),
    ("api-persons-merge", "POST"): Recorded(
        lambda w: ok(
            w.api.post(
                "/people/2/persons/merge",
                {"survivorId": w.person.pk, "otherId": PersonFactory().pk},
                format="json",
            )
        ),
        API_KEY,
    ),
    ("api-merge-undo", "POST"): Recorded(
        lambda w: ok(w.api.post(f"/people/2/merges/{merged(w).pk}/undo")), API_KEY, only=False
    ),
    # Jobs: started, cancelled and undone (the people a job changes get events of their own)
    ("populations:job_cancel", "POST"): Audited(
        lambda w: ok(w.editor.post(reverse("populations:job_cancel", args=[a_job(w).pk]))),
        "job cancelled",
        EDITOR,
    ),
    ("populations:job_undo", "POST"): Audited(
        lambda w: ok(
            w.editor.post(reverse("populations:job_undo", args=[a_job(w, finished=True).pk]))
        ),
        "job undone",
        EDITOR,
    ),
    ("api-jobs", "POST"): Audited(
        lambda w: ok(w.api.post("/people/2/jobs", job_body(w), format="json")),
        "job started",
        API_KEY,
    ),
    ("api-job-cancel", "POST"): Audited(
        lambda w: ok(w.api.post(f"/people/2/jobs/{a_job(w).pk}/cancel")), "job cancelled", API_KEY
    ),
    ("api-job-undo", "POST"): Audited(
        lambda w: ok(w.api.post(f"/people/2/jobs/{a_job(w, finished=True).pk}/undo")),
        "job undone",
        API_KEY,
    ),
    # Privacy: the access bundle, erasure requests, suppressions lifted
    ("people:export", "POST"): Audited(
        lambda w: ok(w.editor.post(reverse("people:export", args=[w.person.pk]))),
        "person data exported",
        EDITOR,
    ),
    ("people:erasure_request", "POST"): Audited(
        lambda w: ok(
            w.administrator.post(
                reverse("people:erasure_request", args=[w.person.pk]), {"reason": "asked"}
            )
        ),
        "erasure requested",
        ADMINISTRATOR_UI,
    ),
    ("people:erasure_cancel", "POST"): Audited(
        lambda w: ok(
            w.administrator.post(reverse("people:erasure_cancel", args=[pending_erasure(w).pk]))
        ),
        "erasure cancelled",
        ADMINISTRATOR_UI,
    ),
    ("people:erase_population", "POST"): Audited(
        lambda w: ok(
            w.administrator.post(
                reverse("people:erase_population"), {"query": "q=crm-1", "reason": "asked"}
            )
        ),
        "erasures requested",
        ADMINISTRATOR_UI,
    ),
    ("people:reveal", "POST"): Audited(
        lambda w: ok(
            w.editor.post(
                reverse("people:reveal", args=[w.person.pk]),
                {"kind": "externalId", "reason": "asked"},
                **HTMX,
            )
        ),
        "personal data revealed",
        EDITOR,
    ),
    ("people:event_revert", "POST"): Recorded(
        lambda w: ok(
            w.editor.post(
                reverse("people:event_revert", args=[w.person.pk, a_tag_change(w).pk]), {}, **HTMX
            )
        ),
        EDITOR,
        only=False,
    ),
    ("people:suppression_lift", "POST"): Audited(
        lambda w: ok(
            w.administrator.post(
                reverse("people:suppression_lift"),
                {"kind": "EMAIL", "value": suppressed_email(w), "reason": "asked"},
            )
        ),
        "suppression lifted",
        ADMINISTRATOR_UI,
    ),
    # Possible duplicates: a pair said not to be duplicates
    ("people:not_duplicate", "POST"): Audited(
        lambda w: ok(
            w.editor.post(reverse("people:not_duplicate", args=[w.person.pk, namesake(w).pk]))
        ),
        "marked not a duplicate",
        EDITOR,
    ),
    ("people:overview", "POST"): Recorded(lambda w: ui("people:overview", w, overview(w)), EDITOR),
    ("people:identity_add", "POST"): Recorded(
        lambda w: ui("people:identity_add", w, {"kind": "phone", "value": "+385 91 641 9799"}),
        EDITOR,
    ),
    ("people:identity_remove", "POST"): Recorded(
        lambda w: ui("people:identity_remove", w, {"kind": "email", "value": "ana@example.com"}),
        EDITOR,
    ),
    ("people:tags_add", "POST"): Recorded(
        lambda w: ui("people:tags_add", w, {"name": "new, gold"}), EDITOR
    ),
    ("people:tags_remove", "POST"): Recorded(
        lambda w: ui("people:tags_remove", w, {"name": "vip"}), EDITOR
    ),
    ("people:attribute_set", "POST"): Recorded(
        lambda w: ui("people:attribute_set", w, {"value": "7"}, w.person.pk, w.score.pk), EDITOR
    ),
    ("people:attribute_remove", "POST"): Recorded(
        lambda w: ui("people:attribute_remove", w, {}, w.person.pk, w.score.pk), EDITOR
    ),
    # Operator UI: installation cards
    ("installations:set_primary", "POST"): Recorded(
        lambda w: card("installations:set_primary", w, w.second, {"is_primary": "true"}), EDITOR
    ),
    ("installations:set_push", "POST"): Recorded(
        lambda w: card("installations:set_push", w, w.second, {"enabled": "false"}), EDITOR
    ),
    ("installations:set_additional_data", "POST"): Recorded(
        lambda w: card(
            "installations:set_additional_data", w, w.second, {"additional_data": '{"tier": 2}'}
        ),
        EDITOR,
    ),
    ("installations:depersonalize", "POST"): Recorded(
        lambda w: card("installations:depersonalize", w, w.second, {}), EDITOR
    ),
    # The operator shell
    ("home", "POST"): Exempt(
        "the search page: it only reads, and refuses a POST (405)",
        lambda w: refused(w.editor.post(reverse("home"), {"q": "x"})),
    ),
    # Bulk actions started from the search page (populations.views.bulk)
    ("populations:bulk_preview", "POST"): Exempt(
        "a preview: it counts the population and asks the action for a sample's before and "
        "after, and writes nothing",
        lambda w: w.editor.post(
            reverse("populations:bulk_preview"),
            {"ids": w.person.pk, "all": "", "action": "tags.add", "tags": "gold"},
        ),
    ),
    ("populations:bulk_start", "POST"): Exempt(
        "starts a job and changes nobody itself: the job row names who started it (actor, "
        "source), and each person the job changes gets a history event naming the job "
        "(Event.job), written by the job engine; a start the form refuses writes nothing",
        lambda w: refused_form(
            w.editor.post(reverse("populations:bulk_start"), {"action": "tags.add"})
        ),
    ),
    # Import and export (transfer)
    ("transfer:import_upload", "POST"): Exempt(
        "stores an uploaded file's rows for its mapping page: no person changes; the job "
        "started from that page records its own events"
    ),
    ("transfer:import_mapping", "POST"): Exempt(IMPORT_START),
    ("api-imports", "POST"): Exempt(IMPORT_START),
    ("transfer:export", "POST"): Exempt(EXPORT),
    ("api-exports", "POST"): Exempt(EXPORT),
    ("login", "POST"): Exempt(OWN_SESSION),
    ("login", "PUT"): Exempt(OWN_SESSION),
    ("logout", "POST"): Exempt(OWN_SESSION),
    ("preferences", "POST"): Exempt(
        "an operator's own display preference (the time zone times are shown in): no person "
        "data, nothing recorded about anyone",
        lambda w: ok(w.editor.post(reverse("preferences"), {"time_zone": "Asia/Tokyo"})),
    ),
    # Saved views: an operator's own searches, no person's data
    ("populations:save", "POST"): Exempt(
        SAVED_VIEW,
        lambda w: ok(w.editor.post(reverse("populations:save"), {"name": "Mine", "q": "x"})),
    ),
    ("populations:edit", "POST"): Exempt(
        SAVED_VIEW,
        lambda w: ok(w.editor.post(view_url("populations:edit", w), {"name": "Renamed"})),
    ),
    ("populations:share", "POST"): Exempt(
        SAVED_VIEW,
        lambda w: ok(w.editor.post(view_url("populations:share", w), {"roles": ["Viewer"]})),
    ),
    ("populations:delete", "POST"): Exempt(
        SAVED_VIEW, lambda w: ok(w.editor.post(view_url("populations:delete", w)))
    ),
    # People API
    ("api-persons", "POST"): Recorded(
        lambda w: ok(w.api.post("/people/2/persons", {"firstName": "Nova"}, format="json")),
        API_KEY,
    ),
    ("api-event-revert", "POST"): Recorded(
        lambda w: ok(w.api.post(f"/people/2/events/{a_tag_change(w).pk}/revert")),
        API_KEY,
        only=False,
    ),
    ("api-persons-data-export", "POST"): Audited(
        lambda w: ok(w.api.post("/people/2/persons/dataExport" + BY_EXTERNAL_ID)),
        "person data exported",
        API_KEY,
    ),
    ("api-persons", "PUT"): Recorded(
        lambda w: ok(
            w.api.put(
                "/people/2/persons" + BY_EXTERNAL_ID,
                {"externalId": "crm-1", "firstName": "Put"},
                format="json",
            )
        ),
        API_KEY,
    ),
    ("api-persons", "PATCH"): Recorded(
        lambda w: ok(
            w.api.patch("/people/2/persons" + BY_EXTERNAL_ID, {"city": "Split"}, format="json")
        ),
        API_KEY,
    ),
    ("api-persons", "DELETE"): Audited(
        lambda w: ok(w.api.delete("/people/2/persons" + BY_EXTERNAL_ID)),
        "person deleted",
        API_KEY,
    ),
    ("api-contact-information", "PUT"): Recorded(
        lambda w: ok(
            w.api.put(
                "/people/2/persons/contactInformation" + BY_EXTERNAL_ID,
                {"contactInformation": {"phone": [{"number": "+385 91 641 9799"}]}},
                format="json",
            )
        ),
        API_KEY,
    ),
    ("api-contact-information", "PATCH"): Recorded(
        lambda w: ok(
            w.api.patch(
                "/people/2/persons/contactInformation" + BY_EXTERNAL_ID,
                {"contactInformation": {"email": [{"address": "second@example.com"}]}},
                format="json",
            )
        ),
        API_KEY,
    ),
    ("api-contact-information", "DELETE"): Recorded(
        lambda w: ok(
            w.api.delete(
                "/people/2/persons/contactInformation" + BY_EXTERNAL_ID,
                {"contactInformation": {"email": [{"address": "ana@example.com"}]}},
                format="json",
            )
        ),
        API_KEY,
    ),
    ("api-persons-batch", "POST"): Recorded(
        lambda w: ok(
            w.api.post("/people/2/persons/batch", {"people": [{"firstName": "B"}]}, format="json")
        ),
        API_KEY,
    ),
    ("api-persons-batch", "PATCH"): Recorded(
        lambda w: ok(
            w.api.patch(
                "/people/2/persons/batch",
                {"people": [{**QUERY, "update": {"city": "Pula"}}]},
                format="json",
            )
        ),
        API_KEY,
    ),
    ("api-persons-batch", "DELETE"): Audited(
        lambda w: ok(w.api.delete("/people/2/persons/batch", {"people": [QUERY]}, format="json")),
        "person deleted",
        API_KEY,
    ),
    ("api-persons-match", "POST"): Exempt(
        "a read sent as POST (the identities to match are in the body)",
        lambda w: ok(
            w.api.post(
                "/people/2/persons/match",
                {"identities": [{"identifier": "crm-1", "type": "EXTERNAL_ID"}]},
                format="json",
            )
        ),
    ),
    ("api-tags", "POST"): Audited(
        lambda w: ok(w.api.post("/people/2/tags", {"name": "fresh"}, format="json")),
        "tag created",
        API_KEY,
    ),
    ("api-tag", "DELETE"): Audited(
        lambda w: ok(w.api.delete("/people/2/tags/vip")), "tag deleted", API_KEY
    ),
    ("api-tag-persons", "PATCH"): Recorded(
        lambda w: ok(
            w.api.patch("/people/2/tags/gold/persons", {"people": [QUERY]}, format="json")
        ),
        API_KEY,
    ),
    ("api-tag-persons", "DELETE"): Recorded(
        lambda w: ok(
            w.api.delete("/people/2/tags/vip/persons", {"people": [QUERY]}, format="json")
        ),
        API_KEY,
    ),
    ("api-custom-attributes", "POST"): Audited(
        lambda w: ok(
            w.api.post(
                "/people/2/customAttributes", {"name": "Fresh", "dataType": "STRING"}, format="json"
            )
        ),
        "custom attribute defined",
        API_KEY,
    ),
    ("api-custom-attribute", "DELETE"): Audited(
        lambda w: ok(w.api.delete("/people/2/customAttributes/Unused")),
        "custom attribute deleted",
        API_KEY,
    ),
    ("api-custom-attribute-append", "POST"): Recorded(
        lambda w: ok(
            w.api.post(
                "/people/2/customAttributes/Cart/append" + BY_EXTERNAL_ID,
                {"sku": "a"},
                format="json",
            )
        ),
        API_KEY,
    ),
    # Push API
    ("api-push-registration", "PATCH"): Recorded(
        lambda w: ok(w.api.patch(w.push(w.second), {"isPrimary": True}, format="json")), API_KEY
    ),
    ("api-push-personalize", "POST"): Recorded(
        lambda w: ok(
            w.api.post(
                w.push(w.anonymous, "/personalize"),
                {"identity": {"externalId": "crm-new"}},
                format="json",
            )
        ),
        API_KEY,
    ),
    ("api-push-depersonalize", "POST"): Recorded(
        lambda w: ok(w.api.post(w.push(w.primary, "/depersonalize"))), API_KEY
    ),
    # Device API
    ("device-register", "POST"): Recorded(
        lambda w: ok(w.device.post("/mobile/1/appinstance", {"pushRegId": "new"}, format="json")),
        DEVICE,
    ),
    ("device-installation", "PATCH"): Recorded(
        lambda w: ok(w.device.patch(w.appinstance(w.second), {"isPrimary": True}, format="json")),
        DEVICE,
    ),
    ("device-installation", "DELETE"): Recorded(
        lambda w: ok(w.device.delete(w.appinstance(w.second))), DEVICE
    ),
    ("device-personalize", "POST"): Recorded(
        lambda w: ok(
            w.device.post(
                w.appinstance(w.anonymous, "/personalize"),
                {"userIdentity": {"externalUserId": "crm-device"}},
                format="json",
            )
        ),
        DEVICE,
    ),
    ("device-depersonalize", "POST"): Recorded(
        lambda w: ok(w.device.post(w.appinstance(w.primary, "/depersonalize"))), DEVICE
    ),
    ("device-repersonalize", "POST"): Recorded(
        lambda w: ok(
            w.device.post(
                w.appinstance(w.anonymous, "/repersonalize"),
                {"userIdentity": {"externalUserId": "crm-again"}},
                format="json",
            )
        ),
        DEVICE,
    ),
    ("device-user", "PATCH"): Recorded(
        lambda w: ok(
            w.device.patch(w.appinstance(w.anonymous, "/user"), {"firstName": "Dev"}, format="json")
        ),
        DEVICE,
    ),
    ("device-user-sessions", "POST"): Recorded(
        lambda w: ok(
            w.device.post(
                w.appinstance(w.second, "/user/events/session"),
                {"sessionStarts": ["2024-05-17T10:00:00Z"], "systemData": {"appVersion": "9"}},
                format="json",
            )
        ),
        DEVICE,
    ),
    ("device-user-custom-events", "POST"): Recorded(
        lambda w: (
            event_definitions.event_definition_create(
                definition_id="opened", title="Opened", actor=Actor.system("setup")
            ),
            ok(
                w.device.post(
                    w.appinstance(w.second, "/user/events/custom") + "?validate=true",
                    {"events": [{"definitionId": "opened", "properties": {}}]},
                    format="json",
                )
            ),
        ),
        DEVICE,
    ),
    # Custom event definitions (the vendor's /peopleevents/2/)
    ("api-event-definitions", "POST"): Audited(
        lambda w: ok(
            w.api.post(
                "/peopleevents/2/definitions",
                {"definitionId": "opened", "title": "Opened"},
                format="json",
            )
        ),
        "event definition created",
        API_KEY,
    ),
    ("api-event-definition", "POST"): Audited(
        lambda w: (
            event_definitions.event_definition_create(
                definition_id="opened", title="Opened", actor=Actor.system("setup")
            ),
            ok(w.api.post("/peopleevents/2/definitions/opened", {"title": "Open"}, format="json")),
        ),
        "event definition changed",
        API_KEY,
    ),
    # Django admin: the site's own pages
    ("admin:index", "POST"): Exempt(READ_ONLY_PAGE),
    ("admin:app_list", "POST"): Exempt(READ_ONLY_PAGE),
    ("admin:jsi18n", "POST"): Exempt(READ_ONLY_PAGE),
    ("admin:autocomplete", "POST"): Exempt(READ_ONLY_PAGE),
    ("admin:view_on_site", "POST"): Exempt(READ_ONLY_PAGE),
    ("admin:password_change_done", "POST"): Exempt(READ_ONLY_PAGE),
    ("admin/(?P<url>.*)$", "POST"): Exempt("the admin's catch-all: a 404 or a redirect"),
    ("admin:login", "POST"): Exempt(OWN_SESSION),
    ("admin:logout", "POST"): Exempt(OWN_SESSION),
    ("admin:password_change", "POST"): Exempt(OWN_SESSION),
    ("admin:auth_user_password_change", "POST"): AdminLogged(
        lambda w: ok(
            w.administrator.post(
                reverse("admin:auth_user_password_change", args=[new_operator(w).pk]),
                {
                    "usable_password": "true",
                    "password1": "another-horse-battery",
                    "password2": "another-horse-battery",
                },
            )
        )
    ),
}

# Django admin, per model: add, change and delete (the changelist's POST runs the actions,
# covered one by one in ADMIN_ACTIONS; the history page only reads).
PERSON = "people.person"
IDENTITY = "people.contactidentity"
TAG = "people.tag"
DEFINITION = "people.attributedefinition"
EVENT_DEFINITION = "people.customeventdefinition"
INSTALLATION = "installations.installation"
APPLICATION = "installations.application"

ADMIN_VIEWS: dict[str, dict[str, Recorded | Audited | AdminLogged | Exempt]] = {
    PERSON: {
        "add": Recorded(
            admin_add(
                PERSON,
                {
                    "type": "CUSTOMER",
                    "first_name": "Nova",
                    "custom_attributes_text": "{}",
                    "identities-0-kind": "PHONE",
                    "identities-0-value": "+385 91 641 9799",
                },
            ),
            ADMINISTRATOR,
        ),
        "change": Recorded(admin_change(PERSON, the_person, {"city": "Split"}), ADMINISTRATOR),
        "delete": Audited(admin_delete(PERSON, the_person), "person deleted", ADMINISTRATOR),
    },
    IDENTITY: {
        "add": Recorded(
            admin_add(
                IDENTITY,
                lambda w: {"person": w.person.pk, "kind": "EMAIL", "value": "new@example.com"},
            ),
            ADMINISTRATOR,
        ),
        "change": Exempt(
            "a phone or email is added or removed, never rewritten: the admin refuses (403)",
            admin_refused(IDENTITY, "change", the_phone),
        ),
        "delete": Recorded(admin_delete(IDENTITY, the_phone), ADMINISTRATOR),
    },
    TAG: {
        "add": Audited(admin_add(TAG, {"name": "fresh"}), "tag created", ADMINISTRATOR),
        "change": Exempt("a tag is never renamed: the change form has no editable field"),
        "delete": Audited(admin_delete(TAG, the_tag), "tag deleted", ADMINISTRATOR),
    },
    DEFINITION: {
        "add": Audited(
            admin_add(DEFINITION, {"name": "Fresh", "data_type": "STRING", "object_schema": ""}),
            "custom attribute defined",
            ADMINISTRATOR,
        ),
        "change": Audited(
            admin_change(DEFINITION, lambda w: w.unused, {"description": "Not used yet"}),
            "custom attribute changed",
            ADMINISTRATOR,
        ),
        "delete": Audited(
            admin_delete(DEFINITION, lambda w: w.unused), "custom attribute deleted", ADMINISTRATOR
        ),
    },
    EVENT_DEFINITION: {
        "add": Audited(
            admin_add(
                EVENT_DEFINITION,
                {"definition_id": "fresh", "title": "Fresh", "description": "", "fields": "[]"},
            ),
            "event definition created",
            ADMINISTRATOR,
        ),
        "change": Audited(
            admin_change(EVENT_DEFINITION, an_event_definition, {"title": "Renamed"}),
            "event definition changed",
            ADMINISTRATOR,
        ),
        "delete": Exempt(
            "an event definition stays with the events recorded of it: the admin refuses (403)",
            admin_refused(EVENT_DEFINITION, "delete", an_event_definition),
        ),
    },
    "jobs.job": {
        "add": Exempt(JOBS, admin_refused("jobs.job", "add")),
        "change": Exempt(JOBS),
        "delete": Exempt(JOBS),
    },
    "people.attributevalue": {
        "add": Exempt(VALUES, admin_refused("people.attributevalue", "add")),
        "change": Exempt(VALUES),
        "delete": Exempt(VALUES),
    },
    "people.notduplicate": {
        "add": Exempt(DUPLICATES, admin_refused("people.notduplicate", "add")),
        "change": Exempt(DUPLICATES),
        "delete": Exempt(DUPLICATES),
    },
    "people.duplicatepair": {
        "add": Exempt(DUPLICATES, admin_refused("people.duplicatepair", "add")),
        "change": Exempt(DUPLICATES),
        "delete": Exempt(DUPLICATES),
    },
    "people.event": {
        "add": Exempt(HISTORY, admin_refused("people.event", "add")),
        "change": Exempt(HISTORY),
        "delete": Exempt(HISTORY),
    },
    INSTALLATION: {
        "add": Exempt(
            "installations come from devices (registration): the admin refuses (403)",
            admin_refused(INSTALLATION, "add"),
        ),
        "change": Recorded(
            admin_change(INSTALLATION, lambda w: w.second, {"registration_enabled": ""}),
            ADMINISTRATOR,
        ),
        "delete": Recorded(admin_delete(INSTALLATION, lambda w: w.second), ADMINISTRATOR),
    },
    APPLICATION: {
        "add": Audited(
            admin_add(APPLICATION, {"name": "Wallet", "code": "wallet"}),
            "application created",
            ADMINISTRATOR,
        ),
        "change": Exempt("an application's name and code never change: no editable field"),
        "delete": AdminLogged(admin_delete(APPLICATION, spare_application)),
    },
    "core.apikey": {
        "add": AdminLogged(admin_add("core.apikey", {"name": "new key", "role": "read"})),
        "change": Exempt("a key keeps what it was issued with: no editable field"),
        "delete": AdminLogged(admin_delete("core.apikey", new_key)),
    },
    "auth.user": {
        "add": AdminLogged(
            admin_add(
                "auth.user",
                {
                    "username": "olga.operator",
                    "role": "viewer",
                    "usable_password": "true",
                    "password1": "another-horse-battery",
                    "password2": "another-horse-battery",
                },
            )
        ),
        "change": AdminLogged(admin_change("auth.user", new_operator, {"first_name": "Olga"})),
        "delete": AdminLogged(admin_delete("auth.user", new_operator)),
    },
    "auth.group": {
        "add": Exempt(ROLES, admin_refused("auth.group", "add")),
        "change": Exempt(ROLES, admin_refused("auth.group", "change", new_group)),
        "delete": Exempt(ROLES, admin_refused("auth.group", "delete", new_group)),
    },
    "populations.savedview": {
        "add": AdminLogged(
            admin_add(
                "populations.savedview",
                lambda w: {
                    "name": "Team view",
                    "owner": str(w.administrator_user.pk),
                    "query": '{"type": "LEAD"}',
                },
            )
        ),
        "change": AdminLogged(
            admin_change("populations.savedview", new_saved_view, {"name": "Renamed"})
        ),
        "delete": AdminLogged(admin_delete("populations.savedview", new_saved_view)),
    },
    "portal.operatorpreference": {
        "add": AdminLogged(
            admin_add(
                "portal.operatorpreference",
                lambda w: {"user": str(new_operator(w).pk), "time_zone": "Europe/Zagreb"},
            )
        ),
        "change": AdminLogged(
            admin_change("portal.operatorpreference", a_preference, {"time_zone": "Asia/Tokyo"})
        ),
        "delete": AdminLogged(admin_delete("portal.operatorpreference", a_preference)),
    },
    "privacy.erasure": {
        "add": Exempt(PRIVACY_RECORDS, admin_refused("privacy.erasure", "add")),
        "change": Exempt(PRIVACY_RECORDS),
        "delete": Exempt(PRIVACY_RECORDS),
    },
    "privacy.accessrecord": {
        "add": Exempt(PRIVACY_RECORDS, admin_refused("privacy.accessrecord", "add")),
        "change": Exempt(PRIVACY_RECORDS),
        "delete": Exempt(PRIVACY_RECORDS),
    },
    "axes.accessattempt": dict.fromkeys(("add", "change", "delete"), Exempt(AXES)),
    "axes.accesslog": dict.fromkeys(("add", "change", "delete"), Exempt(AXES)),
    "axes.accessfailurelog": dict.fromkeys(("add", "change", "delete"), Exempt(AXES)),
}


def _installations(world: World) -> list[Installation]:
    return [world.primary, world.second]


ADMIN_ACTIONS: dict[tuple[str, str], Recorded | Audited | AdminLogged | Exempt] = {
    (PERSON, "merge_selected"): Exempt(
        "leads to the merge screen for the two selected people and writes nothing itself: the "
        "screen's merge is the case people:merge",
        lambda w: admin_action(PERSON, "merge_selected", merge_pair)(w),
    ),
    **{
        (PERSON, action): Exempt(
            "leads to the console's bulk page for the selected people and writes nothing "
            "itself: the page starts the job (populations:bulk_start)",
            lambda w, action=action: admin_action(PERSON, action, lambda w: [w.person])(w),
        )
        for action in (
            "add_tags",
            "remove_tags",
            "set_attribute",
            "change_type",
            "set_push",
            "remote_logout",
            "delete_as_job",
        )
    },
    (IDENTITY, "delete_selected"): Recorded(
        admin_action(IDENTITY, "delete_selected", lambda w: [the_phone(w)]), ADMINISTRATOR
    ),
    (TAG, "delete_selected"): Audited(
        admin_action(TAG, "delete_selected", lambda w: [the_tag(w)]), "tag deleted", ADMINISTRATOR
    ),
    (DEFINITION, "delete_selected"): Audited(
        admin_action(DEFINITION, "delete_selected", lambda w: [w.unused]),
        "custom attribute deleted",
        ADMINISTRATOR,
    ),
    (INSTALLATION, "delete_selected"): Recorded(
        admin_action(INSTALLATION, "delete_selected", lambda w: [w.second]), ADMINISTRATOR
    ),
    (INSTALLATION, "make_primary"): Recorded(
        admin_action(INSTALLATION, "make_primary", lambda w: [w.second]), ADMINISTRATOR
    ),
    (INSTALLATION, "unset_primary"): Recorded(
        admin_action(INSTALLATION, "unset_primary", lambda w: [w.primary]), ADMINISTRATOR
    ),
    (INSTALLATION, "remote_logout"): Audited(
        admin_action(INSTALLATION, "remote_logout", _installations), "job started", ADMINISTRATOR
    ),
    (INSTALLATION, "push_on"): Audited(
        admin_action(INSTALLATION, "push_on", lambda w: [push_off(w.second)]),
        "job started",
        ADMINISTRATOR,
    ),
    (INSTALLATION, "push_off"): Audited(
        admin_action(INSTALLATION, "push_off", _installations), "job started", ADMINISTRATOR
    ),
    (APPLICATION, "delete_selected"): AdminLogged(
        admin_action(APPLICATION, "delete_selected", lambda w: [spare_application(w)])
    ),
    ("core.apikey", "delete_selected"): AdminLogged(
        admin_action("core.apikey", "delete_selected", lambda w: [new_key(w)])
    ),
    ("core.apikey", "revoke"): AdminLogged(
        admin_action("core.apikey", "revoke", lambda w: [new_key(w)])
    ),
    ("auth.user", "delete_selected"): AdminLogged(
        admin_action("auth.user", "delete_selected", lambda w: [new_operator(w)])
    ),
    ("auth.group", "delete_selected"): Exempt(ROLES),
    ("populations.savedview", "delete_selected"): AdminLogged(
        admin_action("populations.savedview", "delete_selected", lambda w: [new_saved_view(w)])
    ),
    ("portal.operatorpreference", "delete_selected"): AdminLogged(
        admin_action("portal.operatorpreference", "delete_selected", lambda w: [a_preference(w)])
    ),
    ("axes.accessattempt", "delete_selected"): Exempt(AXES),
    ("axes.accessattempt", "cleanup_expired_attempts"): Exempt(AXES),
    ("axes.accesslog", "delete_selected"): Exempt(AXES),
    ("axes.accessfailurelog", "delete_selected"): Exempt(AXES),
}


def _command(name: str, *args: str, **options: Any) -> Callable[[World], Any]:
    return lambda world: call_command(name, *args, stdout=_Sink(), stderr=_Sink(), **options)


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def command(name: str) -> Who:
    return Who(f"manage.py {name}", "COMMAND")


COMMANDS: dict[str, Recorded | Audited | Exempt] = {
    # The demo devices' registrations are recorded as theirs; the rest as the command's.
    "seed_demo": Recorded(
        _command("seed_demo", persons=4), Who("seed_demo", "COMMAND"), only=False
    ),
    "create_application": Audited(
        _command("create_application", "Kiosk", code="kiosk"),
        "application created",
        command("create_application"),
    ),
    "create_api_key": Audited(
        _command("create_api_key", "nightly-sync", role="manage"),
        "API key issued",
        command("create_api_key"),
    ),
    "create_operator": Audited(
        _command("create_operator", "olga.operator", role="viewer", password="horse-battery-99"),
        "operator created",
        command("create_operator"),
    ),
    "generate_people": Exempt(
        "a bulk generator of benchmark data (COPY of millions of rows on PostgreSQL): it writes "
        "the history rows it generates, not one event per row written, by design"
    ),
    "run_erasures": Audited(
        lambda w: (due_erasure(w), _command("run_erasures")(w)),
        "person erased",
        command("run_erasures"),
    ),
    "find_duplicates": Audited(
        _command("find_duplicates"), "duplicate pairs found", command("find_duplicates")
    ),
    "dispatch_jobs": Exempt(
        "sends the messages of jobs that wait for the queue again: it changes no person, and "
        "the jobs it sends record their own events",
        _command("dispatch_jobs"),
    ),
    "import_people": Exempt(
        "starts an import job, as the Import page does: the job names who started it, and "
        "each person it changes gets a history event with source Import naming the job"
    ),
    "prune_imports": Exempt(
        "deletes import files uploaded long ago (their rows): no person changes; the jobs stay"
    ),
    "prune_exports": Exempt(
        "deletes the files of export jobs that finished long ago: no person changes; the jobs "
        "and their audit lines stay"
    ),
    "prune_name_terms": Exempt(
        "takes out of the search's dictionary of name words (derived from the names, like an "
        "index) the words nobody's name has any more: no person or record changes"
    ),
}


# ---------------------------------------------------------------------------------------------
# The tests


def _admin_route_cases() -> dict[tuple[str, str], Any]:
    """ADMIN_VIEWS as route keys, plus each model's pages that write nothing themselves."""
    cases: dict[tuple[str, str], Any] = {}
    for label, views in ADMIN_VIEWS.items():
        app_label, model = label.split(".")
        for view, case in views.items():
            cases[(f"admin:{app_label}_{model}_{view}", "POST")] = case
        cases[(f"admin:{app_label}_{model}_changelist", "POST")] = Exempt(
            "the list's POST runs an admin action: every action is a case of ADMIN_ACTIONS"
        )
        cases[(f"admin:{app_label}_{model}_history", "POST")] = Exempt(READ_ONLY_PAGE)
        for method in WRITE_METHODS:
            cases[(f"admin/{app_label}/{model}/<path:object_id>/", method)] = Exempt(
                LEGACY_REDIRECT
            )
    return cases


ROUTE_CASES = {**WRITE_PATHS, **_admin_route_cases()}
ALL_CASES: dict[str, Any] = {
    **{f"{name} {method}": case for (name, method), case in ROUTE_CASES.items()},
    **{f"admin action {label} {action}": case for (label, action), case in ADMIN_ACTIONS.items()},
    **{f"manage.py {name}": case for name, case in COMMANDS.items()},
}
WRITES = sorted(key for key, case in ALL_CASES.items() if not isinstance(case, Exempt))
PROBED = sorted(
    key for key, case in ALL_CASES.items() if isinstance(case, Exempt) and case.probe is not None
)


def test_every_route_that_accepts_a_write_has_a_case_or_an_exemption():
    found = write_paths()

    assert found - set(ROUTE_CASES) == set(), "write paths with no case: add them to the table"
    assert set(ROUTE_CASES) - found == set(), "cases of write paths that no longer exist"


def test_every_admin_model_and_action_has_a_case_or_an_exemption():
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert registered == set(ADMIN_VIEWS)
    assert admin_actions() == set(ADMIN_ACTIONS)


def test_every_management_command_of_the_project_has_a_case_or_an_exemption():
    assert project_commands() == set(COMMANDS)


def test_every_exemption_says_why():
    reasons = [case.reason for case in ALL_CASES.values() if isinstance(case, Exempt)]

    assert reasons and all(len(reason) > 30 for reason in reasons)


@pytest.mark.django_db
@pytest.mark.parametrize("key", WRITES)
def test_the_write_records_who_did_it_and_from_where(key, world, caplog):
    case = ALL_CASES[key]
    last_event = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_log = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    caplog.set_level(logging.INFO, logger="portal.audit")

    case.run(world)

    if isinstance(case, Recorded):
        events = list(Event.objects.filter(pk__gt=last_event))
        assert events, f"{key} recorded no history event"
        by_who = [
            e for e in events if (e.actor_label, e.source) == (case.who.label, case.who.source)
        ]
        assert by_who, [(e.kind, e.actor_label, e.source) for e in events]
        if case.only:
            assert by_who == events, [(e.kind, e.actor_label, e.source) for e in events]
        if case.who.source in ("UI", "ADMIN"):
            assert all(e.actor_user_id is not None for e in by_who)
    elif isinstance(case, Audited):
        lines = [r.audit for r in caplog.records if r.name == "portal.audit"]
        assert {(line["action"], line["actor"], line["source"]) for line in lines} >= {
            (case.action, case.who.label, case.who.source)
        }, lines
    else:
        assert isinstance(case, AdminLogged)
        entries = LogEntry.objects.filter(pk__gt=last_log, user=world.administrator_user)
        assert entries.exists(), f"{key} left no admin log entry"


def _people_data() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Person, Event, Installation, Tag, AttributeDefinition, Application)
    } | {"version": sum(Person.objects.values_list("version", flat=True))}


@pytest.mark.django_db
@pytest.mark.parametrize("key", PROBED)
def test_an_exempt_path_writes_nothing(key, world):
    before = _people_data()

    ALL_CASES[key].probe(world)

    assert _people_data() == before
