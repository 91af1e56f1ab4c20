"""The columns of an import or export file: one vocabulary for both, so that a file exported
from a view imports back into the same people (the round trip).

A header is the vendor's name for the value (the People API's): the standard attributes
(``firstName``, ``birthDate``, ...), ``externalId``, ``phones`` and ``emails``, ``tags``, and
``customAttributes.<name>`` for each custom attribute definition. An export adds read-only
columns (the person's id, times, and a summary of their devices) that an import recognizes
and leaves alone.

A cell holding several values (phones, emails, tags) separates them with ``|`` (a character
that neither delimiter, ``,`` nor ``;``, uses); an import also takes one value per line.
A list-of-objects custom attribute is its JSON text.

A cell whose text a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) is written with a leading ``'``: ``neutralize`` on export,
``restore`` on import, which give every value back exactly (phones "+385..." included).
Every cell of every format goes through them, CSV and XLSX alike.

An export's CSV is UTF-8 with a byte order mark (Excel reads it as UTF-8 then), comma
separated, lines ending CRLF (Python's csv module); ``ENCODING`` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from people.fields import STANDARD_FIELDS
from people.models import AttributeDefinition

# Several values in one cell.
LIST_SEPARATOR = "|"
# How an export's CSV is written, and how an import reads a CSV (a byte order mark or none).
ENCODING = "utf-8-sig"
CUSTOM_PREFIX = "customAttributes."

STANDARD = "standard"
IDENTIFIER = "identifier"
TAGS = "tags"
CUSTOM = "custom"
READ_ONLY = "read_only"

# Labels an operator reads on the mapping and export pages (and an import matches a header to,
# as well as the vendor's name).
LABELS = {
    "externalId": "External ID",
    "type": "Type",
    "firstName": "First name",
    "lastName": "Last name",
    "middleName": "Middle name",
    "gender": "Gender",
    "birthDate": "Birth date",
    "address": "Address",
    "city": "City",
    "country": "Country",
    "preferredLanguage": "Preferred language",
    "profilePicture": "Profile picture",
    "phones": "Phones",
    "emails": "Emails",
    "tags": "Tags",
    "id": "Person ID",
    "createdAt": "Created",
    "modifiedAt": "Updated",
    "devices": "Devices",
    "platforms": "Platforms",
    "primaryApplication": "Primary device's application",
}
IDENTIFIER_COLUMNS = ("phones", "emails")
# Export only: what the person is in the portal, not a value an import may set.
READ_ONLY_COLUMNS = ("id", "createdAt", "modifiedAt")
DEVICE_COLUMNS = ("devices", "platforms", "primaryApplication")


@dataclass(frozen=True)
class Column:
    header: str  # as written in the file's first row
    label: str
    group: str  # STANDARD, IDENTIFIER, TAGS, CUSTOM or READ_ONLY
    # The model field of a standard attribute; the definition of a custom attribute.
    field: str = ""
    definition: AttributeDefinition | None = None


def standard_columns() -> list[Column]:
    return [
        Column(name, LABELS[name], STANDARD, field=model_field)
        for name, (model_field, _) in STANDARD_FIELDS.items()
    ]


def identifier_columns() -> list[Column]:
    return [Column(name, LABELS[name], IDENTIFIER) for name in IDENTIFIER_COLUMNS]


def tag_column() -> Column:
    return Column("tags", LABELS["tags"], TAGS)


def custom_columns() -> list[Column]:
    return [
        Column(f"{CUSTOM_PREFIX}{definition.name}", definition.name, CUSTOM, definition=definition)
        for definition in AttributeDefinition.objects.order_by("name")
    ]


def read_only_columns(*, devices: bool = True) -> list[Column]:
    names = READ_ONLY_COLUMNS + (DEVICE_COLUMNS if devices else ())
    return [Column(name, LABELS[name], READ_ONLY) for name in names]


def all_columns() -> list[Column]:
    """Every column, in the order an export writes them by default."""
    return [
        *read_only_columns(devices=False),
        *standard_columns(),
        *identifier_columns(),
        tag_column(),
        *custom_columns(),
        *[column for column in read_only_columns() if column.header in DEVICE_COLUMNS],
    ]


def split_cell(text: str) -> list[str]:
    """The values of a cell that holds several: separated by ``|`` or new lines, blanks
    dropped."""
    return [
        part.strip()
        for line in text.splitlines()
        for part in line.split(LIST_SEPARATOR)
        if part.strip()
    ]


def join_cell(values: list[str]) -> str:
    return LIST_SEPARATOR.join(values)


# ---------------------------------------------------------------------------------------------
# Cells a spreadsheet would read as a formula (CSV injection)

# A cell that starts with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP, "CSV Injection"): "=HYPERLINK(...)", "+1+cmd|...", "-2+3", "@SUM(...)", and the tab
# and carriage return that some of them skip before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_FIRST = frozenset("".join(FORMULA_STARTS) + QUOTE)


def _quoted_formula(text: str) -> bool:
    """Quotes, then a formula start: what ``neutralize`` writes (and what it must quote once
    more when a value already looks like that, so that ``restore`` gives it back as it was)."""
    stripped = text.lstrip(QUOTE)
    return len(stripped) < len(text) and stripped.startswith(FORMULA_STARTS)


def neutralize(text: str) -> str:
    """The cell an export writes for ``text``: a value that a spreadsheet would run as a
    formula gets a leading ``'`` (OWASP's advice: spreadsheets show it as text, and hide the
    quote). A phone "+385 1 6419 710" is written "'+385 1 6419 710".

    The rule is exact both ways: a value that is already quotes then a formula start
    ("'=x") gets one more quote ("''=x"), and ``restore`` takes exactly one off, so every
    value comes back as it was (tests/transfer/test_export_cells.py)."""
    if not text or text[0] not in _FIRST:
        return text  # most cells: one look at the first character
    if text.startswith(FORMULA_STARTS) or _quoted_formula(text):
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """A cell as an import reads it: the one quote ``neutralize`` put before a formula start
    taken off ("'+385..." is "+385...", "''=x" is "'=x"); any other cell as it is, so a name
    like "'t Hooft" keeps its quote."""
    if _quoted_formula(text):
        return text[1:]
    return text
