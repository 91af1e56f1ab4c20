"""Formula injection: a cell a spreadsheet would run is written with a leading quote, and
``restore`` (which an import calls) gives every value back exactly, phones included."""

from __future__ import annotations

import pytest

from people import services
from people.history import Actor
from tests.transfer.export_support import csv_rows, xlsx_rows
from transfer.columns import neutralize, restore

DANGEROUS = [
    '=HYPERLINK("http://evil.example","click")',
    "+385 1 6419 710",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["Ana", "'t Hooft", "", "a=b", "O'Brien", "'", "''"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert neutralize(text) == "'" + text
    assert restore(neutralize(text)) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_any_other_cell_is_written_as_it_is(text):
    assert neutralize(text) == text
    assert restore(text) == text


@pytest.mark.parametrize("text", ["'=1+1", "''+385", "'-", "'@x"])
def test_a_value_that_already_looks_neutralized_comes_back_as_it_was(text):
    """One more quote on the way out, one off on the way in: the round trip is exact."""
    assert neutralize(text) == "'" + text
    assert restore(neutralize(text)) == text


def test_an_export_neutralizes_injected_cells_in_csv_and_xlsx(editor_client, db):
    services.person_create(
        actor=Actor.system("tests"),
        fields={
            "firstName": "=1+1",
            "lastName": "@SUM(A1)",
            "city": "-2",
            "address": "+1 Main Street",
        },
        phones=["+385 1 6419-710"],
        tags=["+vip"],
    )
    data = {
        "all": "1",
        "query": "",
        "columns": ["firstName", "lastName", "city", "address", "phones", "tags"],
    }
    for file_format, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
        response = editor_client.post("/export/", {**data, "format": file_format})
        assert response.status_code == 200
        [row] = read(response)
        assert row == {
            "firstName": "'=1+1",
            "lastName": "'@SUM(A1)",
            "city": "'-2",
            "address": "'+1 Main Street",
            "phones": "'+38516419710",
            "tags": "'+vip",
        }
        assert restore(row["phones"]) == "+38516419710"
