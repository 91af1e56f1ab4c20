"""One row of a file read as an edit of a person: the mapped cells turned into the keyword
arguments of people.changes.merge_changes (the rules of a one-record edit), parsed, and the
row's match value; an error names the row's column and cell."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from core.errors import DomainError, ErrorCode
from people import custom_attributes as attribute_types
from people.changes import PersonChanges, attribute_definitions_named, merge_changes
from people.models import AttributeDefinition, DataType
from transfer import columns

# DomainError.field (the vendor's spelling) of a target whose field is not its header.
ERROR_FIELDS = {"phones": "contactInformation.phone", "emails": "contactInformation.email"}


@dataclass
class RowError:
    code: str
    message: str
    column: str = ""
    value: str = ""


@dataclass
class Row:
    number: int
    item: dict[str, Any] = field(default_factory=dict)  # merge_changes' keyword arguments
    changes: PersonChanges | None = None
    match: str | None = None  # the normalized match value, None when the row has none
    error: RowError | None = None


def reading_key(options: dict[str, Any]) -> str:
    """A digest of what decides how rows are read and matched: the conflicts of a file under
    these options (transfer.models.ImportConflict) are keyed by it."""
    wanted = {"mapping": options["mapping"], "match": options["match"]}
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def identifier_key(target: str, value: str) -> str:
    """An identifier as the planning pass compares it: an externalId in NFC, a phone's digits
    (without a leading 00), an email case-folded."""
    value = value.strip()
    if target == "externalId":
        value = unicodedata.normalize("NFC", value)
        return "" if value.lower() == "null" else value
    if target == "phones":
        digits = "".join(c for c in value if c.isdigit())
        return digits[2:] if digits.startswith("00") else digits
    return value.casefold()


class Reader:
    """Reads the rows of one file under one import's options."""

    def __init__(self, options: dict[str, Any], headers: list[str]) -> None:
        self.options = options
        self.headers = headers
        mapping = options["mapping"]
        self.columns = [
            (index, header, mapping.get(header, ""))
            for index, header in enumerate(headers)
            if mapping.get(header)
        ]
        self.header_of = {target: header for _, header, target in self.columns}
        custom = [
            target[len(columns.CUSTOM_PREFIX) :]
            for _, _, target in self.columns
            if target.startswith(columns.CUSTOM_PREFIX)
        ]
        self.definitions: dict[str, AttributeDefinition] = attribute_definitions_named(custom)
        self.column_of_field = {
            ERROR_FIELDS.get(target, target): header for target, header in self.header_of.items()
        }
        self.clear = options["empty"] == "clear"
        self.replace_tags = options["tags"] == "replace"

    def read(self, number: int, cells: list[str]) -> Row:
        row = Row(number)
        if len(cells) > len(self.headers) and any(c.strip() for c in cells[len(self.headers) :]):
            row.error = RowError(
                ErrorCode.BAD_REQUEST,
                f"Row {number} has {len(cells)} cells; the header names {len(self.headers)}.",
            )
            return row
        item: dict[str, Any] = {}
        try:
            for index, header, target in self.columns:
                cell = cells[index].strip() if index < len(cells) else ""
                self._put(item, header, target, cell)
            row.changes = merge_changes(**item, definitions=self.definitions)
        except DomainError as error:
            header = self.column_of_field.get(error.field or "", "")
            row.error = RowError(error.code, error.message, header, self.cell(cells, header))
            return row
        row.item = item
        row.match = self._match(row.changes)
        return row

    def keys(self, cells: list[str]) -> tuple[str | None, list[tuple[str, str]]]:
        """The row's match value and its identifiers, as planning's pass over the whole file
        compares them: spelled alike (``identifier_key``) rather than parsed, which would take
        most of the planning (phonenumbers: 0.2 ms a number). A spelling the key misses
        (a national phone number) is still caught by the chunk's checks against the
        database, only later."""
        found = []
        for index, _, target in self.columns:
            if target == "externalId" or target in columns.IDENTIFIER_COLUMNS:
                cell = cells[index] if index < len(cells) else ""
                values = [cell] if target == "externalId" else columns.split_cell(cell)
                for value in values:
                    key = identifier_key(target, value)
                    if key:
                        found.append((target, key))
        match = next((key for target, key in found if target == self.options["match"]), None)
        return match, found

    def cell(self, cells: list[str], header: str) -> str:
        if header not in self.headers:
            return ""
        index = self.headers.index(header)
        return cells[index] if index < len(cells) else ""

    def _put(self, item: dict[str, Any], header: str, target: str, cell: str) -> None:
        if target in columns.IDENTIFIER_COLUMNS:
            if cell:
                item[target] = columns.split_cell(cell)
        elif target == "tags":
            if cell or (self.clear and self.replace_tags):
                item["tags"] = columns.split_cell(cell)
        elif target.startswith(columns.CUSTOM_PREFIX):
            name = target[len(columns.CUSTOM_PREFIX) :]
            if cell or self.clear:
                values = item.setdefault("custom_attributes", {})
                values[name] = self._custom_value(name, header, cell) if cell else None
        elif cell or (self.clear and target != "type"):
            item.setdefault("fields", {})[target] = cell

    def _custom_value(self, name: str, header: str, cell: str) -> Any:
        definition = self.definitions.get(name)
        if definition is None:
            return cell  # merge_changes names the undefined attribute
        if definition.data_type == DataType.LIST_OF_OBJECTS:
            try:
                cell = json.loads(cell)
            except ValueError:
                raise DomainError(
                    ErrorCode.BAD_REQUEST,
                    f"{name} must be a list of objects written as JSON.",
                    f"customAttributes.{name}",
                ) from None
        return attribute_types.read_value_text(definition, cell)

    def _match(self, changes: PersonChanges) -> str | None:
        key = self.options["match"]
        if key == "externalId":
            return changes.fields.get("external_id") or None
        if key == "phones":
            return changes.phones[0].number if changes.phones else None
        return changes.emails[0] if changes.emails else None
