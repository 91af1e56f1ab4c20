"""The person page's History as a change log: what each kind of event says, the filter by
kind and actor (an indexed keyset walk, in the URL, without JavaScript too), and its times."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from installations import depersonalize, personalize
from installations import services as installation_services
from people import selectors, services
from people.changes import PersonChanges, parse_tag_names
from people.history import Actor, record_event
from people.history_lines import change_lines
from people.models import Event, EventKind, Person
from tests.factories import InstallationFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def newest(person: Person | int, kind: str) -> list[str]:
    """The lines of the person's newest event of ``kind``, sorted (PostgreSQL's jsonb keeps
    the names of ``changes`` in an order of its own)."""
    event = Event.objects.filter(person_id=getattr(person, "pk", person), kind=kind).first()
    assert event is not None, f"no {kind} event"
    return sorted(change_lines(event.changes))


def rows(html: str) -> list[str]:
    return re.findall(r'data-testid="history-row" data-kind="([A-Z_]+)"', html)


# ---------------------------------------------------------------------------------------------
# What each kind of event says


def test_a_created_person_reads_as_the_values_it_was_created_with(profile):
    lines = newest(profile.person, EventKind.PERSON_CREATED)
    assert "Set type to CUSTOMER" in lines
    assert "Set first name to Ana" in lines
    assert "Set external ID to crm-42" in lines
    assert "Added tag vip" in lines and "Added tag newsletter" in lines
    assert "Added phone +385 1 6419 710" in lines
    assert "Added email ana.horvat@example.com" in lines
    assert "Set Nickname to Annie" in lines
    assert "Set Balance to 12.50" in lines or "Set Balance to 12.5" in lines
    assert not any("{" in line for line in lines)


def test_a_changed_field_reads_as_before_and_after(profile, system_actor):
    services.person_set_fields(person=profile.person, actor=system_actor, fields={"city": "Split"})
    assert newest(profile.person, EventKind.ATTRIBUTES_CHANGED) == ["City: Zagreb → Split"]
    services.person_set_fields(person=profile.person, actor=system_actor, fields={"city": None})
    assert newest(profile.person, EventKind.ATTRIBUTES_CHANGED) == ["Cleared city (was Split)"]


def test_tags_read_as_added_and_removed(profile, system_actor):
    services.person_add_tags(person=profile.person, actor=system_actor, names=["VIP Gold"])
    assert newest(profile.person, EventKind.TAGS_CHANGED) == ["Added tag VIP Gold"]
    services.person_remove_tags(person=profile.person, actor=system_actor, names=["vip"])
    assert newest(profile.person, EventKind.TAGS_CHANGED) == ["Removed tag vip"]


def test_phones_and_emails_read_as_added_and_removed_as_the_page_shows_them(profile, system_actor):
    services.person_add_phone(person=profile.person, actor=system_actor, number="+385917028940")
    assert newest(profile.person, EventKind.CONTACTS_CHANGED) == ["Added phone +385 91 702 8940"]
    services.person_remove_email(
        person=profile.person, actor=system_actor, address="ana.horvat@example.com"
    )
    assert newest(profile.person, EventKind.CONTACTS_CHANGED) == [
        "Removed email ana.horvat@example.com"
    ]


def test_custom_attributes_read_by_their_names_with_json_values(profile, system_actor):
    services.person_set_custom_attributes(
        person=profile.person,
        actor=system_actor,
        values={"Newsletter": True, "Nickname": "Anka", "Balance": None},
    )
    lines = newest(profile.person, EventKind.CUSTOM_ATTRIBUTES_CHANGED)
    assert "Set Newsletter to true" in lines
    assert "Nickname: Annie → Anka" in lines
    assert any(line.startswith("Cleared Balance (was 12.5") for line in lines)
    assert "True" not in " ".join(lines)


def test_a_list_of_objects_reads_as_the_items_added_and_removed(profile, system_actor):
    first = {"sku": "A-1", "qty": 2, "paid": False}
    second = {"sku": "B-2", "qty": 1, "paid": True}
    services.person_set_custom_attributes(
        person=profile.person, actor=system_actor, values={"Orders": [first]}
    )
    services.person_set_custom_attributes(
        person=profile.person, actor=system_actor, values={"Orders": [second]}
    )
    assert newest(profile.person, EventKind.CUSTOM_ATTRIBUTES_CHANGED) == [
        "Added Orders item (paid: true, qty: 1, sku: B-2)",
        "Removed Orders item (paid: false, qty: 2, sku: A-1)",
    ]


def test_an_edit_of_several_areas_reads_as_each_of_its_changes(profile, system_actor):
    changes = PersonChanges(fields={"city": "Rijeka"}, tags=parse_tag_names(["gold"]))
    services.person_update(person=profile.person, actor=system_actor, changes=changes)
    lines = newest(profile.person, EventKind.PERSON_UPDATED)
    assert lines == ["Added tag gold", "City: Zagreb → Rijeka"]


def test_an_installation_reads_as_its_application_and_system(application, system_actor):
    installation, _ = installation_services.installation_register(
        application=application,
        actor=system_actor,
        push_registration_id="push-new",
        system_data={"os": "Android"},
    )
    lines = newest(installation.person_id, EventKind.INSTALL)
    assert lines == [f"Application: {application.code}", "OS: Android"]
    installation_services.installation_delete(installation=installation, actor=system_actor)
    assert newest(installation.person_id, EventKind.UNINSTALL) == [
        f"Application: {application.code}",
        "OS: Android",
    ]


def test_primary_and_push_read_as_json_values(profile, system_actor):
    installation_services.installation_set_primary(installation=profile.second, actor=system_actor)
    assert "Primary device: false → true" in newest(profile.person, EventKind.PRIMARY_CHANGED)
    installation_services.installation_set_push_enabled(
        installation=profile.second, actor=system_actor, enabled=False
    )
    assert newest(profile.person, EventKind.PUSH_CHANGED) == ["Registration enabled: true → false"]


def test_additional_data_reads_as_names_added_changed_and_removed(profile, system_actor):
    installation_services.installation_set_additional_data(
        installation=profile.primary, actor=system_actor, data={"tier": "silver", "seats": 2}
    )
    assert newest(profile.person, EventKind.INSTALLATION_CHANGED) == [
        "Added additional data seats: 2",
        "Additional data tier: gold → silver",
    ]
    installation_services.installation_set_additional_data(
        installation=profile.primary, actor=system_actor, data={"seats": 2}
    )
    assert newest(profile.person, EventKind.INSTALLATION_CHANGED) == [
        "Removed additional data tier (was silver)"
    ]


def test_a_remote_logout_names_the_installation_and_where_it_went(profile, system_actor):
    fresh = depersonalize.installation_depersonalize(
        installation=profile.primary, actor=system_actor
    )
    assert newest(profile.person, EventKind.DEPERSONALIZE) == [
        "Installation: push-ana-phone",
        f"Moved to person: {fresh.pk}",
    ]
    assert newest(fresh, EventKind.DEPERSONALIZE) == [
        "Installation: push-ana-phone",
        f"Moved from person: {profile.person.pk}",
    ]


def test_personalize_names_the_identity_and_what_it_changed(profile, application, system_actor):
    lead = services.new_anonymous_person()
    device = InstallationFactory(person=lead, application=application, push_registration_id="p-9")
    personalize.installation_personalize(
        installation=device, actor=system_actor, identity={"externalId": "crm-42"}
    )
    lines = newest(profile.person, EventKind.PERSONALIZE)
    assert "Identity › External ID: crm-42" in lines
    assert "Identity › Phones: —" in lines
    assert not any("{" in line or "[" in line for line in lines)


def test_app_launches_and_custom_events_read_as_their_values(profile, system_actor):
    # The shapes device_report_sessions and device_report_custom_events record.
    record_event(
        person=profile.person,
        kind=EventKind.APP_LAUNCH,
        actor=system_actor,
        changes={"sessionStart": "2026-12-01T10:00:00+00:00", "sessionEnd": None},
    )
    assert newest(profile.person, EventKind.APP_LAUNCH) == [
        "Session end: null",
        "Session start: 2026-12-01T10:00:00+00:00",
    ]
    record_event(
        person=profile.person,
        kind=EventKind.CUSTOM_EVENT,
        actor=system_actor,
        changes={"definitionId": "checkout", "properties": {"paid": True, "total": 12.5}},
    )
    assert newest(profile.person, EventKind.CUSTOM_EVENT) == [
        "Event: checkout",
        "Properties › paid: true",
        "Properties › total: 12.5",
    ]


def test_a_merge_says_what_came_over_and_never_its_undo_record(profile, system_actor):
    # The shape directory.merge records; "_undo" is the snapshot undo needs, not a change.
    changes = {
        "mergedPersonId": 17,
        "firstName": {"before": "Ana", "after": "Anna"},
        "tags": {"added": ["beta"]},
        "installations": {"added": ["push-9"]},
        "_undo": {"before": {"other": {"fields": {"firstName": "Anna"}}}},
    }
    record_event(person=profile.person, kind=EventKind.MERGE, actor=system_actor, changes=changes)
    assert newest(profile.person, EventKind.MERGE) == [
        "Added installation push-9",
        "Added tag beta",
        "First name: Ana → Anna",
        "Merged person id: 17",
    ]
    record_event(
        person=profile.person,
        kind=EventKind.MERGE_UNDONE,
        actor=system_actor,
        changes={"mergedPersonId": 17, "mergeEventId": 5},
    )
    assert newest(profile.person, EventKind.MERGE_UNDONE) == [
        "Merge event id: 5",
        "Merged person id: 17",
    ]


def test_every_kind_of_event_is_covered_above():
    covered = {
        EventKind.PERSON_CREATED,
        EventKind.ATTRIBUTES_CHANGED,
        EventKind.TAGS_CHANGED,
        EventKind.CONTACTS_CHANGED,
        EventKind.CUSTOM_ATTRIBUTES_CHANGED,
        EventKind.PERSON_UPDATED,
        EventKind.INSTALL,
        EventKind.UNINSTALL,
        EventKind.PRIMARY_CHANGED,
        EventKind.PUSH_CHANGED,
        EventKind.INSTALLATION_CHANGED,
        EventKind.DEPERSONALIZE,
        EventKind.PERSONALIZE,
        EventKind.APP_LAUNCH,
        EventKind.CUSTOM_EVENT,
        EventKind.MERGE,
        EventKind.MERGE_UNDONE,
    }
    assert covered == set(EventKind.values)


def test_the_page_shows_the_change_log_not_json(editor_client, profile, system_actor):
    installation_services.installation_set_additional_data(
        installation=profile.primary, actor=system_actor, data={"tier": "silver"}
    )
    html = unescape(editor_client.get(reverse("people:detail", args=[profile.person.pk])).text)
    history = html.split('id="history"')[1]
    assert "<div>Additional data tier: gold → silver</div>" in history
    assert '{"tier"' not in history


# ---------------------------------------------------------------------------------------------
# The filter


def busy_history(person: Person, operator: Actor, system_actor: Actor) -> None:
    """25 city changes by the system, then 25 tag changes by the operator, alternating."""
    for i in range(25):
        services.person_set_fields(person=person, actor=system_actor, fields={"city": f"C{i}"})
        services.person_add_tags(person=person, actor=operator, names=[f"t{i}"])


def test_the_history_filters_by_kind_in_the_url_and_pages_keep_it(
    editor_client, profile, operator_actor, system_actor
):
    busy_history(profile.person, operator_actor, system_actor)
    url = reverse("people:history", args=[profile.person.pk])
    response = editor_client.get(url, {"kind": "TAGS_CHANGED"}, **HTMX)
    html = response.text
    assert rows(html) == ["TAGS_CHANGED"] * 20
    assert response["HX-Push-Url"] == f"/person/{profile.person.pk}/?kind=TAGS_CHANGED"
    assert '<option value="TAGS_CHANGED" selected>' in html
    older = re.search(r'hx-get="([^"]*before=[^"]*)"', html).group(1)
    assert "kind=TAGS_CHANGED" in older
    rest = editor_client.get(unescape(older), **HTMX).text
    assert rows(rest) == ["TAGS_CHANGED"] * 5
    assert "Older events" not in rest
    newest_link = re.search(r'href="([^"]*)"[^>]*>Newest events', rest).group(1)
    assert unescape(newest_link) == f"/person/{profile.person.pk}/?kind=TAGS_CHANGED#history"


def test_the_history_filters_by_actor_and_by_both(
    editor_client, profile, operator_actor, system_actor
):
    busy_history(profile.person, operator_actor, system_actor)
    url = reverse("people:history", args=[profile.person.pk])
    by_operator = editor_client.get(url, {"actor": "eddie.editor"}, **HTMX).text
    assert rows(by_operator) == ["TAGS_CHANGED"] * 20
    both = editor_client.get(url, {"actor": "tests", "kind": "TAGS_CHANGED"}, **HTMX).text
    assert rows(both) == []
    assert "No events match this filter." in both
    none = editor_client.get(url, {"actor": "tests", "kind": "ATTRIBUTES_CHANGED"}, **HTMX).text
    assert len(rows(none)) == 20


def test_an_unknown_kind_is_no_filter(editor_client, profile):
    url = reverse("people:history", args=[profile.person.pk])
    html = editor_client.get(url, {"kind": "NOT_A_KIND"}, **HTMX).text
    assert rows(html) == ["PERSON_CREATED"]


def test_the_filter_works_without_javascript(editor_client, profile, operator_actor, system_actor):
    busy_history(profile.person, operator_actor, system_actor)
    # The form's plain GET goes to the person page, which shows the filtered history.
    detail = reverse("people:detail", args=[profile.person.pk])
    html = editor_client.get(detail, {"kind": "ATTRIBUTES_CHANGED"}).text
    assert 'action="' + detail + '#history"' in html
    assert rows(html) == ["ATTRIBUTES_CHANGED"] * 20
    assert 'id="person-header"' in html
    # The history URL without htmx leads there too, with the filter and the cursor.
    cursor = selectors.history_page(profile.person).next_cursor
    response = editor_client.get(
        reverse("people:history", args=[profile.person.pk]),
        {"kind": "ATTRIBUTES_CHANGED", "before": cursor},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"{detail}?kind=ATTRIBUTES_CHANGED&before=")
    assert response["Location"].endswith("#history")


def test_the_unfiltered_page_is_unchanged(editor_client, profile, operator_actor, system_actor):
    busy_history(profile.person, operator_actor, system_actor)
    html = editor_client.get(reverse("people:detail", args=[profile.person.pk])).text
    assert rows(html) == ["TAGS_CHANGED", "ATTRIBUTES_CHANGED"] * 10
    assert "Show all events" not in html


def test_a_filtered_history_page_takes_one_statement_for_its_events(
    editor_client, profile, operator_actor, system_actor, django_assert_num_queries
):
    busy_history(profile.person, operator_actor, system_actor)
    url = reverse("people:history", args=[profile.person.pk])
    editor_client.get(url, **HTMX)  # a first request of the session writes more
    # The session, the operator, the person, the page of events; and the operator's role
    # (its permissions, 2), which decides the rows' Revert buttons.
    with django_assert_num_queries(6) as captured:
        html = editor_client.get(
            url, {"kind": "TAGS_CHANGED", "actor": "eddie.editor"}, **HTMX
        ).text
    assert len(rows(html)) == 20
    events = [q["sql"] for q in captured.captured_queries if "people_event" in q["sql"]]
    assert len(events) == 1


def test_the_filtered_person_page_reads_its_history_in_one_more_statement(
    editor_client, profile, operator_actor, system_actor
):
    """The unfiltered first page comes with the profile (directory.person_page); a filtered
    one is a keyset query of its own beside it, one statement more."""
    busy_history(profile.person, operator_actor, system_actor)
    detail = reverse("people:detail", args=[profile.person.pk])
    editor_client.get(detail)  # a first request of the session writes more
    with CaptureQueriesContext(connection) as plain:
        editor_client.get(detail)
    with CaptureQueriesContext(connection) as filtered:
        html = editor_client.get(detail, {"kind": "TAGS_CHANGED"}).text
    assert rows(html) == ["TAGS_CHANGED"] * 20
    assert len(filtered.captured_queries) == len(plain.captured_queries) + (
        1 if connection.vendor == "postgresql" else 0
    )


# ---------------------------------------------------------------------------------------------
# The walk: one index per filter, no sort, no OFFSET


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
@pytest.mark.parametrize(
    ("history_filter", "index"),
    [
        (selectors.HistoryFilter(kind="TAGS_CHANGED"), "event_person_kind_time_idx"),
        (selectors.HistoryFilter(actor="load 1"), "event_person_actor_time_idx"),
        (
            selectors.HistoryFilter(kind="TAGS_CHANGED", actor="load 1"),
            ("event_person_kind_time_idx", "event_person_actor_time_idx"),
        ),
    ],
)
@pytest.mark.parametrize("older", [False, True])
def test_a_filtered_history_is_an_indexed_keyset_walk(profile, history_filter, index, older):
    from tests.search.test_explain import plan_nodes, plan_of

    kinds = [EventKind.TAGS_CHANGED, EventKind.ATTRIBUTES_CHANGED, EventKind.APP_LAUNCH]
    Event.objects.bulk_create(
        Event(
            person=profile.person,
            kind=kinds[i % 3],
            actor_kind="SYSTEM",
            actor_label=f"load {i % 4}",
            source="API",
        )
        for i in range(4000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_event")
    before = None
    if older:
        before = selectors.history_page(profile.person, history_filter=history_filter).next_cursor
        assert before
    with CaptureQueriesContext(connection) as captured:
        page = selectors.history_page(profile.person, before=before, history_filter=history_filter)
    assert len(page.events) == 20
    assert all(history_filter.kind in ("", e.kind) for e in page.events)
    assert all(history_filter.actor in ("", e.actor_label) for e in page.events)
    (sql,) = [q["sql"] for q in captured.captured_queries]
    assert "OFFSET" not in sql.upper()
    nodes = list(plan_nodes(plan_of(sql, "seqscan", "bitmapscan")))
    scans = [n for n in nodes if n.get("Relation Name") == "people_event"]
    assert len(scans) == 1
    assert scans[0]["Node Type"] == "Index Scan"
    assert scans[0]["Index Name"] in (index if isinstance(index, tuple) else (index,))
    if older:
        # The cursor bounds the scan: it starts there rather than at the newest event.
        assert "created_at <=" in scans[0]["Index Cond"]
    assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in nodes)


def test_the_history_indexes_lead_with_the_person(db):
    """Each index on people_event starts with person_id and goes on (an index on person_id
    alone is the one PostgreSQL took for a history page, sorting every event)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    on_person = {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] and info["columns"] and info["columns"][0] == "person_id"
    }
    assert on_person == {
        "event_person_time_idx": ["person_id", "created_at", "id"],
        "event_person_kind_time_idx": ["person_id", "kind", "created_at", "id"],
        "event_person_actor_time_idx": ["person_id", "actor_label", "created_at", "id"],
    }


