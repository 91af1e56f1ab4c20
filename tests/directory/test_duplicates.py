"""Possible duplicates: each rule (found, and not found when its condition fails), "not a
duplicate" remembered whichever way round, the person page's panel (roles, statements), the
queue and its command, and on PostgreSQL every candidate statement an index probe."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory import duplicates
from directory.duplicates import candidates
from people import services
from people.changes import merge_changes
from people.duplicates import mark_not_duplicate
from people.history import Actor
from people.models import DuplicatePair, NotDuplicate, Person
from tests.factories import ApplicationFactory, InstallationFactory

pytestmark = pytest.mark.django_db

QUEUE_STATEMENTS = 5

ACTOR = Actor.system("tests")


def person(first: str, last: str, *, birth: str | None = None, phones=(), emails=()) -> Person:
    fields = {"firstName": first, "lastName": last}
    if birth:
        fields["birthDate"] = birth
    return services.person_create(
        actor=ACTOR, fields=fields, phones=list(phones), emails=list(emails)
    )


def found(of: Person) -> dict[int, tuple[str, ...]]:
    return {c.person.pk: c.rules for c in candidates(of.pk)}


# ---------------------------------------------------------------------------------------------
# The rules


def test_same_folded_name_and_birth_date():
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("ANA", "Hórvat", birth="1990-05-01")
    other_day = person("Ana", "Horvat", birth="1990-05-02")
    no_date = person("Ana", "Horvat")

    assert found(ana) == {twin.pk: ("birth",)}
    assert found(twin) == {ana.pk: ("birth",)}
    assert other_day.pk not in found(ana) and no_date.pk not in found(ana)
    assert candidates(ana.pk)[0].reasons == ["same name and birth date"]


def test_same_birth_date_but_another_name_is_no_candidate():
    ana = person("Ana", "Horvat", birth="1990-05-01")
    person("Ivana", "Horvat", birth="1990-05-01")

    assert found(ana) == {}


def test_same_name_and_email_local_part():
    ana = person("Ana", "Horvat", emails=["Ana.Horvat@a.example"])
    other_domain = person("Ana", "Horvat", emails=["ana.horvat@b.example"])
    other_local = person("Ana", "Horvat", emails=["ahorvat@c.example"])
    other_name = person("Ivo", "Horvat", emails=["ana.horvat@d.example"])

    result = found(ana)

    assert result == {other_domain.pk: ("email",)}
    assert other_local.pk not in result and other_name.pk not in result


def test_same_name_and_national_number_under_another_country_code():
    ana = person("Ana", "Horvat", phones=["+385 91 641 9710"])
    abroad = person("Ana", "Horvat", phones=["+33 9 16 41 97 10"])  # the same national digits
    other_number = person("Ana", "Horvat", phones=["+49 21234567"])
    other_name = person("Iva", "Horvat", phones=["+49 916419710"])

    assert abroad.identities.get().national_number == ana.identities.get().national_number
    result = found(ana)

    assert result == {abroad.pk: ("phone",)}
    assert other_number.pk not in result and other_name.pk not in result


def test_a_name_one_edit_away_on_the_same_device():
    app = ApplicationFactory()
    ana = person("Ana", "Horvat")
    anna = person("Anna", "Horvat")
    horvath = person("Ana", "Horvath")
    far = person("Anica", "Horvat")  # more than one edit away
    other_device = person("Ana", "Horvatt")
    for someone in (ana, anna, horvath, far):
        InstallationFactory(person=someone, application=app, device_model="Pixel 8", os="Android")
    InstallationFactory(person=other_device, application=app, device_model="Pixel 9", os="Android")
    InstallationFactory(person=other_device, device_model="Pixel 8", os="Android")  # other app

    result = found(ana)

    assert result == {anna.pk: ("device",), horvath.pk: ("device",)}
    assert "same device" in candidates(ana.pk)[0].reasons[0]


def test_the_device_rule_reads_a_bounded_name_range(monkeypatch):
    """Each device probe reads at most DEVICE_PROBE_LIMIT people of its name range; an edit
    of a word's first letter is outside both ranges (directory.duplicates._device_branches)."""
    monkeypatch.setattr(duplicates, "DEVICE_PROBE_LIMIT", 3)
    app = ApplicationFactory()
    ana = person("Ana", "Horvat")
    first_letter = person("Ana", "Gorvat")
    crowd = [person("Ana", f"Ha{n}") for n in range(5)]  # before "ana horvath" in the range
    horvath = person("Ana", "Horvath")
    for someone in (ana, first_letter, *crowd, horvath):
        InstallationFactory(person=someone, application=app, device_model="Pixel 8", os="Android")

    assert found(ana) == {}
    monkeypatch.setattr(duplicates, "DEVICE_PROBE_LIMIT", 500)
    assert found(ana) == {horvath.pk: ("device",)}


