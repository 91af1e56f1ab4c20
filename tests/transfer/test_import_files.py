"""A file is checked before any row is read: each bad file is refused with the rule it
breaks (DomainError details["rule"]) and where; BOM and ``;`` are read."""

from __future__ import annotations

import pytest

from core.errors import DomainError, ErrorCode
from transfer.imports import mapping
from transfer.models import ImportFile, ImportRow

pytestmark = pytest.mark.django_db


def refused(upload, path, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        upload(path, **kwargs)
    assert not ImportFile.objects.exists()
    return caught.value


def test_it_reads_a_bom_and_semicolons_and_quoted_fields(csv_file, upload):
    rows = [["externalId", "firstName", "address"], ["e1", "Ana", 'Main St; 1, "A"\nFloor 2']]
    file = upload(csv_file(rows, delimiter=";", bom=True))
    assert (file.delimiter, file.headers, file.rows) == (
        ";",
        ["externalId", "firstName", "address"],
        1,
    )
    row = ImportRow.objects.get(file=file)
    assert (row.number, row.cells) == (2, ["e1", "Ana", 'Main St; 1, "A"\nFloor 2'])


def test_it_takes_the_export_s_formula_quote_off(csv_file, upload):
    file = upload(csv_file([["externalId", "firstName"], ["e1", "'=SUM(A1)"], ["e2", "'plain"]]))
    cells = list(ImportRow.objects.filter(file=file).values_list("cells", flat=True))
    assert cells == [["e1", "=SUM(A1)"], ["e2", "'plain"]]


def test_blank_rows_are_skipped_and_rows_keep_their_numbers(csv_file, upload):
    file = upload(csv_file([["externalId"], ["e1"], [""], ["e3"]]))
    numbers = list(ImportRow.objects.filter(file=file).values_list("number", flat=True))
    assert numbers == [2, 4]


def test_a_binary_file_is_not_csv(tmp_path, upload):
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary")
    error = refused(upload, path)
    assert (error.code, error.details["rule"]) == (ErrorCode.REQUEST_FORMAT_INVALID, "not_csv")
    assert "not a CSV file" in error.message


def test_a_file_not_in_utf8_names_the_byte_and_row(tmp_path, upload):
    path = tmp_path / "latin1.csv"
    path.write_bytes("externalId,firstName\ne1,Ana\ne2,Jos\xe9\n".encode("latin-1"))
    error = refused(upload, path)
    assert error.details == {"rule": "encoding", "offset": 34, "row": 3}
    assert "not UTF-8" in error.message and "offset 34 (row 3)" in error.message


@pytest.mark.parametrize("content", [b"", b"\n\n", b",,\ne1,Ana\n"])
def test_a_file_without_a_header_is_refused(tmp_path, upload, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert refused(upload, path).details["rule"] == "no_header"


def test_duplicate_headers_are_refused(csv_file, upload):
    error = refused(upload, csv_file([["externalId", "firstName", "FirstName"], ["e1", "a", "b"]]))
    assert error.details == {"rule": "duplicate_headers", "headers": ["FirstName"]}


def test_unknown_columns_are_refused_unless_skipped(csv_file, upload):
    path = csv_file([["externalId", "Notes", "Shoe size"], ["e1", "x", "42"]])
    error = refused(upload, path)
    assert error.details == {"rule": "unknown_columns", "headers": ["Notes", "Shoe size"]}
    file = upload(path, skip_unknown=True)
    assert mapping.suggest(file.headers)[0] == {
        "externalId": "externalId",
        "Notes": "",
        "Shoe size": "",
    }


def test_a_file_over_the_size_limit_is_refused(csv_file, upload, settings):
    settings.TRANSFER_IMPORT_MAX_BYTES = 100
    error = refused(upload, csv_file([["externalId"], *[[f"e{n}"] for n in range(50)]]))
    assert (error.code, error.details["rule"]) == (ErrorCode.BAD_REQUEST, "too_large")


def test_a_file_over_the_row_limit_is_refused(csv_file, upload, settings):
    settings.TRANSFER_IMPORT_MAX_ROWS = 3
    path = csv_file([["externalId"], *[[f"e{n}"] for n in range(4)]])
    error = refused(upload, path)
    assert (error.code, error.details["rule"]) == (ErrorCode.BAD_REQUEST, "too_many_rows")
    settings.TRANSFER_IMPORT_MAX_ROWS = 4
    assert upload(path).rows == 4


def test_headers_match_by_vendor_name_label_or_definition(db):
    from people.models import AttributeDefinition

    AttributeDefinition.objects.create(name="Loyalty Level", data_type="STRING")
    suggested, unknown = mapping.suggest(
        [
            "EXTERNALID",
            "First name",
            "loyalty level",
            "customAttributes.Loyalty Level",
            "id",
            "devices",
        ]
    )
    assert unknown == []
    assert suggested == {
        "EXTERNALID": "externalId",
        "First name": "firstName",
        "loyalty level": "customAttributes.Loyalty Level",
        "customAttributes.Loyalty Level": "customAttributes.Loyalty Level",
        "id": "",
        "devices": "",
    }


def test_the_mapping_chosen_is_remembered_for_the_header_set(csv_file, upload, run_import):
    path = csv_file([["externalId", "Given"], ["e1", "Ana"]])
    file = upload(path, skip_unknown=True)
    run_import(file, mapping={"Given": "firstName"}, dry_run=True)
    again = upload(path)  # no unknown column now: "Given" is remembered as firstName
    assert mapping.suggest(again.headers)[0] == {"externalId": "externalId", "Given": "firstName"}


def test_options_are_checked(csv_file, upload, run_import):
    file = upload(csv_file([["externalId", "firstName", "lastName"], ["e1", "a", "b"]]))
    for options, field in [
        ({"match": "emails"}, "match"),
        ({"mode": "merge"}, "mode"),
        ({"mapping": {"firstName": "lastName"}}, "mapping"),
        ({"mapping": {"firstName": "shoeSize"}}, "mapping"),
    ]:
        with pytest.raises(DomainError) as caught:
            run_import(file, **options)
        assert caught.value.field == field


def test_binary_data_deep_in_a_file_refuses_it_whole(tmp_path, upload):
    path = tmp_path / "late-nul.csv"
    rows = "".join(f"e{n},Name{n}\n" for n in range(2000))
    path.write_bytes(f"externalId,firstName\n{rows}e-last,Bad\x00Name\n".encode())
    error = refused(upload, path)
    assert error.details["rule"] == "not_csv" and error.details["row"] == 2002


def test_a_file_is_stored_in_several_copies_each_within_the_statement_timeout(
    monkeypatch, csv_file, upload
):
    from transfer.imports import services as import_services
    from transfer.models import ImportRow

    monkeypatch.setattr(import_services, "ROWS_PER_COPY", 10)
    rows = [["externalId", "firstName"], *[[f"c{n}", f"N{n}"] for n in range(25)]]
    file = upload(csv_file(rows))
    assert file.rows == 25
    numbers = list(ImportRow.objects.filter(file=file).values_list("number", flat=True))
    assert sorted(numbers) == list(range(2, 27))
