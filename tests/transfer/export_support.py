"""Reading export files back as a spreadsheet program would: the CSV with Python's csv module,
the XLSX with openpyxl."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from transfer.columns import ENCODING


def content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(response) -> list[dict[str, str]]:
    data = content(response)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(data.decode(ENCODING), newline="")))


def xlsx_rows(response) -> list[dict[str, str]]:
    workbook = load_workbook(io.BytesIO(content(response)), read_only=True)
    rows: list[dict[str, str]] = []
    for sheet in workbook.worksheets:
        lines = list(sheet.iter_rows(values_only=True))
        header = lines[0]
        rows += [
            {h: ("" if v is None else v) for h, v in zip(header, line, strict=True)}
            for line in lines[1:]
        ]
    return rows
