"""Export: everyone a search or a saved view finds (or a selection of people), with the columns
an operator chose, to CSV or XLSX, in constant memory however many people there are.

Two paths, by size. Up to ``STREAM_LIMIT`` people the file is the HTTP response itself
(``stream_lines`` for CSV, ``xlsx_file`` for XLSX), written while the people are read. Past
it, the export is a job on the job engine (kind ``export``, transfer.export_jobs): each chunk
of people writes its rows to a part file under TRANSFER_ROOT/exports/<job id>/, and once the
job is done its file is the header then the parts in chunk order, streamed.

The bound: a search page shows up to 1,000 rows; ten pages of them stream in about a second
(ten keyset batches of five statements each), well within one request, while a million take a
minute and a half, which belongs on the workers (a request would hold a web process that long,
and die with a deploy). A bounded count (``is_small``) tells the two apart without counting
everyone.

Either way people are read in batches of ``BATCH_SIZE`` in id order, and what a batch needs
beside the person rows (identities, tags, custom attribute values, installations) is read in
one statement per kind: at most five statements a batch whatever its size
(tests/transfer/test_export_statements.py). Phones, emails and externalIds are masked for a
role that does not see personal data, as the pages mask them (people.masking); every cell goes
through ``transfer.columns.neutralize`` (formula injection). Every export is audited on the
"portal.audit" log: who, which people (the query), which columns and how many rows.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models.expressions import RawSQL
from openpyxl import Workbook

from core.errors import DomainError, ErrorCode
from installations.models import Installation
from people import masking
from people.custom_attributes import format_decimal, from_row, serialize_scalar, serialize_value
from people.models import (
    AttributeValue,
    ContactIdentity,
    DataType,
    IdentityKind,
    Person,
    PersonTag,
)
from populations import population
from transfer import columns as vocabulary
from transfer.columns import Column

audit_log = logging.getLogger("portal.audit")

KIND = "export"
CSV = "csv"
XLSX = "xlsx"
FORMATS = {CSV: "CSV", XLSX: "Excel (XLSX)"}
# Up to this many people the file is the response; more are a job (see the module's text).
STREAM_LIMIT = 10_000
# People read per batch while streaming (a job's batch is its chunk, JOB_CHUNK_SIZE).
BATCH_SIZE = 1000
# Rows of one XLSX sheet (Excel's limit is 1,048,576 with the header): more go on the next.
SHEET_ROWS = 1_000_000
# How long a download waits for the XLSX a worker was asked to make before asking again.
XLSX_RETRY_SECONDS = 15 * 60
# A part file's bytes read at a time while a job's file streams.
READ_BLOCK = 64 * 1024
# openpyxl refuses the control characters XML 1.0 cannot hold.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# ---------------------------------------------------------------------------------------------
# Columns


def available_columns() -> list[Column]:
    """Every column an export may have, in the order it writes them."""
    return vocabulary.all_columns()


def default_headers(available: Sequence[Column] | None = None) -> list[str]:
    """What an export has unless the operator chooses: every column."""
    return [column.header for column in (available or available_columns())]


def choose_columns(headers: Sequence[str] | None) -> list[Column]:
    """The columns named by ``headers`` (in the export's own order); every column when none
    are named. An unknown header is a BAD_REQUEST naming it."""
    available = available_columns()
    if not headers:
        return available
    if isinstance(headers, str) or not all(isinstance(h, str) for h in headers):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "columns must be a list of headers.", "columns"
        )
    known = {column.header for column in available}
    unknown = [header for header in headers if header not in known]
    if unknown:
        raise DomainError(
            ErrorCode.BAD_REQUEST, f"columns: no column named {unknown[0]!r}.", "columns"
        )
    wanted = set(headers)
    return [column for column in available if column.header in wanted]


def job_columns(headers: Sequence[str]) -> list[Column]:
    """The columns a job was started with, each chunk the same: a custom attribute whose
    definition was deleted since (only one nobody had a value of may be) stays, empty."""
    available = {column.header: column for column in available_columns()}
    return [
        available.get(header) or Column(header, header, vocabulary.CUSTOM) for header in headers
    ]


def clean_format(file_format: Any) -> str:
    text = str(file_format or CSV).strip().lower()
    if text not in FORMATS:
        raise DomainError(ErrorCode.BAD_REQUEST, "format must be csv or xlsx.", "format")
    return text


@dataclass(frozen=True)
class Export:
    """What one export writes: its people (a stored population: ``SearchQuery.to_dict()`` or
    ``{"ids": [...]}``), its columns, its format and whether personal data is masked."""

    query: dict[str, Any]
    columns: list[Column]
    file_format: str = CSV
    masked: bool = True

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def params(self) -> dict[str, Any]:
        """The job's parameters (``ExportAction.clean_params`` reads them back)."""
        return {"format": self.file_format, "columns": self.headers, "masked": self.masked}


def export_of(
    *, query: dict[str, Any], headers: Sequence[str] | None, file_format: Any, user
) -> Export:
    """An export of ``query`` by ``user`` (an operator or an API key's principal): masked
    unless they see personal data. DomainError for a column or a format that does not exist."""
    return Export(
        query=query,
        columns=choose_columns(headers),
        file_format=clean_format(file_format),
        masked=not masking.sees_personal_data(user),
    )


def is_small(query: dict[str, Any]) -> bool:
    """Whether the population is at most STREAM_LIMIT people: a count that stops there."""
    if population.SELECTION in query:
        return len(query[population.SELECTION]) <= STREAM_LIMIT
    found = population.people(query).order_by().values("pk")[: STREAM_LIMIT + 1]
    return found.count() <= STREAM_LIMIT


# ---------------------------------------------------------------------------------------------
# Rows


class Rows:
    """The rows of an export, a batch of people at a time, in a fixed number of statements
    per batch: the people, then one statement for each kind of related rows the columns need
    (identities, tags, custom attribute values, installations)."""

    def __init__(self, columns: Sequence[Column], *, masked: bool) -> None:
        self.columns = list(columns)
        self.masked = masked
        headers = {column.header for column in self.columns}
        self.fields = ["pk", "created_at", "modified_at"] + [
            column.field for column in self.columns if column.group == vocabulary.STANDARD
        ]
        self.identities = bool(headers & set(vocabulary.IDENTIFIER_COLUMNS))
        self.tags = vocabulary.TAGS in {column.group for column in self.columns}
        self.definitions = {
            column.definition.pk: column.definition
            for column in self.columns
            if column.group == vocabulary.CUSTOM and column.definition is not None
        }
        self.devices = bool(headers & set(vocabulary.DEVICE_COLUMNS))
        self.cells = [self._cell(column) for column in self.columns]

    # Reading

    def people(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """The person rows of these people (those that still exist), in id order."""
        return list(Person.objects.filter(pk__in=id_list(ids)).order_by("pk").values(*self.fields))

    def batches(self, query: dict[str, Any], size: int = BATCH_SIZE) -> Iterator[list[list[str]]]:
        """Everyone ``query`` finds, a batch of rows at a time: a keyset walk on the id (a
        selection: its ids, a batch at a time)."""
        if population.SELECTION in query:
            chosen = sorted({int(pk) for pk in query[population.SELECTION]})
            for start in range(0, len(chosen), size):
                people = self.people(chosen[start : start + size])
                if people:
                    yield self.of_people(people)
            return
        base = population.people(query)
        last = 0
        while True:
            people = list(base.filter(pk__gt=last).order_by("pk").values(*self.fields)[:size])
            if people:
                yield self.of_people(people)
            if len(people) < size:
                return
            last = people[-1]["pk"]

    def of_people(self, people: list[dict[str, Any]]) -> list[list[str]]:
        ids = [person["pk"] for person in people]
        related = Related(
            identities=self._identities(ids) if self.identities else {},
            tags=self._tags(ids) if self.tags else {},
            values=self._values(ids) if self.definitions else {},
            devices=self._devices(ids) if self.devices else {},
        )
        return [self.row(person, related) for person in people]

    def _identities(self, ids: list[int]) -> dict[int, dict[str, list[str]]]:
        found: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"phones": [], "emails": []})
        rows = (
            ContactIdentity.objects.filter(person_id__in=id_list(ids))
            .order_by("person_id", "pk")
            .values_list("person_id", "kind", "value")
        )
        for person_id, kind, value in rows:
            if kind == IdentityKind.PHONE:
                found[person_id]["phones"].append(
                    masking.mask_phone(value) if self.masked else f"+{value}"
                )
            else:
                found[person_id]["emails"].append(
                    masking.mask_email(value) if self.masked else value
                )
        return found

    def _tags(self, ids: list[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = defaultdict(list)
        rows = PersonTag.objects.filter(person_id__in=id_list(ids)).values_list(
            "person_id", "tag__name"
        )
        for person_id, name in rows:
            found[person_id].append(name)
        return found

    def _values(self, ids: list[int]) -> dict[int, dict[int, AttributeValue]]:
        found: dict[int, dict[int, AttributeValue]] = defaultdict(dict)
        rows = AttributeValue.objects.filter(
            person_id__in=id_list(ids), definition_id__in=list(self.definitions)
        )
        for value in rows:
            found[value.person_id][value.definition_id] = value
        return found

    def _devices(self, ids: list[int]) -> dict[int, list[tuple[str, bool, str]]]:
        found: dict[int, list[tuple[str, bool, str]]] = defaultdict(list)
        rows = Installation.objects.filter(person_id__in=id_list(ids)).values_list(
            "person_id", "os", "is_primary", "application__name"
        )
        for person_id, os_name, is_primary, application in rows:
            found[person_id].append((os_name, is_primary, application))
        return found

    # Writing one row

    def row(self, person: dict[str, Any], related: Related) -> list[str]:
        neutralize = vocabulary.neutralize
        return [neutralize(cell(person, related)) for cell in self.cells]

    def _cell(self, column: Column) -> Callable[[dict[str, Any], Related], str]:
        """How the column's cell is read from a person row and the batch's related rows."""
        header = column.header
        if column.group == vocabulary.STANDARD:
            field = column.field
            if header == "externalId" and self.masked:
                return lambda p, r: masking.mask_text(p[field]) if p[field] else ""
            if header == "birthDate":
                return lambda p, r: p[field].isoformat() if p[field] else ""
            return lambda p, r: "" if p[field] is None else str(p[field])
        if column.group == vocabulary.CUSTOM:
            definition = column.definition
            if definition is None:
                return lambda p, r: ""
            return lambda p, r: custom_text(
                definition, r.values.get(p["pk"], {}).get(definition.pk)
            )
        if header in vocabulary.IDENTIFIER_COLUMNS:
            return lambda p, r: vocabulary.join_cell(r.identities.get(p["pk"], {}).get(header, []))
        if header == "tags":
            return lambda p, r: vocabulary.join_cell(
                sorted(r.tags.get(p["pk"], []), key=str.casefold)
            )
        if header == "id":
            return lambda p, r: str(p["pk"])
        if header in ("createdAt", "modifiedAt"):
            field = "created_at" if header == "createdAt" else "modified_at"
            return lambda p, r: serialize_scalar(DataType.DATE_TIME, p[field])
        if header == "devices":
            return lambda p, r: str(len(r.devices.get(p["pk"], [])))
        if header == "platforms":
            return lambda p, r: vocabulary.join_cell(
                sorted({os_name for os_name, _, _ in r.devices.get(p["pk"], []) if os_name})
            )
        if header == "primaryApplication":
            return lambda p, r: next(
                (app for _, primary, app in r.devices.get(p["pk"], []) if primary), ""
            )
        raise AssertionError(f"no cell for column {header!r}")


def id_list(ids: Sequence[int]):
    """The right side of ``pk__in`` for a batch's ids. On PostgreSQL one array parameter,
    unnested, rather than a placeholder per id: psycopg reads a statement's placeholders one
    by one, and a chunk's five lists of 1,000 ids took 50 ms of its 140 (measured on 30,000
    generated people)."""
    ids = [int(pk) for pk in ids]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return ids


@dataclass
class Related:
    """A batch's rows beside the people, by person id."""

    identities: dict[int, dict[str, list[str]]]
    tags: dict[int, list[str]]
    values: dict[int, dict[int, AttributeValue]]
    devices: dict[int, list[tuple[str, bool, str]]]


def custom_text(definition, stored: AttributeValue | None) -> str:
    """A custom attribute's value as text an import reads back (people.custom_attributes'
    ``from_text``): numbers exact, booleans "true"/"false", dates ISO 8601, a list of objects
    its JSON."""
    if stored is None:
        return ""
    value = from_row(definition, stored)
    if value is None:
        return ""
    if definition.data_type == DataType.LIST_OF_OBJECTS:
        return json.dumps(
            serialize_value(definition, value), cls=DjangoJSONEncoder, ensure_ascii=False
        )
    if definition.data_type == DataType.BOOLEAN:
        return "true" if value else "false"
    if definition.data_type == DataType.DECIMAL:
        return format_decimal(value)
    return str(serialize_scalar(definition.data_type, value))


# ---------------------------------------------------------------------------------------------
# Files


class Echo:
    """A file that hands back what is written to it: csv.writer's lines, streamed."""

    def write(self, value: str) -> str:
        return value


def csv_line(writer, row: Sequence[str]) -> str:
    return writer.writerow(row)


def stream_lines(export: Export, *, actor_label: str, source: str) -> Iterator[str]:
    """The CSV file of a small export, a batch at a time (the byte order mark first), audited
    when it ends (with the rows sent so far, when the download stops early)."""
    writer = csv.writer(Echo())
    rows = Rows(export.columns, masked=export.masked)
    count = 0
    try:
        yield "\ufeff" + writer.writerow(export.headers)
        for batch in rows.batches(export.query):
            # A batch's lines at once: one write to the client per batch, not per row.
            yield "".join(writer.writerow(row) for row in batch)
            count += len(batch)
    finally:
        audit("export streamed", export, actor_label=actor_label, source=source, rows=count)


def xlsx_file(export: Export, *, actor_label: str, source: str):
    """The XLSX file of a small export: a temporary file (openpyxl's write-only workbook
    keeps one row in memory), rewound, to stream."""
    rows = Rows(export.columns, masked=export.masked)
    # Handed to the response, which closes it (and so deletes it).
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    count = write_xlsx(handle, export.headers, rows.batches(export.query))
    handle.seek(0)
    audit("export streamed", export, actor_label=actor_label, source=source, rows=count)
    return handle


def write_xlsx(handle, headers: list[str], batches: Iterable[Sequence[Sequence[str]]]) -> int:
    """Write the rows into an XLSX workbook in ``handle``: every cell a string (the header's
    and every row's, as the CSV has them), SHEET_ROWS rows a sheet. The number of rows."""
    workbook = Workbook(write_only=True)
    sheet = None
    count = 0
    for batch in batches:
        for row in batch:
            if count % SHEET_ROWS == 0:
                sheet = workbook.create_sheet(f"People {count // SHEET_ROWS + 1}")
                sheet.append(headers)
            assert sheet is not None
            sheet.append([_XML_ILLEGAL.sub("", cell) for cell in row])
            count += 1
    if sheet is None:
        workbook.create_sheet("People 1").append(headers)
    workbook.save(handle)
    return count


def audit(action: str, export: Export, *, actor_label: str, source: str, rows: int) -> None:
    """One line on the audit log: who exported which people (the query), which columns, in
    which format and how many rows."""
    audit_log.info(
        "%s: %s rows (%s; %s) by %s (source %s)",
        action,
        rows,
        export.file_format,
        ", ".join(export.headers),
        actor_label,
        source,
        extra={
            "audit": {
                "action": action,
                "target": "people",
                "actor": actor_label,
                "source": source,
                "query": export.query,
                "columns": export.headers,
                "format": export.file_format,
                "masked": export.masked,
                "rows": rows,
            }
        },
    )
