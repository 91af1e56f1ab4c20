"""Reading an uploaded CSV file: the checks a file must pass before any row is looked at,
each refused with a DomainError that names the rule (``details["rule"]``) and where the file
breaks it.

UTF-8 with or without a byte order mark, ``,`` or ``;`` (sniffed from the header row), quoted
fields with the delimiter, quotes and line breaks inside. At most TRANSFER_IMPORT_MAX_BYTES
(100 MB) and TRANSFER_IMPORT_MAX_ROWS (1,000,000) data rows.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings

from core.errors import DomainError, ErrorCode
from transfer.columns import restore

MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 1_000_000
# Bytes read to tell a binary file (a spreadsheet, an archive, an image) from text.
SNIFF_BYTES = 8192
DELIMITERS = ",;"
# A CSV field may be as long as a profile picture URL or a list of objects; the csv module's
# default (128 KiB) refuses longer ones with an error that names no rule.
FIELD_LIMIT = 1024 * 1024

csv.field_size_limit(FIELD_LIMIT)


def max_bytes() -> int:
    return getattr(settings, "TRANSFER_IMPORT_MAX_BYTES", MAX_BYTES)


def max_rows() -> int:
    return getattr(settings, "TRANSFER_IMPORT_MAX_ROWS", MAX_ROWS)


def refused(rule: str, message: str, **details) -> DomainError:
    code = ErrorCode.BAD_REQUEST if rule in ("too_large", "too_many_rows") else None
    return DomainError(
        code or ErrorCode.REQUEST_FORMAT_INVALID, message, "file", {"rule": rule, **details}
    )


@dataclass
class ParsedFile:
    headers: list[str]
    delimiter: str
    size: int
    # (row number, cells), the header being row 1: read as they are taken, so that a million
    # rows are never all in memory; a row past the limit or a broken record raises then.
    rows: Iterator[tuple[int, list[str]]]


def read_csv(stream: IO[bytes], *, size: int | None = None) -> ParsedFile:
    """The file's header and data rows, or a DomainError naming the rule it breaks."""
    limit = max_bytes()
    if size is not None and size > limit:
        raise _too_large(size, limit)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(None, limit)
    if not data.strip():
        raise refused("no_header", "The file is empty: the first row must name the columns.")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise refused(
            "not_csv",
            "This is not a CSV file (it holds binary data): export the sheet as CSV, UTF-8.",
        )
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = bom + error.start
        row = data[:offset].count(b"\n") + 1
        raise refused(
            "encoding",
            f"The file is not UTF-8: the byte at offset {offset} (row {row}) is not valid "
            "UTF-8. Save the file as CSV UTF-8.",
            offset=offset,
            row=row,
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        # A NUL past the first bytes: no text file holds one, and PostgreSQL stores none.
        row = text.count("\n", 0, nul) + 1
        raise refused(
            "not_csv",
            f"This is not a CSV file: row {row} holds a NUL character (binary data).",
            row=row,
        )
    delimiter = sniff_delimiter(text)
    length = len(data)
    del data  # the text alone is kept while the rows are read
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = _headers(next(records, None))
    except csv.Error as error:
        raise _unreadable(records, error) from None
    return ParsedFile(headers, delimiter, length, _rows(records))


def _unreadable(records, error: csv.Error) -> DomainError:
    return refused(
        "not_csv",
        f"This is not a readable CSV file (row {records.line_num}): {error}.",
        row=records.line_num,
    )


def _too_large(size: int | None, limit: int) -> DomainError:
    given = f" ({size:,} bytes)" if size is not None else ""
    return refused(
        "too_large",
        f"The file is too large{given}: at most {limit:,} bytes can be imported at once. "
        "Split it into several files.",
        limit=limit,
    )


def sniff_delimiter(text: str) -> str:
    """``;`` when the header row has more of them than commas outside quotes, else ``,``."""
    header = text.split("\n", 1)[0]
    counts = {delimiter: 0 for delimiter in DELIMITERS}
    quoted = False
    for character in header:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    return ";" if counts[";"] > counts[","] else ","


def _headers(header: list[str] | None) -> list[str]:
    headers = [name.strip() for name in header or []]
    if not any(headers):
        raise refused("no_header", "The first row must name the columns; it is empty.")
    seen: dict[str, str] = {}
    duplicates = []
    for name in headers:
        key = name.casefold()
        if key in seen and name not in duplicates:
            duplicates.append(name)
        seen[key] = name
    if duplicates:
        raise refused(
            "duplicate_headers",
            f"Each column may appear once; the header row repeats {', '.join(duplicates)}.",
            headers=duplicates,
        )
    if "" in headers:
        position = headers.index("") + 1
        raise refused(
            "no_header",
            f"Column {position} of the header row has no name.",
            column=position,
        )
    return headers


def _rows(records) -> Iterator[tuple[int, list[str]]]:
    limit = max_rows()
    count = 0
    number = 1
    while True:
        try:
            cells = next(records, None)
        except csv.Error as error:
            raise _unreadable(records, error) from None
        if cells is None:
            return
        number += 1
        if not any(cell.strip() for cell in cells):
            continue
        if count == limit:
            raise refused(
                "too_many_rows",
                f"The file has more than {limit:,} rows: split it into several files.",
                limit=limit,
            )
        count += 1
        yield number, [restore(cell) for cell in cells]
