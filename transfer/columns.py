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
"""

from __future__ import annotations

from dataclasses import dataclass

from people.fields import STANDARD_FIELDS
from people.models import AttributeDefinition

# Several values in one cell.
LIST_SEPARATOR = "|"
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


# A cell starting with one of these is a formula to a spreadsheet: the export writes it with a
# leading ' (OWASP's CSV injection advice), and the import takes that ' off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def restore(text: str) -> str:
    """A cell as it was before the export protected it: one leading ' before a formula's
    first character is dropped."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text
