"""Read models of a result page: plain typed rows, each page read by one statement.

On PostgreSQL a person's phones and emails, tags and installations come in the person's own
row as JSON arrays (correlated subqueries, each an index probe per person of the page); on
the portable backend three more statements read them for the whole page. Either way the
rows are dataclasses, not model instances: what a result row shows and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL

from installations.models import Application, Installation
from people.models import ContactIdentity, IdentityKind, Person, PersonType, Tag

from .backends import backend


class RowList(tuple):
    """Related rows of a person row; ``all()`` reads like a relation's manager."""

    __slots__ = ()

    def all(self) -> RowList:
        return self


@dataclass(frozen=True, slots=True)
class IdentityRow:
    id: int
    kind: str
    value: str
    national_number: str


@dataclass(frozen=True, slots=True)
class TagRow:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class InstallationRow:
    id: int
    push_registration_id: str
    os: str
    is_primary: bool
    registration_enabled: bool
    application: ApplicationRow


PERSON_FIELDS = (
    "id",
    "type",
    "external_id",
    "first_name",
    "last_name",
    "search_name",
    "search_name_reversed",
    "modified_at",
    "created_at",
)
TYPE_LABELS = dict(PersonType.choices)


@dataclass(eq=False, slots=True)
class PersonRow:
    """One person of a result page with the phones and emails, tags and installations that a
    result row shows (identities by id, tags by name, the primary installation first)."""

    id: int
    type: str
    external_id: str | None
    first_name: str
    last_name: str
    search_name: str
    search_name_reversed: str
    modified_at: dt.datetime
    created_at: dt.datetime
    identities: RowList = field(default_factory=RowList)
    tags: RowList = field(default_factory=RowList)
    installations: RowList = field(default_factory=RowList)
    # Whether the page's identifier lookup finds anyone (a name page read first).
    identifier_found: bool = False

    @property
    def pk(self) -> int:
        return self.id

    def __eq__(self, other: object) -> bool:
        """A row is its person: equal to another row or to the Person of the same id."""
        if isinstance(other, PersonRow | Person):
            return self.pk == other.pk
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.external_id or f"Person {self.id}"

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)

    @property
    def phones(self) -> list[IdentityRow]:
        return [i for i in self.identities if i.kind == IdentityKind.PHONE]

    @property
    def emails(self) -> list[str]:
        return [i.value for i in self.identities if i.kind == IdentityKind.EMAIL]

    @property
    def main_phone(self) -> IdentityRow | None:
        phones = self.phones
        return phones[0] if phones else None

    @property
    def more_phones(self) -> int:
        return max(len(self.phones) - 1, 0)

    @property
    def main_email(self) -> str:
        emails = self.emails
        return emails[0] if emails else ""

    @property
    def more_emails(self) -> int:
        return max(len(self.emails) - 1, 0)

    @property
    def platforms(self) -> str:
        return ", ".join(sorted({d.os or "unknown" for d in self.installations}))

    @property
    def has_primary(self) -> bool:
        return any(d.is_primary for d in self.installations)


# ---------------------------------------------------------------------------------------------
# PostgreSQL: the related rows in the person's row

# What a row reads of an identity and an installation: the columns that the indexes
# identity_person_list_idx and installation_person_list_idx hold, so that they are read from
# the index alone, not from the table's pages too.
IDENTITY_COLUMNS = ("id", "kind", "value", "national_number")
INSTALLATION_COLUMNS = ("id", "push_registration_id", "os", "is_primary", "registration_enabled")


def _json_columns() -> dict[str, str]:
    person = Person._meta.db_table
    identity = ", ".join(f"'{name}', i.{name}" for name in IDENTITY_COLUMNS)
    installation = ", ".join(f"'{name}', d.{name}" for name in INSTALLATION_COLUMNS)
    return {
        "json_identities": (
            f"SELECT COALESCE(jsonb_agg(jsonb_build_object({identity}) ORDER BY i.id), '[]') "
            f'FROM {ContactIdentity._meta.db_table} i WHERE i.person_id = "{person}"."id"'
        ),
        # The person's tag ids are on its own row (people 0010): the few tags are read from
        # people_tag, not the person's entries of people_person_tags (cold pages).
        "json_tags": (
            "SELECT COALESCE(jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name) "
            f"ORDER BY t.name), '[]') FROM {Tag._meta.db_table} t "
            f'WHERE t.id = ANY("{person}".tag_ids)'
        ),
        "json_installations": (
            f"SELECT COALESCE(jsonb_agg(jsonb_build_object({installation}, "
            "'app_id', a.id, 'app_code', a.code, 'app_name', a.name) "
            "ORDER BY d.is_primary DESC, d.id), '[]') "
            f"FROM {Installation._meta.db_table} d JOIN {Application._meta.db_table} a "
            f'ON a.id = d.application_id WHERE d.person_id = "{person}"."id"'
        ),
    }


JSON_COLUMNS = _json_columns()


def _identity(row: dict[str, Any]) -> IdentityRow:
    return IdentityRow(row["id"], row["kind"], row["value"], row["national_number"])


def _installation(row: dict[str, Any], applications: dict[int, ApplicationRow]) -> InstallationRow:
    app_id = row["app_id"]
    application = applications.get(app_id)
    if application is None:
        application = applications[app_id] = ApplicationRow(
            app_id, row["app_code"], row["app_name"]
        )
    return InstallationRow(
        row["id"],
        row["push_registration_id"],
        row["os"],
        row["is_primary"],
        row["registration_enabled"],
        application,
    )


