"""tags.add and tags.remove on a population: the tag rules of a one-record edit, one event per
changed person naming the job, undo while nobody changed the person since."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError, ErrorCode
from jobs import actions
from people import services
from people.history import Actor
from people.models import Event, EventKind, Person, PersonTag, Tag
from tests.populations.conftest import (
    assert_event_names_job,
    by_person,
    events_of,
    run,
    snapshot,
    start,
    undo,
)

SYSTEM = Actor.system("tests")


def tag(person: Person, *names: str) -> None:
    services.person_add_tags(person=person, actor=SYSTEM, names=names)


def tag_names(person: Person) -> list[str]:
    return sorted(Person.objects.get(pk=person.pk).tags.values_list("name", flat=True))


def test_add_gives_the_tags_to_who_lacks_them_with_one_event_each(people, editor):
    tag(people[0], "VIP", "Churned")
    tag(people[1], "vip")
    versions = {p.pk: Person.objects.get(pk=p.pk).version for p in people}
    job = start("tags.add", {"tags": ["vip", "churned"]}, editor)

    outcomes = by_person(run(job, [p.pk for p in people]))

    # The existing tags, whatever the case given: no new tag named "vip" or "churned".
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Churned", "VIP"]
    assert outcomes[people[0].pk].changed is False
    assert all(outcomes[p.pk].changed for p in people[1:])
    assert tag_names(people[1]) == ["Churned", "VIP"]
    assert tag_names(people[4]) == ["Churned", "VIP"]
    events = list(events_of(job))
    assert [e.person_id for e in events] == [p.pk for p in people[1:]]
    for event in events:
        assert_event_names_job(event, job, editor)
        assert event.kind == EventKind.TAGS_CHANGED
    assert events[0].changes == {"tags": {"added": ["Churned"], "removed": []}}
    assert events[1].changes == {"tags": {"added": ["Churned", "VIP"], "removed": []}}
    for person in people:
        now = Person.objects.get(pk=person.pk).version
        assert now == versions[person.pk] + (person != people[0])
    # The undo record: the tags the job added, the version it left, its event.
    record = outcomes[people[1].pk].undo
    assert record["v"] == versions[people[1].pk] + 1
    assert record["e"] == events[0].pk
    assert record["tags"] == [Tag.objects.get(name="Churned").pk]


@pytest.mark.postgres_only
def test_add_keeps_the_tag_ids_the_search_reads(people, editor):
    tag(people[0], "a")
    job = start("tags.add", {"tags": ["b", "c"]}, editor)
    run(job, [p.pk for p in people])
    tag_ids = {t.name: t.pk for t in Tag.objects.all()}
    assert Person.objects.get(pk=people[0].pk).tag_ids == sorted(tag_ids.values())
    assert Person.objects.get(pk=people[3].pk).tag_ids == sorted([tag_ids["b"], tag_ids["c"]])


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        (["x" * 257], ErrorCode.BAD_REQUEST),
        ([""], ErrorCode.BAD_REQUEST),
        ([], ErrorCode.BAD_REQUEST),
        ("vip", ErrorCode.REQUEST_FORMAT_INVALID),
        ([7], ErrorCode.REQUEST_FORMAT_INVALID),
        (None, ErrorCode.REQUEST_FORMAT_INVALID),
    ],
)
def test_tag_names_are_checked_by_the_one_record_rules(db, tags, code):
    for kind in ("tags.add", "tags.remove"):
        with pytest.raises(DomainError) as caught:
            actions.get(kind).clean_params({"tags": tags})
        assert (caught.value.code, caught.value.field) == (code, "tags")


def test_the_same_name_in_two_cases_is_one_tag(db):
    cleaned = actions.get("tags.add").clean_params({"tags": ["VIP", "vip", " Gold "]})
    assert cleaned == {"tags": ["VIP", "Gold"]}


def test_a_person_deleted_since_the_job_started_fails_alone(people, editor):
    job = start("tags.add", {"tags": ["vip"]}, editor)
    gone = people[2].pk
    Person.objects.filter(pk=gone).delete()

    outcomes = by_person(run(job, [p.pk for p in people]))

    assert outcomes[gone].error_code == ErrorCode.NOT_FOUND
    assert outcomes[gone].changed is False
    assert [o.changed for pk, o in outcomes.items() if pk != gone] == [True] * 4
    assert events_of(job).count() == 4


def test_undo_of_add_restores_everyone_not_changed_since(people, editor):
    tag(people[0], "vip")
    before = {p.pk: snapshot(p) for p in people}
    job = start("tags.add", {"tags": ["vip", "new"]}, editor)
    outcomes = run(job, [p.pk for p in people])
    # people[1] is edited after the job: its undo is refused, nothing written for it.
    services.person_set_fields(
        person=people[1], actor=Actor.operator(editor), fields={"city": "Split"}
    )
    changed_after = snapshot(people[1])

    undoing, result = undo(job, outcomes, editor)

    result = by_person(result)
    refused = result[people[1].pk]
    assert refused.error_code == ErrorCode.CHANGED_SINCE
    assert "Attributes changed by eddie.editor" in refused.message
    assert snapshot(people[1]) == changed_after
    for person in (people[0], *people[2:]):
        assert result[person.pk].changed and not result[person.pk].error_code
        assert snapshot(person) == before[person.pk]
    events = list(events_of(undoing))
    assert [e.person_id for e in events] == [p.pk for p in people if p != people[1]]
    first = events[0]
    assert_event_names_job(first, undoing, editor)
    assert first.changes == {"tags": {"added": [], "removed": ["new"]}}
    assert first.reverts == Event.objects.get(job_id=job.id, person_id=people[0].pk)


def test_remove_takes_the_tags_off_and_undo_puts_them_back(people, editor):
    tag(people[0], "VIP", "Gold")
    tag(people[1], "gold")
    before = {p.pk: snapshot(p) for p in people}
    job = start("tags.remove", {"tags": ["gold", "vip", "unknown"]}, editor)

    outcomes = by_person(run(job, [p.pk for p in people]))

    assert [outcomes[p.pk].changed for p in people] == [True, True, False, False, False]
    assert tag_names(people[0]) == tag_names(people[1]) == []
    assert events_of(job).first().changes == {"tags": {"added": [], "removed": ["Gold", "VIP"]}}
    assert outcomes[people[0].pk].undo["tags"] == ["Gold", "VIP"]

    # A tag nobody has any more may be deleted; the undo makes it again.
    Tag.objects.filter(name="VIP").delete()
    _undoing, result = undo(job, list(outcomes.values()), editor)

    assert all(o.changed and not o.error_code for o in result)
    for person in people:
        assert snapshot(person) == before[person.pk] | {"tag_ids": snapshot(person)["tag_ids"]}
    assert tag_names(people[0]) == ["Gold", "VIP"]


def test_undo_names_a_later_tag_change_as_what_changed(people, editor):
    job = start("tags.add", {"tags": ["vip"]}, editor)
    outcomes = run(job, [people[0].pk])
    tag(people[0], "other")
    _undoing, (result,) = undo(job, outcomes, editor)
    assert result.error_code == ErrorCode.CHANGED_SINCE
    assert "Tags changed by tests" in result.message
    assert tag_names(people[0]) == ["other", "vip"]


def test_undo_of_a_person_deleted_since_is_changed_since(people, editor):
    job = start("tags.add", {"tags": ["vip"]}, editor)
    outcomes = run(job, [people[0].pk, people[1].pk])
    Person.objects.filter(pk=people[0].pk).delete()
    _undoing, result = undo(job, outcomes, editor)
    assert result[0].error_code == ErrorCode.CHANGED_SINCE
    assert result[1].changed


@pytest.mark.parametrize("kind", ["tags.add", "tags.remove"])
def test_preview_shows_before_and_after_and_writes_nothing(people, editor, kind):
    tag(people[0], "VIP", "Gold")
    params = actions.get(kind).clean_params({"tags": ["vip", "New"]})
    counts = (Tag.objects.count(), PersonTag.objects.count(), Event.objects.count())
    gone = people[4].pk
    Person.objects.filter(pk=gone).delete()

    with CaptureQueriesContext(connection) as queries:
        rows = actions.get(kind).preview(params, [p.pk for p in people])

    assert not [q for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert (Tag.objects.count(), PersonTag.objects.count(), Event.objects.count()) == counts
    assert [row.person_id for row in rows] == [p.pk for p in people]
    first = rows[0]
    assert first.label == people[0].display_name
    assert first.before == {"Tags": "Gold, VIP"}
    if kind == "tags.add":
        assert first.after == {"Tags": "Gold, New, VIP"}
        assert rows[1].after == {"Tags": "New, VIP"}
    else:
        assert first.after == {"Tags": "Gold"}
        assert rows[1].before == rows[1].after == {"Tags": "—"}
    assert rows[-1].error == f"Person {gone} does not exist."


def person_rows_written() -> int:
    """Rows of people_person updated so far in this transaction (PostgreSQL's counters)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'people_person'"
        )
        return cursor.fetchone()[0]


def assert_tag_ids_follow_the_links(people: list[Person]) -> None:
    for person in Person.objects.filter(pk__in=[p.pk for p in people]):
        assert sorted(person.tag_ids) == sorted(person.tags.values_list("pk", flat=True))


@pytest.mark.postgres_only
@pytest.mark.parametrize("kind", ["tags.add", "tags.remove"])
def test_each_changed_persons_row_is_written_once_and_its_tag_ids_follow(people, editor, kind):
    tag(people[0], "a", "b")
    tag(people[1], "b")
    job = start(kind, {"tags": ["a", "B", "c"]}, editor)

    written = person_rows_written()
    outcomes = run(job, [p.pk for p in people])
    changed = sum(o.changed for o in outcomes)
    assert person_rows_written() - written == changed  # the links' triggers wrote none
    assert_tag_ids_follow_the_links(people)

    written = person_rows_written()
    undo(job, outcomes, editor)
    assert person_rows_written() - written == changed
    assert_tag_ids_follow_the_links(people)
    # The triggers still keep them when links are written otherwise.
    tag(people[2], "d")
    services.person_remove_tags(person=people[0], actor=SYSTEM, names=["a"])
    assert_tag_ids_follow_the_links(people)
