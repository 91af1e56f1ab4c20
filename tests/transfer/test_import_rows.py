"""Importing rows: created, updated, unchanged, failing rows reported with their row and
column, duplicates inside the file, a dry run writes nothing, a re-run changes nothing, undo."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import ErrorCode
from jobs.models import JobRowError, JobState
from people.apply import custom_attribute_values
from people.models import (
    AttributeDefinition,
    ContactIdentity,
    Event,
    Person,
    Source,
)
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

HEADER = ["externalId", "firstName", "lastName", "birthDate", "phones", "emails", "tags"]


def clean_rows(count: int, start: int = 0) -> list[list[str]]:
    return [
        [
            f"ext-{n}",
            f"First{n}",
            f"Last{n}",
            "1990-01-02",
            f"+3851641{n:04d}",
            f"person{n}@example.com",
            "vip|gold" if n % 2 else "",
        ]
        for n in range(start, start + count)
    ]


def errors_of(job):
    return list(
        JobRowError.objects.filter(job=job).order_by("row").values_list("row", "column", "code")
    )


def test_a_clean_file_creates_everyone(csv_file, upload, run_import, settings):
    settings.JOB_CHUNK_SIZE = 7
    file = upload(csv_file([HEADER, *clean_rows(20)]))
    job = run_import(file)
    assert job.state == JobState.DONE
    assert (job.total, job.done, job.created, job.changed, job.failed) == (20, 20, 20, 20, 0)
    person = Person.objects.get(external_id="ext-3")
    assert (person.first_name, person.last_name, str(person.birth_date)) == (
        "First3",
        "Last3",
        "1990-01-02",
    )
    assert set(person.tags.values_list("name", flat=True)) == {"vip", "gold"}
    assert ContactIdentity.objects.filter(person=person).count() == 2
    event = Event.objects.get(person=person)
    assert (event.source, event.job_id) == (Source.IMPORT, job.pk)


def test_a_dry_run_counts_and_writes_nothing(csv_file, upload, run_import):
    PersonFactory(external_id="ext-1", first_name="Old")
    file = upload(csv_file([HEADER, *clean_rows(5)]))
    job = run_import(file, dry_run=True)
    assert (job.done, job.created, job.changed, job.failed) == (5, 4, 5, 0)
    assert Person.objects.count() == 1
    assert Person.objects.get().first_name == "Old"


def test_a_rerun_of_the_same_file_changes_nothing(csv_file, upload, run_import):
    path = csv_file([HEADER, *clean_rows(10)])
    first = run_import(upload(path), tags="replace")
    assert first.created == 10
    events = Event.objects.count()
    again = run_import(upload(path), tags="replace")
    assert (again.done, again.created, again.changed, again.failed) == (10, 0, 0, 0)
    assert Event.objects.count() == events


def test_it_updates_by_email_and_replaces_tags(csv_file, upload, run_import):
    person = PersonFactory(first_name="Old")
    ContactIdentity.objects.create(person=person, kind="EMAIL", value="a@example.com")
    person.tags.create(name="old")
    file = upload(csv_file([["emails", "firstName", "tags"], ["A@Example.com", "New", "fresh"]]))
    job = run_import(file, match="emails", tags="replace", mode="update")
    assert (job.changed, job.created, job.failed) == (1, 0, 0)
    person.refresh_from_db()
    assert person.first_name == "New"
    assert list(person.tags.values_list("name", flat=True)) == ["fresh"]


def test_update_only_and_create_only_refuse_what_they_do_not_do(csv_file, upload, run_import):
    PersonFactory(external_id="ext-0")
    file = upload(csv_file([HEADER, *clean_rows(2)]))
    update = run_import(file, mode="update")
    assert errors_of(update) == [(3, "externalId", ErrorCode.NOT_FOUND)]
    create = run_import(file, mode="create")
    assert errors_of(create) == [(2, "externalId", ErrorCode.CONFLICT)]


def test_empty_cells_keep_or_clear(csv_file, upload, run_import):
    PersonFactory(external_id="ext-0", first_name="Kept", last_name="Gone")
    file = upload(csv_file([["externalId", "firstName", "lastName"], ["ext-0", "", "New"]]))
    run_import(file)
    person = Person.objects.get(external_id="ext-0")
    assert (person.first_name, person.last_name) == ("Kept", "New")
    run_import(file, empty="clear")
    person.refresh_from_db()
    assert person.first_name == ""


def test_bad_rows_of_every_kind_are_reported_with_row_and_column(csv_file, upload, run_import):
    AttributeDefinition.objects.create(name="Age", data_type="INTEGER")
    taken = PersonFactory(external_id="taken")
    ContactIdentity.objects.create(person=taken, kind="EMAIL", value="taken@example.com")
    header = [*HEADER, "gender", "customAttributes.Age"]
    rows = [row + ["MALE", "30"] for row in clean_rows(100)]
    bad = {
        5: (4, "not-a-phone", "phones", ErrorCode.PHONE_INVALID),
        15: (5, "not-an-email", "emails", ErrorCode.EMAIL_INVALID),
        25: (3, "2990-01-01", "birthDate", ErrorCode.BAD_REQUEST),
        35: (7, "ROBOT", "gender", ErrorCode.BAD_REQUEST),
        45: (8, "thirty", "customAttributes.Age", ErrorCode.REQUEST_FORMAT_INVALID),
        55: (5, "taken@example.com", "emails", ErrorCode.USER_MERGE_INTERRUPTED),
    }
    for index, (column, value, _, _) in bad.items():
        rows[index][column] = value
    file = upload(csv_file([header, *rows]))
    dry = run_import(file, dry_run=True)
    expected = [(index + 2, header_name, code) for index, (_, _, header_name, code) in bad.items()]
    assert errors_of(dry) == expected
    assert (dry.created, dry.failed) == (94, 6)
    job = run_import(file)
    assert errors_of(job) == expected
    assert (job.created, job.failed) == (94, 6)
    value = JobRowError.objects.get(job=job, row=47).value
    assert value == "thirty"
    assert custom_attribute_values(Person.objects.get(external_id="ext-1")) == {"Age": 30}


def test_an_identifier_of_two_people_in_the_file_fails_the_later_row(
    csv_file, upload, run_import, settings
):
    settings.JOB_CHUNK_SIZE = 2
    rows = clean_rows(6)
    rows[4][5] = "person0@example.com"  # another person's email, in another chunk
    rows.append(["ext-1", "Again", "Last1", "", "", "", ""])  # the same person twice
    file = upload(csv_file([HEADER, *rows]))
    for dry_run in (True, False):
        job = run_import(file, dry_run=dry_run)
        assert errors_of(job) == [(6, "emails", ErrorCode.USER_MERGE_INTERRUPTED)]
    assert Person.objects.get(external_id="ext-1").first_name == "Again"
    assert not Person.objects.filter(external_id="ext-4").exists()


def test_undo_deletes_the_created_and_puts_back_the_updated(csv_file, upload, run_import, run_undo):
    AttributeDefinition.objects.create(name="Age", data_type="INTEGER")
    old = PersonFactory(external_id="ext-0", first_name="Old")
    old.tags.create(name="kept")
    header = [*HEADER, "Age"]
    rows = [row + ["41"] for row in clean_rows(3)]
    file = upload(csv_file([header, *rows]))
    job = run_import(file, tags="replace")
    assert (job.created, job.changed) == (2, 3)
    old.refresh_from_db()
    assert old.first_name == "First0"
    changed_since = Person.objects.get(external_id="ext-2")
    Person.objects.filter(pk=changed_since.pk).update(version=99)
    undo = run_undo(job)
    assert undo.state == JobState.DONE
    assert (undo.changed, undo.failed) == (2, 1)
    assert JobRowError.objects.get(job=undo).code == ErrorCode.CHANGED_SINCE
    assert set(Person.objects.values_list("external_id", flat=True)) == {"ext-0", "ext-2"}
    old.refresh_from_db()
    assert old.first_name == "Old"
    assert list(old.tags.values_list("name", flat=True)) == ["kept"]
    assert not ContactIdentity.objects.filter(person=old).exists()
    assert custom_attribute_values(old) == {}


@pytest.mark.postgres_only
def test_undo_locks_definitions_and_tags_before_people(csv_file, upload, run_import, run_undo):
    """attribute_definition_delete and tag_delete lock the definition or tag, then its people:
    the undo takes them in that order too (FOR SHARE before any person's FOR UPDATE)."""
    AttributeDefinition.objects.create(name="Age", data_type="INTEGER")
    old = PersonFactory(external_id="ext-0", first_name="Old")
    old.tags.create(name="kept")
    file = upload(csv_file([[*HEADER, "Age"], *[row + ["41"] for row in clean_rows(1)]]))
    job = run_import(file, tags="replace")
    with CaptureQueriesContext(connection) as queries:
        run_undo(job)
    statements = [q["sql"] for q in queries.captured_queries]

    def first(table: str, lock: str) -> int:
        return next(
            i for i, sql in enumerate(statements) if f'FROM "{table}"' in sql and lock in sql
        )

    people = first("people_person", "FOR UPDATE")
    assert first("people_attributedefinition", "FOR SHARE") < people
    assert first("people_tag", "FOR SHARE") < people


def test_the_import_is_an_editor_s_undoable_action():
    from core import roles
    from jobs import actions

    action = actions.get("people.import")
    assert (action.role, action.undoable) == (roles.EDITOR, True)


def test_new_people_sharing_an_email_fail_the_later_row_and_a_repeat_in_one_row_does_not(
    csv_file, upload, run_import
):
    rows = [
        ["", "A", "", "", "", "same@example.com|same@example.com", ""],
        ["", "B", "", "", "", "SAME@example.com", ""],
    ]
    file = upload(csv_file([HEADER, *rows]))
    job = run_import(file, match="emails")
    assert errors_of(job) == []  # the same email: the same person, updated by the later row
    assert Person.objects.get().first_name == "B"
    file = upload(
        csv_file(
            [
                HEADER,
                ["e1", "A", "", "", "", "x@example.com", ""],
                ["e2", "B", "", "", "", "x@example.com", ""],
            ]
        )
    )
    job = run_import(file)
    assert errors_of(job) == [(3, "emails", ErrorCode.USER_MERGE_INTERRUPTED)]


def test_empty_tags_with_replace_and_clear_take_every_tag_off(csv_file, upload, run_import):
    person = PersonFactory(external_id="t1")
    person.tags.create(name="old")
    file = upload(csv_file([["externalId", "tags"], ["t1", ""]]))
    run_import(file, tags="replace")
    assert person.tags.count() == 1  # empty cells kept
    job = run_import(file, tags="replace", empty="clear")
    assert (job.changed, person.tags.count()) == (1, 0)