def test_the_device_rule_needs_a_shared_word_and_a_similar_name():
    app = ApplicationFactory()
    ana = person("Ana", "Horvat")
    stranger = person("Ivo", "Kovač")
    InstallationFactory(person=ana, application=app, device_model="iPhone 15", os="iOS")
    InstallationFactory(person=stranger, application=app, device_model="iPhone 15", os="iOS")

    assert found(ana) == {}


def test_rules_add_up_and_people_without_a_name_have_no_candidates():
    ana = person("Ana", "Horvat", birth="1990-05-01", emails=["ana@a.example"])
    both = person("Ana", "Horvat", birth="1990-05-01", emails=["ana@b.example"])
    nameless = services.person_create(actor=ACTOR, fields={"birthDate": "1990-05-01"})
    services.person_create(actor=ACTOR, fields={"birthDate": "1990-05-01"})

    assert found(ana) == {both.pk: ("birth", "email")}
    assert found(nameless) == {}
    assert candidates(987654321) == []


def test_at_most_ten_candidates():
    ana = person("Ana", "Horvat", birth="1990-05-01")
    for _ in range(12):
        person("Ana", "Horvat", birth="1990-05-01")

    assert len(candidates(ana.pk)) == duplicates.MAX_CANDIDATES


def test_candidates_take_a_fixed_number_of_statements():
    app = ApplicationFactory()
    ana = person(
        "Ana", "Horvat", birth="1990-05-01", phones=["+385 91 641 9710"], emails=["a@x.io"]
    )
    InstallationFactory(person=ana, application=app, device_model="Pixel 8", os="Android")
    for _ in range(5):
        twin = person("Ana", "Horvat", birth="1990-05-01")
        InstallationFactory(person=twin, application=app, device_model="Pixel 8", os="Android")

    with CaptureQueriesContext(connection) as captured:
        result = candidates(ana.pk)

    assert len(result) == 5
    # The person, its identities, its fingerprints, the probes, the pairs dismissed, the rows.
    assert len(captured) == 6


# ---------------------------------------------------------------------------------------------
# Not a duplicate


def test_not_a_duplicate_is_remembered_whichever_way_round(editor):
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("Ana", "Horvat", birth="1990-05-01")
    third = person("Ana", "Horvat", birth="1990-05-01")

    mark_not_duplicate(person=twin, other=ana, actor=Actor.operator(editor))
    mark_not_duplicate(person=ana, other=twin, actor=Actor.operator(editor))  # the same pair

    row = NotDuplicate.objects.get()
    assert (row.low_id, row.high_id) == (ana.pk, twin.pk)
    assert row.operator == editor and row.operator_label == editor.get_username()
    assert set(found(ana)) == {third.pk}
    assert set(found(twin)) == {third.pk}
    assert set(found(third)) == {ana.pk, twin.pk}


def test_a_person_is_not_marked_against_itself(editor):
    from core.errors import DomainError

    ana = person("Ana", "Horvat")
    with pytest.raises(DomainError):
        mark_not_duplicate(person=ana, other=ana, actor=Actor.operator(editor))