# ---------------------------------------------------------------------------------------------
# Times


def test_times_are_utc_with_a_machine_readable_moment_for_the_browser(editor_client, profile):
    event = Event.objects.get(person=profile.person)
    html = editor_client.get(reverse("people:detail", args=[profile.person.pk])).text
    moment = event.created_at.strftime("%Y-%m-%d %H:%M:%S")
    assert (
        f'<time datetime="{event.created_at.isoformat()}" title="{moment} UTC" data-relative'
        in html
    )
    assert f">{moment} UTC</time>" in html
    header = html.split('id="person-header"')[1].split("</header>")[0]
    assert header.count("data-relative") == 2
    assert 'src="/static/js/times.js"' in html


# ---------------------------------------------------------------------------------------------
# The filter kept by an in-place change


def history_section(html: str) -> str:
    return html[html.index('<section id="history"') :]


def tags_add(client, person, name: str, page: str, **headers):
    return client.post(
        reverse("people:tags_add", args=[person.pk]),
        {"name": name},
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
        **HTMX,
        **headers,
    )


def test_an_in_place_change_answers_with_the_history_the_page_was_filtered_by(
    editor_client, profile, operator_actor, system_actor
):
    busy_history(profile.person, operator_actor, system_actor)
    page = reverse("people:detail", args=[profile.person.pk]) + "?kind=TAGS_CHANGED"
    section = history_section(tags_add(editor_client, profile.person, "platinum", page).text)
    assert 'hx-swap-oob="true"' in section
    assert set(rows(section)) == {"TAGS_CHANGED"} and len(rows(section)) == 20
    assert '<option value="TAGS_CHANGED" selected>' in section
    # The new event matches the filter: it is the first row.
    assert section.index("Added tag platinum") < section.index("Added tag t24")
    assert "Show all events" in section


