"""Which column of a file goes to which value of a person, and how rows meet people: the
import's options, checked before a job starts.

A header maps to a target (a header of transfer.columns) by the vendor's name or the label,
case-insensitively, ``customAttributes.<name>`` or a definition's bare name; the read-only
columns an export writes (id, times, devices) are recognized and skipped. The operator may
change the mapping; the last one chosen for a header set is remembered (ColumnMapping).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from core.errors import DomainError, ErrorCode
from people.name_keys import name_key
from transfer import columns
from transfer.models import ColumnMapping, ImportFile

SKIP = ""
MATCH_KEYS = {"externalId": "External ID", "phones": "Phone", "emails": "Email"}
MODES = {
    "upsert": "Create or update",
    "create": "Create only",
    "update": "Update only",
}
TAGS_MODES = {"add": "Add to the person's tags", "replace": "Replace the person's tags"}
EMPTY_MODES = {"keep": "Leave the value as it is", "clear": "Clear the value"}
DEFAULTS = {"match": "externalId", "mode": "upsert", "tags": "add", "empty": "keep"}


def targets() -> list[columns.Column]:
    """What a column may be imported into: every column but the read-only ones."""
    return [c for c in columns.all_columns() if c.group != columns.READ_ONLY]


def headers_key(headers: list[str]) -> str:
    normalized = [header.strip().casefold() for header in headers]
    return hashlib.sha256(json.dumps(normalized).encode()).hexdigest()


def _names(column: columns.Column) -> list[str]:
    names = [column.header, column.label]
    if column.group == columns.CUSTOM:
        names.append(column.definition.name)
    return [name_key(name) for name in names]


def suggest(headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """header -> target for each header (SKIP for a read-only column), and the headers that
    match nothing. The mapping remembered for this header set comes first."""
    remembered = ColumnMapping.objects.filter(key=headers_key(headers)).first()
    known = {c.header for c in targets()}
    by_name: dict[str, str] = {}
    for column in columns.all_columns():
        for name in _names(column):
            by_name.setdefault(name, SKIP if column.group == columns.READ_ONLY else column.header)
    mapping, unknown = {}, []
    for header in headers:
        if remembered and header in remembered.mapping:
            target = remembered.mapping[header]
            if target == SKIP or target in known:
                mapping[header] = target
                continue
        target = by_name.get(name_key(header))
        if target is None:
            unknown.append(header)
            mapping[header] = SKIP
        else:
            mapping[header] = target
    return mapping, unknown


def unknown_columns(headers: list[str]) -> DomainError | None:
    _, unknown = suggest(headers)
    if not unknown:
        return None
    return DomainError(
        ErrorCode.REQUEST_FORMAT_INVALID,
        f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. A header must "
        "be a person attribute (externalId, firstName, ..., phones, emails, tags), "
        "customAttributes.<name> or a defined attribute's name; or skip unknown columns.",
        "file",
        {"rule": "unknown_columns", "headers": unknown},
    )


def remember(headers: list[str], mapping: dict[str, str]) -> None:
    ColumnMapping.objects.update_or_create(
        key=headers_key(headers), defaults={"headers": headers, "mapping": mapping}
    )


def _bad(message: str, field: str) -> DomainError:
    return DomainError(ErrorCode.BAD_REQUEST, message, field)


def clean_options(params: dict[str, Any]) -> dict[str, Any]:
    """The import's options checked: ``file`` (an ImportFile id), ``mapping`` (header ->
    target, every header of the file; missing ones are suggested), ``match`` (externalId,
    phones or emails: a mapped column), ``mode`` (upsert, create, update), ``tags`` (add,
    replace), ``empty`` (keep, clear)."""
    if not isinstance(params, dict):
        raise DomainError(
            ErrorCode.REQUEST_FORMAT_INVALID, "The options must be an object.", "params"
        )
    file_id = params.get("file")
    if not isinstance(file_id, int) or isinstance(file_id, bool):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "file must be a file's id.", "file")
    file = ImportFile.objects.filter(pk=file_id).first()
    if file is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"There is no import file {file_id}.", "file")
    options = {"file": file.pk}
    for name, choices in (
        ("match", MATCH_KEYS),
        ("mode", MODES),
        ("tags", TAGS_MODES),
        ("empty", EMPTY_MODES),
    ):
        value = params.get(name, DEFAULTS[name])
        if value not in choices:
            raise _bad(f"{name} must be one of {', '.join(choices)}, not {value!r}.", name)
        options[name] = value
    given = params.get("mapping") or {}
    if not isinstance(given, dict):
        raise DomainError(ErrorCode.REQUEST_FORMAT_INVALID, "mapping must be an object.", "mapping")
    suggested, _ = suggest(file.headers)
    known = {c.header for c in targets()}
    mapping: dict[str, str] = {}
    used: dict[str, str] = {}
    for header in given:
        if header not in file.headers:
            raise _bad(f"The file has no column {header!r}.", "mapping")
    for header in file.headers:
        target = given.get(header, suggested[header])
        if target is None:
            target = SKIP
        if target != SKIP and target not in known:
            raise _bad(f"Column {header!r}: {target!r} is not a person attribute.", "mapping")
        if target != SKIP and target in used:
            raise _bad(
                f"Columns {used[target]!r} and {header!r} both go to {target}: one only.",
                "mapping",
            )
        if target != SKIP:
            used[target] = header
        mapping[header] = target
    options["mapping"] = mapping
    if options["match"] not in used:
        raise _bad(
            f"The match key {options['match']} is no column of the file: map a column to it, "
            "or match by another.",
            "match",
        )
    return options