# ---------------------------------------------------------------------------------------------
# The panel


def test_the_person_page_asks_for_the_panel_and_links_to_it_without_scripts(editor_client):
    ana = person("Ana", "Horvat")
    url = reverse("people:duplicates", args=[ana.pk])

    page = editor_client.get(reverse("people:detail", args=[ana.pk])).content.decode()

    assert f'hx-get="{url}" hx-trigger="load"' in page
    assert f'<a href="{url}">' in page


def test_the_panel_lists_candidates_with_reasons_links_and_the_button(editor_client):
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("Ana", "Horvat", birth="1990-05-01")

    response = editor_client.get(
        reverse("people:duplicates", args=[ana.pk]), HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("people:detail", args=[twin.pk]) in html
    assert "same name and birth date" in html
    assert reverse("people:not_duplicate", args=[ana.pk, twin.pk]) in html
    assert "<html" not in html


def test_the_panel_without_htmx_is_a_page(editor_client):
    ana = person("Ana", "Horvat")

    response = editor_client.get(reverse("people:duplicates", args=[ana.pk]))

    assert "<html" in response.content.decode()
    assert "No likely duplicates." in response.content.decode()


def test_the_panel_takes_a_fixed_number_of_statements(editor_client, django_assert_num_queries):
    ana = person("Ana", "Horvat", birth="1990-05-01", emails=["ana@a.example"])
    for n in range(4):
        person("Ana", "Horvat", birth="1990-05-01", emails=[f"ana@b{n}.example"])
    url = reverse("people:duplicates", args=[ana.pk])
    editor_client.get(url, HTTP_HX_REQUEST="true")

    # The session, the operator, the person, the role's permissions (two); candidates' six.
    with django_assert_num_queries(11):
        response = editor_client.get(url, HTTP_HX_REQUEST="true")
    assert response.content.decode().count('data-testid="duplicate-candidate"') == 4


def test_a_viewer_sees_the_list_without_the_button_and_may_not_post(viewer_client):
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("Ana", "Horvat", birth="1990-05-01")

    html = viewer_client.get(
        reverse("people:duplicates", args=[ana.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    response = viewer_client.post(reverse("people:not_duplicate", args=[ana.pk, twin.pk]))

    assert reverse("people:detail", args=[twin.pk]) in html
    assert "Not a duplicate" not in html
    assert response.status_code == 403
    assert not NotDuplicate.objects.exists()


@pytest.mark.parametrize("client_fixture", ["editor_client", "admin_client_"])
def test_editors_and_administrators_mark_not_a_duplicate(request, client_fixture, caplog):
    client = request.getfixturevalue(client_fixture)
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("Ana", "Horvat", birth="1990-05-01")
    caplog.set_level(logging.INFO, logger="portal.audit")

    response = client.post(
        reverse("people:not_duplicate", args=[twin.pk, ana.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "No likely duplicates." in response.content.decode()
    assert f"Marked Ana Horvat (person {ana.pk}) as not a duplicate." in response.content.decode()
    row = NotDuplicate.objects.get()
    assert row.operator is not None and (row.low_id, row.high_id) == (ana.pk, twin.pk)
    lines = [r.audit for r in caplog.records if r.name == "portal.audit"]
    assert [(line["action"], line["source"]) for line in lines] == [
        ("marked not a duplicate", "UI")
    ]


def test_without_htmx_marking_goes_back_to_the_list(editor_client):
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("Ana", "Horvat", birth="1990-05-01")

    response = editor_client.post(reverse("people:not_duplicate", args=[ana.pk, twin.pk]))
    queue = editor_client.post(
        reverse("people:not_duplicate", args=[ana.pk, twin.pk]), {"from": "queue"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("people:duplicates", args=[ana.pk])
    assert queue["Location"] == reverse("people:duplicates_queue")


# ---------------------------------------------------------------------------------------------
# The queue and its command


def test_the_command_fills_the_queue_with_the_set_based_rules(caplog):
    app = ApplicationFactory()
    ana = person("Ana", "Horvat", birth="1990-05-01", emails=["ana@a.example"])
    twin = person("Ana", "Hórvat", birth="1990-05-01", emails=["ana@b.example"])
    ivo = person("Ivo", "Kovač", phones=["+385 91 641 9710"])
    ivo_abroad = person("Ivo", "Kovac", phones=["+33 9 16 41 97 10"])
    person("Ivo", "Kovač", phones=["+49 21234567"])  # another number
    anna = person("Anna", "Horvat")  # a device match: the panel's only
    for someone in (ana, anna):
        InstallationFactory(person=someone, application=app, device_model="Pixel 8", os="Android")
    caplog.set_level(logging.INFO, logger="portal.audit")

    call_command("find_duplicates", stdout=io.StringIO())

    pairs = {(p.low_id, p.high_id): p.reasons for p in DuplicatePair.objects.all()}
    assert pairs == {(ana.pk, twin.pk): ["birth", "email"], (ivo.pk, ivo_abroad.pk): ["phone"]}
    lines = [r.audit for r in caplog.records if r.name == "portal.audit"]
    assert lines[-1]["action"] == "duplicate pairs found"


def test_a_second_run_keeps_pairs_and_takes_out_what_is_no_longer_found(editor):
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("Ana", "Horvat", birth="1990-05-01")
    ivo = person("Ivo", "Kovač", birth="1980-01-01")
    ivo2 = person("Ivo", "Kovač", birth="1980-01-01")
    duplicates.refresh_pairs()
    first = DuplicatePair.objects.get(low=ana)

    services.person_update(
        actor=ACTOR, person=ivo2, changes=merge_changes(fields={"birthDate": "1980-01-02"})
    )
    result = duplicates.refresh_pairs()

    assert DuplicatePair.objects.get(low=ana).pk == first.pk
    assert not DuplicatePair.objects.filter(low=ivo).exists()
    assert (result.added, result.removed, result.total) == (0, 1, 1)
    mark_not_duplicate(person=twin, other=ana, actor=Actor.operator(editor))
    assert not DuplicatePair.objects.exists()
    duplicates.refresh_pairs()
    assert not DuplicatePair.objects.exists()  # dismissed pairs do not come back


def test_the_queue_lists_pairs_newest_first_a_page_at_a_time(
    editor_client, django_assert_num_queries
):
    pairs = []
    for n in range(duplicates.QUEUE_PAGE_SIZE + 2):
        a = person("Ana", f"Horvat{n}", birth="1990-05-01")
        b = person("Ana", f"Horvat{n}", birth="1990-05-01")
        pairs.append(DuplicatePair.objects.create(low=a, high=b, reasons=["birth"]))
    url = reverse("people:duplicates_queue")
    editor_client.get(url)

    # The session, the operator, the page of pairs with both people, the role's permissions.
    with django_assert_num_queries(QUEUE_STATEMENTS):
        first = editor_client.get(url).content.decode()
    page = duplicates.queue_page()
    second = editor_client.get(f"{url}?after={page.next_after}").content.decode()

    assert first.count('data-testid="duplicate-pair"') == duplicates.QUEUE_PAGE_SIZE
    assert first.index(f"Person {pairs[-1].high_id}<") < first.index(f"Person {pairs[-2].high_id}<")
    assert "same name and birth date" in first and 'rel="next"' in first
    assert second.count('data-testid="duplicate-pair"') == 2
    assert f"Person {pairs[0].low_id}<" in second and 'rel="next"' not in second


def test_the_queue_for_a_viewer_has_no_button_and_dismissing_takes_a_pair_out(
    viewer, editor_client
):
    viewer_client = Client()
    viewer_client.force_login(viewer)
    a = person("Ana", "Horvat", birth="1990-05-01")
    b = person("Ana", "Horvat", birth="1990-05-01")
    DuplicatePair.objects.create(low=a, high=b, reasons=["birth"])
    url = reverse("people:duplicates_queue")

    assert ">Not a duplicate<" not in viewer_client.get(url).content.decode()
    assert ">Not a duplicate<" in editor_client.get(url).content.decode()
    response = editor_client.post(
        reverse("people:not_duplicate", args=[a.pk, b.pk]),
        {"from": "queue"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-testid="duplicate-pair-marked"' in response.content.decode()
    assert "No pairs to work through." in editor_client.get(url).content.decode()


def test_the_navigation_links_to_the_queue(viewer_client):
    html = viewer_client.get(reverse("home")).content.decode()

    assert f'href="{reverse("people:duplicates_queue")}"' in html


# ---------------------------------------------------------------------------------------------
# PostgreSQL: index probes only


@pytest.mark.postgres_only
def test_every_candidate_statement_reads_the_big_tables_through_an_index():
    from tests.search.test_explain import LARGE_TABLES, scans_during

    app = ApplicationFactory()
    ana = person(
        "Ana", "Horvat", birth="1990-05-01", phones=["+385 91 641 9710"], emails=["ana@a.example"]
    )
    InstallationFactory(person=ana, application=app, device_model="iPhone 15", os="iOS")
    twin = person("Anna", "Horvat", birth="1990-05-01", emails=["ana@b.example"])
    InstallationFactory(person=twin, application=app, device_model="iPhone 15", os="iOS")
    person("Ana", "Horvat", birth="1990-05-01", phones=["+33 9 16 41 97 10"])
    mark_not_duplicate(person=ana, other=twin, actor=ACTOR)
    person("Ana", "Horvat", birth="1990-05-01")  # so that the dismissal and the rows are read

    scans = scans_during(lambda: candidates(ana.pk))

    big = [
        (kind, table) for kind, table in scans if table in LARGE_TABLES | {"people_notduplicate"}
    ]
    assert big and all(kind != "Seq Scan" for kind, _ in big), big
    tables = {table for _, table in big}
    assert {"people_person", "people_contactidentity", "installations_installation"} <= tables


@pytest.mark.postgres_only
def test_the_email_and_device_probes_use_their_indexes():
    from tests.search.test_explain import bitmap_plan_indexes

    app = ApplicationFactory()
    ana = person("Ana", "Horvat", birth="1990-05-01", emails=["ana@a.example"])
    InstallationFactory(person=ana, application=app, device_model="iPhone 15", os="iOS")
    ana = Person.objects.get(pk=ana.pk)
    sql, params = duplicates.candidate_statement(ana)

    indexes = bitmap_plan_indexes(sql, params)

    # The email probe by its local part; the device probes by a name range, each person's
    # installations by person.
    assert "identity_email_local_idx" in indexes, indexes
    # Either index of the folded name serves the range (the pattern one or the code point
    # order one: which the planner takes depends on the statistics of the tests before).
    name_indexes = {
        "person_search_name_idx",
        "person_search_name_rev_idx",
        "person_search_name_c_idx",
        "person_search_name_rev_c_idx",
    }
    assert name_indexes & indexes, indexes
    assert "installation_app_person_idx" in indexes, indexes


# ---------------------------------------------------------------------------------------------
# Admin: read-only, for Administrators


@pytest.mark.parametrize("model", ["notduplicate", "duplicatepair"])
def test_administrators_read_the_pairs_in_admin_and_nobody_writes_them(
    admin_client_, model, editor
):
    ana = person("Ana", "Horvat", birth="1990-05-01")
    twin = person("Ana", "Horvat", birth="1990-05-01")
    duplicates.refresh_pairs()
    if model == "notduplicate":
        mark_not_duplicate(person=ana, other=twin, actor=Actor.operator(editor))

    listing = admin_client_.get(reverse(f"admin:people_{model}_changelist"))
    add = admin_client_.post(reverse(f"admin:people_{model}_add"), {})

    assert listing.status_code == 200
    if model == "notduplicate":
        assert reverse("admin:people_person_change", args=[twin.pk]) in listing.content.decode()
    assert add.status_code == 403
