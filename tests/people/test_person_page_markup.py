"""The person page's sections are Jinja2 templates (portal.templating, people_ui.partial): for
a rich profile (several phones, emails and tags, a value of every custom attribute type,
three devices, a page of history) and values with HTML in them, the page and the answers of
its in-place actions are, byte for byte, the markup in tests/people/markup/ (what the Django
templates of these sections wrote), for an editor and for a role that reads personal data
masked."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from installations.models import Installation
from people import services
from people.models import AttributeDefinition, Event, Person
from tests.factories import InstallationFactory
from tests.profiles import HTMX, make_profile

pytestmark = pytest.mark.django_db

MARKUP = Path(__file__).parent / "markup"
FIXED = dt.datetime(2024, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)
SPECIAL = "<b>&\"'"


def ids_from_fixed_numbers() -> None:
    """Every table of people and installations numbers its next rows from its own fixed
    number: the ids in the markup are the same on every run and database."""
    models = [
        model
        for label in ("people", "installations")
        for model in apps.get_app_config(label).get_models()
        if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField")
    ]
    with connection.cursor() as cursor:
        for number, model in enumerate(models, start=1):
            table, first = model._meta.db_table, 1000 * number
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), %s, false)",
                    [table, model._meta.pk.column, first],
                )
            else:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, first - 1]
                )


@pytest.fixture
def rich(system_actor):
    ids_from_fixed_numbers()
    profile = make_profile(system_actor)
    actor, person = system_actor, profile.person
    # The list's fields in the order PostgreSQL's jsonb keeps them (by length, then by name),
    # SQLite's too.
    AttributeDefinition.objects.filter(pk=profile.definitions["Orders"].pk).update(
        object_schema={"qty": "INTEGER", "sku": "STRING", "paid": "BOOLEAN"}
    )
    person = services.person_set_fields(
        person=person, actor=actor, fields={"firstName": f"Ana {SPECIAL}"}
    )
    for number in ("+385 91 111 2222", "+44 20 7946 0958"):
        person = services.person_add_phone(person=person, actor=actor, number=number)
    for address in ("second@example.com", "third@example.com"):
        person = services.person_add_email(person=person, actor=actor, address=address)
    person = services.person_add_tags(person=person, actor=actor, names=[SPECIAL, "gold"])
    # One value a change: an event's lines keep their order on every database.
    for name, value in (
        ("Nickname", SPECIAL),
        ("Visits", 7),
        ("Newsletter", True),
        ("Anniversary", dt.date(2020, 1, 2)),
        ("LastSeen", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
        ("Orders", [{"sku": "a<b>", "qty": 2, "paid": True}]),
        ("Orders", [{"sku": "a<b>", "qty": 2, "paid": True}, {"sku": "z", "qty": 1}]),
    ):
        person = services.person_set_custom_attributes(
            person=person, actor=actor, values={name: value}
        )
    InstallationFactory(
        person=person, application=profile.app, push_registration_id="push-ana-3", os="Android"
    )
    visits = 100
    while Event.objects.filter(person=person).count() < 22:
        visits += 1
        person = services.person_set_custom_attributes(
            person=person, actor=actor, values={"Visits": visits}
        )
    Person.objects.filter(pk=person.pk).update(
        external_id=SPECIAL, created_at=FIXED, modified_at=FIXED
    )
    for minutes, pk in enumerate(
        Event.objects.filter(person=person).order_by("id").values_list("pk", flat=True)
    ):
        Event.objects.filter(pk=pk).update(created_at=FIXED + dt.timedelta(minutes=minutes))
    moments = {
        field.name: FIXED
        for field in Installation._meta.get_fields()
        if getattr(field, "get_internal_type", lambda: "")() == "DateTimeField"
    }
    Installation.objects.filter(person=person).update(**moments)
    profile.person = Person.objects.get(pk=person.pk)
    return profile


def main(html: str) -> str:
    """The page's main element (the rest is base.html's), CSRF tokens as one placeholder."""
    (content,) = re.findall(r'<main id="main".*?</main>', html, re.S)
    return without_tokens(content)


def without_tokens(html: str) -> str:
    return re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="…"', html
    )


def without_times(html: str) -> str:
    """An answer's times (its new history events are of now)."""
    moment = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00)?"
    return re.sub(moment, "…", without_tokens(html))


def expected(name: str) -> str:
    return (MARKUP / f"{name}.html").read_text()


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_the_page_is_the_expected_markup(client, editor, viewer, rich, who):
    client.force_login(editor if who == "editor" else viewer)
    page = client.get(reverse("people:detail", args=[rich.person.pk]))
    assert main(page.content.decode()) == expected(f"page_{who}")


def test_the_page_with_its_editors_open_is_the_expected_markup(editor_client, rich):
    url = reverse("people:detail", args=[rich.person.pk]) + "?edit=overview&edit=attributes"
    assert main(editor_client.get(url).content.decode()) == expected("page_editing")


def test_the_header_and_the_history_alone_are_the_expected_markup(client, viewer, rich):
    client.force_login(viewer)
    header = client.get(reverse("people:header", args=[rich.person.pk]), **HTMX)
    assert without_tokens(header.content.decode()) == expected("header_viewer")
    history = client.get(
        reverse("people:history", args=[rich.person.pk]) + "?kind=CUSTOM_ATTRIBUTES_CHANGED",
        **HTMX,
    )
    assert without_tokens(history.content.decode()) == expected("history_viewer")