def _rows_in_one_statement(
    queryset: QuerySet[Person], limit: int | None, extra: tuple[str, ...]
) -> list[PersonRow]:
    annotated = queryset.annotate(
        **{
            name: RawSQL(f"({sql})", [], output_field=TextField())
            for name, sql in JSON_COLUMNS.items()
        }
    )
    tags: dict[int, TagRow] = {}
    applications: dict[int, ApplicationRow] = {}
    rows = []
    for values in annotated.values_list(*PERSON_FIELDS, *JSON_COLUMNS, *extra)[:limit]:
        base = values[: len(PERSON_FIELDS)]
        identities, tag_rows, installations = (
            orjson.loads(text) for text in values[len(PERSON_FIELDS) : len(PERSON_FIELDS) + 3]
        )
        person_tags = []
        for tag in tag_rows:
            known = tags.get(tag["id"])
            if known is None:
                known = tags[tag["id"]] = TagRow(tag["id"], tag["name"])
            person_tags.append(known)
        rows.append(
            PersonRow(
                *base,
                identities=RowList(map(_identity, identities)),
                tags=RowList(person_tags),
                installations=RowList(_installation(row, applications) for row in installations),
                identifier_found=bool(values[-1]) if extra else False,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Portable: the page's people, then their related rows in three statements


def _rows_in_four_statements(
    queryset: QuerySet[Person], limit: int | None, extra: tuple[str, ...]
) -> list[PersonRow]:
    rows = [
        PersonRow(
            *values[: len(PERSON_FIELDS)],
            identifier_found=bool(values[-1]) if extra else False,
        )
        for values in queryset.values_list(*PERSON_FIELDS, *extra)[:limit]
    ]
    if not rows:
        return rows
    ids = [row.id for row in rows]
    identities: dict[int, list[IdentityRow]] = {}
    for person_id, *values in (
        ContactIdentity.objects.filter(person_id__in=ids)
        .order_by("id")
        .values_list("person_id", *IDENTITY_COLUMNS)
    ):
        identities.setdefault(person_id, []).append(IdentityRow(*values))
    tags: dict[int, list[TagRow]] = {}
    known: dict[int, TagRow] = {}
    for person_id, tag_id, name in (
        Person.tags.through.objects.filter(person_id__in=ids)
        .order_by("tag__name")
        .values_list("person_id", "tag_id", "tag__name")
    ):
        tag = known.setdefault(tag_id, TagRow(tag_id, name))
        tags.setdefault(person_id, []).append(tag)
    installations: dict[int, list[InstallationRow]] = {}
    applications: dict[int, ApplicationRow] = {}
    for person_id, *values, app_id, app_code, app_name in (
        Installation.objects.filter(person_id__in=ids)
        .order_by("-is_primary", "id")
        .values_list(
            "person_id",
            *INSTALLATION_COLUMNS,
            "application_id",
            "application__code",
            "application__name",
        )
    ):
        application = applications.setdefault(app_id, ApplicationRow(app_id, app_code, app_name))
        installations.setdefault(person_id, []).append(InstallationRow(*values, application))
    for row in rows:
        row.identities = RowList(identities.get(row.id, ()))
        row.tags = RowList(tags.get(row.id, ()))
        row.installations = RowList(installations.get(row.id, ()))
    return rows


def person_rows(
    queryset: QuerySet[Person], *, limit: int | None = None, identifier_found: bool = False
) -> list[PersonRow]:
    """The first ``limit`` people of ``queryset`` (in its order) as result rows.

    ``identifier_found``: the queryset carries that annotation, and each row says it.
    """
    extra = ("identifier_found",) if identifier_found else ()
    if backend().postgresql:
        return _rows_in_one_statement(queryset, limit, extra)
    return _rows_in_four_statements(queryset, limit, extra)


@dataclass
class SearchPage:
    """A page of results: the rows, what the box matched on, and the cursor of the next page."""

    people: list[PersonRow]
    matches: list[Any]  # query.Match
    next_cursor: int | None
    exact: bool  # the box matched a unique identifier (not a name prefix)
    # A name that found nobody, spelled as the names found instead (similar.similar_names);
    # such a page is the only one (no cursor): ``more`` says whether the spelling finds others.
    corrected: str | None = None
    more: bool = False
    other_spellings: list[str] = field(default_factory=list)
    # How many people the query finds (search_people(total=True)): totals.Total, when known
    # without a count; else ``count_later``: compiler.count_people counts them.
    total: Any = None
    count_later: bool = False
    # The people the page is one of: a callable that builds their queryset, to count them;
    # None for a page that is the only one of its kind.
    population: Any = field(default=None, repr=False, compare=False)
    # A page that found nobody: the kinds of identifier the text was looked up as, the
    # externalIds that differ from it only in case, and whether it looks like a phone number
    # that cannot be read as one.
    tried: list[str] = field(default_factory=list)
    other_case_external_ids: list[str] = field(default_factory=list)
    unreadable_phone: bool = False

    @property
    def single_exact(self) -> PersonRow | None:
        return self.people[0] if self.exact and len(self.people) == 1 else None

    @property
    def total_label(self) -> str:
        """What a page can say about the total without counting: "3", or "25+"."""
        more = self.next_cursor is not None or self.more
        return f"{len(self.people)}+" if more else str(len(self.people))
