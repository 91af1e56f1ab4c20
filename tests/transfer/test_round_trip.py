"""The round trip: a view exported with every column and imported back in update mode changes
nobody: no person's version moves, no event is written, and the job counts every row as
unchanged. The people carry what a cell can spoil: accents, cells a spreadsheet would read as
a formula (a name starting with "=", a phone starting with "+", a nickname starting with "@"),
several phones, emails and tags in one cell, and a custom attribute of every type."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from people import services
from people.models import Event, Person
from tests.profiles import define_attributes
from transfer import columns, exports
from transfer.imports import services as imports

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(system_actor):
    define_attributes()
    made = [
        services.person_create(
            actor=system_actor,
            fields={
                "externalId": "crm-1",
                "firstName": '=HYPERLINK("http://evil")',
                "lastName": "Šarić-Đurđević",
                "gender": "FEMALE",
                "birthDate": "1990-04-01",
                "city": "Zagreb",
                "country": "Croatia",
                "preferredLanguage": "hr",
                "type": "CUSTOMER",
            },
            phones=["+385 91 234 5678", "+1 202 555 0143"],
            emails=["ana@example.com", "ana.s@example.org"],
            tags=["vip", "Black Friday", "-minus"],
            custom_attributes={
                "Nickname": "@annie",
                "Visits": 12,
                "Balance": Decimal("-3.25"),
                "Newsletter": True,
                "Anniversary": "2020-02-29",
                "LastSeen": "2026-11-30T08:15:00Z",
                "Orders": [{"sku": "A-1", "qty": 2, "paid": True}, {"sku": "+B", "qty": 1}],
            },
        ),
        services.person_create(
            actor=system_actor,
            fields={"externalId": "crm-2", "firstName": "Bruno", "lastName": "O'Neill"},
            emails=["bruno@example.com"],
        ),
        services.person_create(
            actor=system_actor,
            fields={"externalId": "crm-3", "firstName": "Cvita", "address": "Ilica 1, Zagreb"},
            tags=["newsletter"],
            custom_attributes={"Newsletter": False, "Visits": 0},
        ),
    ]
    return made


def export_csv(editor) -> bytes:
    export = exports.export_of(
        query={"ids": list(Person.objects.values_list("pk", flat=True))},
        headers=None,
        file_format="csv",
        user=editor,
    )
    assert export.masked is False
    lines = exports.stream_lines(export, actor_label=editor.username, source="UI")
    return "".join(lines).encode("utf-8")


@pytest.mark.parametrize("tags", ["add", "replace"])
@pytest.mark.parametrize("empty", ["keep", "clear"])
def test_an_exported_file_imports_back_changing_nothing(
    people, editor, operator_actor, run_import, tags, empty
):
    data = export_csv(editor)
    text = data.decode("utf-8-sig")
    # What the file holds: every person, the formula cells protected, several values a cell.
    assert "'=HYPERLINK" in text and "'+385912345678" in text and "'@annie" in text
    first = next(csv.DictReader(io.StringIO(text)))
    assert set(columns.split_cell(columns.restore(first["tags"]))) == {
        "vip",
        "Black Friday",
        "-minus",
    }
    file = imports.import_file_upload(
        stream=io.BytesIO(data), name="export.csv", actor=operator_actor
    )
    versions = dict(Person.objects.values_list("pk", "version"))
    events = Event.objects.count()

    job = run_import(file, match="externalId", mode="update", tags=tags, empty=empty)

    assert (job.state, job.total, job.failed, job.created, job.changed) == ("DONE", 3, 0, 0, 0)
    assert dict(Person.objects.values_list("pk", "version")) == versions
    assert Event.objects.count() == events