def test_a_filter_the_new_event_does_not_match_stays_and_the_list_with_it(
    editor_client, profile, operator_actor, system_actor
):
    busy_history(profile.person, operator_actor, system_actor)
    page = reverse("people:detail", args=[profile.person.pk]) + "?actor=tests&before=x"
    section = history_section(tags_add(editor_client, profile.person, "platinum", page).text)
    assert rows(section) and "TAGS_CHANGED" not in rows(section)
    assert 'name="actor" value="tests"' in section
    assert "Added tag platinum" not in section


def test_only_this_persons_page_on_this_site_gives_the_filter(
    editor_client, profile, operator_actor, system_actor
):
    busy_history(profile.person, operator_actor, system_actor)
    for page in (
        reverse("people:detail", args=[profile.person.pk + 1]) + "?kind=TAGS_CHANGED",
        reverse("home") + "?kind=TAGS_CHANGED",
    ):
        section = history_section(tags_add(editor_client, profile.person, "gold", page).text)
        assert "ATTRIBUTES_CHANGED" in rows(section), page
    section = history_section(
        editor_client.post(
            reverse("people:tags_add", args=[profile.person.pk]),
            {"name": "silver"},
            HTTP_HX_CURRENT_URL="https://elsewhere.example"
            + reverse("people:detail", args=[profile.person.pk])
            + "?kind=TAGS_CHANGED",
            **HTMX,
        ).text
    )
    assert "ATTRIBUTES_CHANGED" in rows(section)
    # An unknown kind is no filter.
    page = reverse("people:detail", args=[profile.person.pk]) + "?kind=NOPE"
    section = history_section(tags_add(editor_client, profile.person, "bronze", page).text)
    assert "ATTRIBUTES_CHANGED" in rows(section)