ACTIONS = {
    "tags_add": ("people:tags_add", (), {"name": f"new{SPECIAL}, gold"}),
    "tags_refused": ("people:tags_add", (), {"name": ""}),
    "phone_add": ("people:identity_add", (), {"kind": "phone", "value": "+385 98 765 4321"}),
    "phone_refused": ("people:identity_add", (), {"kind": "phone", "value": f"12{SPECIAL}"}),
    "email_remove": ("people:identity_remove", (), {"kind": "email", "value": "third@example.com"}),
    "attribute_set": ("people:attribute_set", ("Nickname",), {"value": f"x{SPECIAL}"}),
    "attribute_refused": ("people:attribute_set", ("Balance",), {"value": f"abc{SPECIAL}"}),
    "list_refused": ("people:attribute_set", ("Orders",), {"rows": "1", "row-0-qty": "x"}),
    "attribute_remove": ("people:attribute_remove", ("Nickname",), {}),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_an_in_place_answer_is_the_expected_markup(editor_client, rich, action):
    name, definitions, data = ACTIONS[action]
    args = [rich.person.pk, *(rich.definitions[d].pk for d in definitions)]
    answer = editor_client.post(reverse(name, args=args), data, **HTMX)
    assert without_times(answer.content.decode()) == expected(f"answer_{action}")


def test_a_refused_reveal_is_the_expected_markup(client, viewer, rich):
    client.force_login(viewer)
    data = {"kind": "phone", "identity": "1", "masked": SPECIAL, "reason": "", "where": "summary"}
    answer = client.post(reverse("people:reveal", args=[rich.person.pk]), data, **HTMX)
    assert answer.status_code == 422
    assert without_tokens(answer.content.decode()) == expected("answer_reveal_refused")


def overview_data(person: Person, **changes) -> dict:
    from people.forms import PersonForm

    initial = {k: "" if v is None else v for k, v in PersonForm.initial_for(person).items()}
    return {**initial, **changes}


def test_the_overview_answers_are_the_expected_markup(client, editor, system_actor, rich):
    client.force_login(editor)
    person, url = rich.person, reverse("people:overview", args=[rich.person.pk])
    saved = client.post(url, overview_data(person, city=f"Split{SPECIAL}"), **HTMX)
    assert without_times(saved.content.decode()) == expected("answer_overview_saved")
    refused = client.post(url, overview_data(person, gender="XX"), **HTMX)
    assert refused.status_code == 422
    assert without_times(refused.content.decode()) == expected("answer_overview_refused")
    # Someone else changes the city while this form is open: both changed it.
    person = Person.objects.get(pk=person.pk)
    form = overview_data(person, city="Rijeka")
    services.person_set_fields(person=person, actor=system_actor, fields={"city": "Osijek"})
    Event.objects.filter(person=person).update(created_at=FIXED)
    conflict = client.post(url, form, **HTMX)
    assert without_times(conflict.content.decode()) == expected("answer_overview_conflict")
    page = client.post(url, form)
    assert page.status_code == 409
    assert without_times(main(page.content.decode())) == expected("page_overview_conflict")


@pytest.mark.parametrize("kind", ["ATTRIBUTES_CHANGED", "CUSTOM_ATTRIBUTES_CHANGED"])
def test_a_revert_answer_is_the_expected_markup(editor_client, rich, kind):
    event = Event.objects.filter(person=rich.person, kind=kind).order_by("id").first()
    url = reverse("people:event_revert", args=[rich.person.pk, event.pk])
    answer = editor_client.post(url, {"version": rich.person.version}, **HTMX)
    assert without_times(answer.content.decode()) == expected(f"answer_revert_{kind.lower()}")


def test_the_environment_reads_a_choice_by_its_label_and_escapes_like_django():
    from django.template.loader import render_to_string

    from people.forms import PersonForm

    form = PersonForm(initial={"type": "CUSTOMER", "city": SPECIAL})
    person = Person(pk=1, version=1, created_at=FIXED, modified_at=FIXED)
    context = {"person": person, "overview_form": form}
    html = render_to_string("people/overview.html", context, using="jinja2")
    assert "<dt>Type</dt><dd>Customer</dd>" in html
    assert "<dt>City</dt><dd>&lt;b&gt;&amp;&quot;&#x27;</dd>" in html


def test_every_form_of_the_page_carries_the_pages_one_csrf_token(editor_client, rich):
    html = editor_client.get(reverse("people:detail", args=[rich.person.pk])).content.decode()
    fields = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    (header,) = re.findall(r'"X-CSRFToken": "([^"]+)"', html)
    assert len(fields) > 30
    assert set(fields) == {header}


def test_without_a_token_a_section_writes_no_csrf_field_as_django_does():
    from django.template import Context, engines

    from people.forms import PersonForm

    person = Person(pk=1, version=1, created_at=FIXED, modified_at=FIXED)
    context = {"person": person, "overview_form": PersonForm(), "can_edit": True}
    page = engines["django"].from_string('{% load people_ui %}{% partial "people/overview.html" %}')
    html = page.template.render(Context(context))
    assert 'id="overview-form"' in html and "csrfmiddlewaretoken" not in html
    with_token = page.template.render(Context({**context, "csrf_token": "t<>"}))
    assert '<input type="hidden" name="csrfmiddlewaretoken" value="t&lt;&gt;">' in with_token
