"""The import's services, shared by the upload page, the API and ``manage.py import_people``:
take a file (checked, its rows stored), start its job (dry run or real), and the failing rows
as a CSV report."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import IO, Any

from django.db import connection, transaction

from jobs import engine
from jobs.models import Job, JobRowError
from people.batches import ROWS_PER_STATEMENT
from people.history import Actor
from transfer.imports import mapping, reading
from transfer.imports.action import KIND, import_query
from transfer.models import ImportFile, ImportRow

# Rows per COPY statement while a file is stored (well under a second each).
ROWS_PER_COPY = 20_000
ERROR_HEADERS = ["row", "column", "value", "code", "message"]


def import_file_upload(
    *,
    stream: IO[bytes],
    name: str,
    actor: Actor,
    size: int | None = None,
    skip_unknown: bool = False,
) -> ImportFile:
    """The file checked (transfer.imports.reading; unknown columns refused unless
    ``skip_unknown``) and stored with its rows, in one transaction."""
    parsed = reading.read_csv(stream, size=size)
    if not skip_unknown:
        error = mapping.unknown_columns(parsed.headers)
        if error is not None:
            raise error
    user = getattr(actor, "user", None)
    with transaction.atomic():
        # A row past the limit or a broken record (raised while the rows are read) rolls
        # the file back whole.
        file = ImportFile.objects.create(
            name=name[:255],
            size=parsed.size,
            delimiter=parsed.delimiter,
            headers=parsed.headers,
            uploaded_by=user if user is not None and user.pk else None,
            actor_label=actor.label[:255],
        )
        file.rows = _store_rows(file, parsed.rows)
        file.save(update_fields=["rows"])
    return file


def _store_rows(file: ImportFile, rows: Iterator[tuple[int, list[str]]]) -> int:
    """Write the file's rows as they are read; how many. On PostgreSQL by COPY (a million
    rows in seconds, where INSERTs of a few thousand rows each took over a minute, longer
    than an upload request may take); elsewhere INSERTs of ROWS_PER_STATEMENT rows."""
    count = 0
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(ImportRow._meta.db_table)
        # A COPY per ROWS_PER_COPY rows: each statement well within the database's statement
        # timeout (DB_STATEMENT_TIMEOUT_MS, 5 s), whatever the file's size.
        for batch in _batches(rows, ROWS_PER_COPY):
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} (file_id, number, cells) FROM STDIN") as copy,
            ):
                for number, cells in batch:
                    copy.write_row((file.pk, number, json.dumps(cells)))
            count += len(batch)
        return count
    for batch in _batches(rows, ROWS_PER_STATEMENT):
        ImportRow.objects.bulk_create(
            [ImportRow(file=file, number=number, cells=cells) for number, cells in batch]
        )
        count += len(batch)
    return count


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_start(
    *, file: ImportFile, options: dict[str, Any], actor: Actor, dry_run: bool = False
) -> Job:
    """A job importing ``file`` with ``options`` (transfer.imports.mapping.clean_options):
    a dry run checks every row and writes nothing. The mapping is remembered for the next
    file with these headers."""
    cleaned = mapping.clean_options({**options, "file": file.pk})
    with transaction.atomic():
        mapping.remember(file.headers, cleaned["mapping"])
        return engine.start_job(
            kind=KIND, query=import_query(cleaned), params=cleaned, actor=actor, dry_run=dry_run
        )


def preview_rows(file: ImportFile, count: int = 5) -> list[list[str]]:
    """The file's first rows, each cell under its header."""
    width = len(file.headers)
    rows = ImportRow.objects.filter(file=file).order_by("number")[:count]
    return [(row.cells + [""] * width)[:width] for row in rows]


def error_rows(job: Job) -> Iterator[list[str]]:
    errors = JobRowError.objects.filter(job=job).order_by("row", "pk")
    for error in errors.iterator(chunk_size=2000):
        yield [str(error.row or ""), error.column, error.value, error.code, error.message]


def errors_csv(job: Job) -> Iterator[str]:
    """The failing rows as CSV, a line at a time (row, column, value, code, message)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in [ERROR_HEADERS, *error_rows(job)]:
        writer.writerow(line)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