def test_without_javascript_a_change_returns_to_the_page_with_its_filter(editor_client, profile):
    detail = reverse("people:detail", args=[profile.person.pk])
    response = editor_client.post(
        reverse("people:tags_add", args=[profile.person.pk]),
        {"name": "platinum"},
        HTTP_REFERER=f"http://testserver{detail}?kind=TAGS_CHANGED&actor=eddie.editor",
    )
    assert response.status_code == 302
    assert response["Location"] == f"{detail}?kind=TAGS_CHANGED&actor=eddie.editor#attributes"
    response = editor_client.post(
        reverse("people:tags_add", args=[profile.person.pk]), {"name": "gold"}
    )
    assert response["Location"] == f"{detail}#attributes"


def test_the_filtered_answer_of_an_in_place_change_takes_no_more_statements(
    editor_client, profile, operator_actor, system_actor
):
    busy_history(profile.person, operator_actor, system_actor)
    detail = reverse("people:detail", args=[profile.person.pk])
    tags_add(editor_client, profile.person, "warm-up", detail)  # the session's first writes
    counts = []
    for number, page in enumerate((detail, detail + "?kind=TAGS_CHANGED&actor=eddie.editor")):
        with CaptureQueriesContext(connection) as captured:
            tags_add(editor_client, profile.person, f"tag-{number}", page)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
