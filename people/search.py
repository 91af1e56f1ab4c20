"""Finding people: one module that the operator UI, the API list and admin share.

The search box input is classified first (pushRegistrationId, phone, email, externalId, name)
and each kind runs an exact lookup on its own unique index; a name is a prefix range on the
folded name columns. Filters are EXISTS subqueries (no DISTINCT over joins). Pages are keyset
pages: no OFFSET, no COUNT(*).

How each kind stays at index speed with millions of people (docs/scaling.md):

- Exact kinds: one query. The candidate lookups (push registration id, externalId, email,
  phone, national number) are one ``UNION ALL`` inside ``id IN (...)``, each branch a probe of a
  unique or partial index, and on PostgreSQL the page's phones, emails, tags and installations
  come back in the same row as arrays of JSON objects (no prefetch round trips).
- Names: ordered by the folded name itself, so that the page is the first rows of an index
  range (``(search_name COLLATE "C", id)`` on PostgreSQL) and never a sort of every "jo...".
  "first last" and "last first" are two ranges merged in Python; a person is listed once, under
  the first of the two that matches.
- Filters only: newest first, a backward walk of the primary key with EXISTS probes.
- Tags beside a name (and in the API's newest-first list): on PostgreSQL each person's tag ids
  are on the person's row (``tag_ids``, kept by the database) and in the indexes walked, so
  the tag is tested on the index entry (``HasTags``); a tag on few people is read first.

Installations are reached through Person's reverse relation, so this module does not import
the installations app.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from unicodedata import normalize

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    signals,
)
from django.db.models.base import DEFERRED, ModelState
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate, Substr, Upper
from django.db.models.query import ModelIterable
from rapidfuzz.distance import OSA

from core.errors import DomainError
from people import custom_attributes as attribute_types
from people import name_terms
from people.fields import fold, successor
from people.identities import (
    normalize_email,
    normalize_external_id,
    parse_phone,
    try_email,
    try_phone,
)
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    DataType,
    IdentityKind,
    Person,
    Tag,
)
from people.name_keys import name_key

# A page of the operator's result list: what fits on a screen or two (the next page is one
# keyset step away).
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
# Above this many rows a total is an estimate (pg_class.reltuples), never a COUNT(*).
EXACT_COUNT_LIMIT = 100_000
_DIGITS = re.compile(r"\D")
_PHONE_TEXT = re.compile(r"[\d\s\-.()+/]+")
# What a typed name may hold for the similar-name fallback (folded: lower case, no accents).
_NAME_TEXT = re.compile(r"[^\W\d_]+(?:[\s'’.\-]+[^\W\d_]*)*")


def installation_model():
    """The installation model, through Person's reverse relation ``installations``."""
    return Person._meta.get_field("installations").related_model


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class Match:
    """What the search box input matched on: shown to the operator ("phone 38516419710")."""

    kind: str  # pushRegistrationId | phone | nationalPhone | email | externalId | name | id
    value: str

    @property
    def label(self) -> str:
        names = {
            "pushRegistrationId": "pushRegistrationId",
            "phone": "phone",
            "nationalPhone": "phone (national number)",
            "email": "email",
            "externalId": "externalId",
            "name": "name starting with",
            "similarName": "similar name",
            "id": "person id",
        }
        return f"{names.get(self.kind, self.kind)} {self.value}"


@dataclass
class SearchQuery:
    q: str = ""
    type: str | None = None
    tags: list[str] = field(default_factory=list)
    application: str | None = None  # application code
    platform: str | None = None
    has_primary: bool | None = None
    push_enabled: bool | None = None
    attribute: str | None = None  # custom attribute name
    attribute_value: str | None = None  # as typed; read by the definition's type
    attribute_op: str = "eq"  # eq | gt | gte | lt | lte

    @property
    def has_filters(self) -> bool:
        return bool(
            self.type
            or self.tags
            or self.application
            or self.platform
            or self.has_primary is not None
            or self.push_enabled is not None
            or self.attribute
        )


@dataclass
class SearchPage:
    people: list[Person]
    matches: list[Match]
    next_cursor: int | None
    exact: bool  # the box matched a unique identifier (not a name prefix)
    # A name that found nobody, spelled as the names found instead (similar_names); such a
    # page is the only one (no cursor): ``more`` says whether the spelling finds others.
    corrected: str | None = None
    more: bool = False
    other_spellings: list[str] = field(default_factory=list)

    @property
    def single_exact(self) -> Person | None:
        return self.people[0] if self.exact and len(self.people) == 1 else None

    @property
    def total_label(self) -> str:
        """What a page can say about the total without counting: "3", or "25+"."""
        more = self.next_cursor is not None or self.more
        return f"{len(self.people)}+" if more else str(len(self.people))


# ---------------------------------------------------------------------------------------------
# What a result row shows


def _row_prefetches() -> list[Prefetch]:
    installation = installation_model()
    return [
        Prefetch("identities", queryset=ContactIdentity.objects.order_by("id")),
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch(
            "installations",
            queryset=installation.objects.select_related("application").order_by(
                "-is_primary", "id"
            ),
        ),
    ]


def _with_rows(queryset: QuerySet[Person], *, list_rows: bool = False) -> QuerySet[Person]:
    """What a result row shows: in the same statement on PostgreSQL, else prefetched."""
    return _with_related(queryset.prefetch_related(*_row_prefetches()), list_rows=list_rows)


def list_queryset() -> QuerySet[Person]:
    """People with what a result row shows, in a fixed number of queries.

    On PostgreSQL each person row carries its identities, tags and installations as JSON
    (``_with_related``): one statement in all. Elsewhere three prefetch queries follow.
    """
    return _with_rows(Person.objects.all())


# What a result row of the operator list reads of an identity, a tag and an installation;
# the other columns stay deferred (as with ``.only()``): a list does not carry every device's
# system data.
LIST_IDENTITY_FIELDS = ("id", "person_id", "kind", "value", "national_number")
LIST_INSTALLATION_FIELDS = (
    "id",
    "person_id",
    "application_id",
    "push_registration_id",
    "os",
    "is_primary",
    "registration_enabled",
)


def _related_sql(
    *, attribute_values: bool = False, tag_order: str = "t.name", list_rows: bool = False
) -> dict[str, str]:
    """Correlated subqueries: a person's identities, tags and installations as JSON arrays.

    ``to_jsonb(row)`` keys each object by column name; plain SQL keeps the statement cheap to
    build (an ORM JSONObject of every installation field costs more to compile than to run).
    A decimal goes as text, so that it comes back exactly. ``list_rows``: installations with
    LIST_INSTALLATION_FIELDS only. Identities always with LIST_IDENTITY_FIELDS (every column
    but created_at, which nothing shown reads): the index identity_person_list_idx holds
    them, so they are read from it alone, not from the table's pages too (1.6 ms less for
    20 people read from the disk).
    """
    installation = installation_model()._meta.db_table
    application = installation_model()._meta.get_field("application").related_model
    person = Person._meta.db_table
    installation_json, tag_json = "to_jsonb(d)", "to_jsonb(t)"
    pairs = ", ".join(f"'{name}', i.{name}" for name in LIST_IDENTITY_FIELDS)
    identity_json = f"jsonb_build_object({pairs})"
    if list_rows:
        pairs = ", ".join(f"'{name}', d.{name}" for name in LIST_INSTALLATION_FIELDS)
        installation_json = f"jsonb_build_object({pairs})"
        tag_json = "jsonb_build_object('id', t.id, 'name', t.name)"
    sql = {
        "related_identities": (
            f"SELECT COALESCE(jsonb_agg({identity_json} ORDER BY i.id), '[]') "
            f'FROM {ContactIdentity._meta.db_table} i WHERE i.person_id = "{person}"."id"'
        ),
        # The person's tag ids are on its own row (migration 0010): the few tags are read
        # from people_tag, not the person's entries of people_person_tags (cold pages).
        "related_tags": (
            f"SELECT COALESCE(jsonb_agg({tag_json} ORDER BY {tag_order}), '[]') "
            f'FROM {Tag._meta.db_table} t WHERE t.id = ANY("{person}".tag_ids)'
        ),
        "related_installations": (
            f"SELECT COALESCE(jsonb_agg({installation_json} || jsonb_build_object("
            "'app', to_jsonb(a)) ORDER BY d.is_primary DESC, d.id), '[]') "
            f"FROM {installation} d JOIN {application._meta.db_table} a "
            f'ON a.id = d.application_id WHERE d.person_id = "{person}"."id"'
        ),
    }
    if attribute_values:
        sql["related_attribute_values"] = (
            "SELECT COALESCE(jsonb_agg(to_jsonb(v) || jsonb_build_object("
            "'value_number', v.value_number::text, 'definition', to_jsonb(ad)) ORDER BY v.id), "
            f"'[]') FROM {AttributeValue._meta.db_table} v "
            f"JOIN {AttributeDefinition._meta.db_table} ad ON ad.id = v.definition_id "
            f'WHERE v.person_id = "{person}"."id"'
        )
    return sql


class RelatedRowsField(JSONField):
    """The JSON a correlated subquery builds (``_related_sql``), decoded by orjson: a page of
    people carries a few dozen of these documents, and the standard library's decoder took
    about 0.4 ms of a 20-person API page, orjson 0.16. The same values as ``json.loads``: a
    number with a fraction is a float there too (decimals come as text), and DOMAIN.md keeps
    every integer within 64 bits, which orjson reads exactly. A document orjson refuses goes
    to ``JSONField``'s decoder as before.
    """

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str | bytes):
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return super().from_db_value(value, expression, connection)


RELATIONS = {
    "related_identities": "identities",
    "related_tags": "tags",
    "related_installations": "installations",
    "related_attribute_values": "attribute_values",
}


def _with_related(
    queryset: QuerySet[Person],
    *,
    attribute_values: bool = False,
    tag_order: str = "t.name",
    list_rows: bool = False,
) -> QuerySet[Person]:
    """On PostgreSQL: each person row also carries its related rows as JSON arrays.

    Correlated subqueries, each an index probe per person of the page, instead of a prefetch
    query per relation; ``_RelatedRowsIterable`` puts them where the prefetch would have, so
    ``person.identities.all()`` and friends run no query (and the prefetch finds them done).
    """
    if not _on_postgresql():
        return queryset
    queryset = queryset.annotate(
        **{
            name: RawSQL(f"({sql})", [], output_field=RelatedRowsField())
            for name, sql in _related_sql(
                attribute_values=attribute_values, tag_order=tag_order, list_rows=list_rows
            ).items()
        }
    )
    queryset._iterable_class = _RelatedRowsIterable
    return queryset


def with_related_rows(
    queryset: QuerySet[Person], *, attribute_values: bool = False, tags_by_lower_name: bool = False
) -> QuerySet[Person]:
    """``queryset`` whose people come with their identities, tags, installations (and custom
    attribute values) in the same statement on PostgreSQL; elsewhere the queryset's own
    prefetches load them."""
    order = "t.name_key, t.id" if tags_by_lower_name else "t.name"
    return _with_related(queryset, attribute_values=attribute_values, tag_order=order)


def instances_from_json(model, rows: list[dict]) -> list:
    """Model instances from rows as ``to_jsonb`` wrote them."""
    plain = not _has_init_receivers(model)
    return [_instance(model, row, plain) for row in rows]


@functools.cache
def _converters(model) -> tuple[list[str], list]:
    """Field names, and for each a function reading its JSON value (None: as it is)."""
    names, converters = [], []
    for f in model._meta.concrete_fields:
        names.append(f.attname)
        internal = f.get_internal_type()
        if internal == "DateTimeField":
            converters.append(dt.datetime.fromisoformat)
        elif internal == "DateField":
            converters.append(dt.date.fromisoformat)
        elif internal == "DecimalField":
            converters.append(Decimal)
        else:
            converters.append(None)
    return names, converters


def _has_init_receivers(model) -> bool:
    return signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)


def _instance(model, row: dict, plain: bool | None = None):
    """A model instance from its row as JSON, as ``Model.from_db`` makes it; columns missing
    from the row are deferred (read on first use, as with ``.only()``).

    Without ``Model.__init__`` (a dozen times slower for a wide row) unless a model has
    init signal receivers that would expect it.
    """
    names, converters = _converters(model)
    if plain is None:
        plain = not _has_init_receivers(model)
    if not plain:
        values = [
            DEFERRED
            if name not in row
            else row[name]
            if convert is None or row[name] is None
            else convert(row[name])
            for name, convert in zip(names, converters, strict=True)
        ]
        return model.from_db("default", names, values)
    instance = model.__new__(model)
    fields = instance.__dict__
    for name, convert in zip(names, converters, strict=True):
        if name in row:
            value = row[name]
            fields[name] = value if convert is None or value is None else convert(value)
    state = instance._state = ModelState()
    state.adding = False
    state.db = "default"
    return instance


def _set_related(instance, name: str, value) -> None:
    # What select_related leaves (the descriptor's __set__ checks routers and types).
    instance._meta.get_field(name).set_cached_value(instance, value)


@functools.cache
def _empty_queryset(model) -> QuerySet:
    return QuerySet(model=model)


def _cache(person: Person, name: str, model, instances: list) -> None:
    # What prefetch_related leaves: a queryset whose results are known, under the relation's
    # name (the key it uses for a reverse foreign key and for a many-to-many alike). A copy
    # of one empty queryset per model: building a QuerySet (and its Query) per relation and
    # person costs more than the rows. Every QuerySet method clones the query before it
    # changes anything, so sharing it is safe.
    queryset = QuerySet.__new__(QuerySet)
    queryset.__dict__.update(_empty_queryset(model).__dict__)
    queryset._result_cache = instances
    queryset._prefetch_done = True
    if not hasattr(person, "_prefetched_objects_cache"):
        person._prefetched_objects_cache = {}
    person._prefetched_objects_cache[name] = queryset


def prefetched(person: Person, relation: str) -> list:
    """The rows of a prefetched relation (``identities``, ``tags``, ``installations``...) as a
    list: what ``person.<relation>.all()`` returns, without building a related manager per
    call (a result page reads three relations of a page of people)."""
    cache = getattr(person, "_prefetched_objects_cache", {})
    if relation in cache and cache[relation]._result_cache is not None:
        return cache[relation]._result_cache
    return list(getattr(person, relation).all())


class _RelatedRowsIterable(ModelIterable):
    """People whose related rows came as JSON in the same row (``_with_related``).

    Tags, applications and definitions are few: one instance each per statement.
    """

    def __iter__(self):
        installation = installation_model()
        application = installation._meta.get_field("application").related_model
        shared: dict[tuple[type, int], Any] = {}
        models = (ContactIdentity, installation, application, Tag, AttributeValue)
        plain = {model: not _has_init_receivers(model) for model in (*models, AttributeDefinition)}

        def make(model, row: dict):
            return _instance(model, row, plain[model])

        def one(model, row: dict):
            key = (model, row["id"])
            if key not in shared:
                shared[key] = make(model, row)
            return shared[key]

        for person in super().__iter__():
            if hasattr(person, "related_identities"):
                identities = [make(ContactIdentity, row) for row in person.related_identities]
                installations = []
                for row in person.related_installations:
                    item = make(installation, row)
                    _set_related(item, "application", one(application, row["app"]))
                    installations.append(item)
                for item in [*identities, *installations]:
                    _set_related(item, "person", person)
                _cache(person, "identities", ContactIdentity, identities)
                _cache(person, "installations", installation, installations)
                tags = [one(Tag, row) for row in person.related_tags]
                _cache(person, "tags", Tag, tags)
                del person.related_identities, person.related_tags
                del person.related_installations
            if hasattr(person, "related_attribute_values"):
                values = []
                for row in person.related_attribute_values:
                    value = make(AttributeValue, row)
                    _set_related(value, "definition", one(AttributeDefinition, row["definition"]))
                    _set_related(value, "person", person)
                    values.append(value)
                _cache(person, "attribute_values", AttributeValue, values)
                del person.related_attribute_values
            yield person


# ---------------------------------------------------------------------------------------------
# The search box: exact identifiers


@dataclass(frozen=True)
class _Candidate:
    match: Match
    sql: str  # SELECT ... AS person_id FROM one table WHERE an indexed column = %s
    params: tuple[Any, ...]


def _probe(model, person_column: str, match: Match, **equal: Any) -> _Candidate:
    """A lookup by equality on ``model``'s indexed columns, as plain SQL: a few of these make
    one UNION ALL, written directly rather than compiled by the ORM for every search (with
    three querysets and their union, building and compiling the statement took 1.04 ms of a
    5 ms page; so, 0.46 ms)."""
    quote = connection.ops.quote_name
    column = model._meta.get_field(person_column).column
    where = " AND ".join(f"{quote(model._meta.get_field(name).column)} = %s" for name in equal)
    return _Candidate(
        match,
        f"SELECT {quote(column)} AS person_id FROM {quote(model._meta.db_table)} WHERE {where}",
        tuple(equal.values()),
    )


def _candidates(text: str) -> list[_Candidate]:
    """The lookups the input could mean, each a probe of a unique (or partial) index."""
    text = text.strip()
    if not text:
        return []
    found = [
        _probe(
            installation_model(),
            "person",
            Match("pushRegistrationId", text),
            push_registration_id=text,
        ),
        _probe(Person, "id", Match("externalId", text), external_id=normalize("NFC", text)),
    ]
    email = try_email(text) if "@" in text else None
    if email is not None:
        found.append(
            _probe(
                ContactIdentity,
                "person",
                Match("email", email),
                kind=IdentityKind.EMAIL.value,
                value=email,
            )
        )
    digits = _DIGITS.sub("", text)
    if 6 <= len(digits) <= 17 and _PHONE_TEXT.fullmatch(text):
        phone = try_phone(text)
        if phone is not None:
            found.append(
                _probe(
                    ContactIdentity,
                    "person",
                    Match("phone", phone.number),
                    kind=IdentityKind.PHONE.value,
                    value=phone.number,
                )
            )
        # Typed without country code: the national number, with or without the trunk 0.
        national = digits.lstrip("0")
        if national:
            found.append(
                _probe(
                    ContactIdentity,
                    "person",
                    Match("nationalPhone", national),
                    kind=IdentityKind.PHONE.value,
                    national_number=national,
                )
            )
    return found


def _union(candidates: list[_Candidate]) -> RawSQL:
    """The person ids every lookup finds, as a subquery (``pk__in=``)."""
    return RawSQL(
        " UNION ALL ".join(c.sql for c in candidates),
        [param for c in candidates for param in c.params],
    )


def exact_matches(text: str) -> tuple[list[int], list[Match]]:
    """Person ids found by an exact identifier in ``text``, each on a unique index (one query)."""
    candidates = _candidates(text)
    if not candidates:
        return [], []
    sql = " UNION ALL ".join(
        f"SELECT {index}, found.person_id FROM ({c.sql}) AS found"
        for index, c in enumerate(candidates)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [param for c in candidates for param in c.params])
        rows = cursor.fetchall()
    ids: list[int] = []
    matches: list[Match] = []
    for index, candidate in enumerate(candidates):
        new = [pk for i, pk in rows if i == index and pk not in ids]
        if new:
            ids.extend(new[:MAX_PAGE_SIZE])
            matches.append(candidate.match)
    return ids, matches


def _matched(candidates: list[_Candidate], people: list[Person]) -> list[Match]:
    """Which of the lookups found the people of the page (from their prefetched relations)."""
    matches = []
    for candidate in candidates:
        kind, value = candidate.match.kind, candidate.match.value
        for person in people:
            if kind == "externalId":
                hit = person.external_id == value
            elif kind == "pushRegistrationId":
                hit = any(i.push_registration_id == value for i in person.installations.all())
            else:
                hit = any(
                    (i.kind == IdentityKind.EMAIL and i.value == value)
                    if kind == "email"
                    else (i.kind == IdentityKind.PHONE and i.value == value)
                    if kind == "phone"
                    else (i.kind == IdentityKind.PHONE and i.national_number == value)
                    for i in person.identities.all()
                )
            if hit:
                matches.append(candidate.match)
                break
    return matches


# ---------------------------------------------------------------------------------------------
# The search box: names


def name_filter(text: str) -> Q | None:
    """Prefix of "first last" or "last first", case- and accent-insensitive."""
    folded = fold(text)
    if not folded or not any(c.isalpha() for c in folded):
        return None
    return Q(search_name__startswith=folded) | Q(search_name_reversed__startswith=folded)


NAME_COLUMNS = ("search_name", "search_name_reversed")
# A name search that finds nobody tries this many other spellings (similar_names), up to
# this many words typed.
SIMILAR_SPELLINGS = 5
SIMILAR_MAX_WORDS = 4


def _names_first(text: str) -> bool:
    """Whether ``text`` is searched as a name before as an identifier: it could be a name
    (name_filter) and has no digit and no "@" (phones, emails, ids and push registrations
    mostly do)."""
    return (
        "@" not in text
        and not any(character.isdigit() for character in text)
        and name_filter(text) is not None
    )


def similar_names(folded: str) -> list[str]:
    """Other spellings of a folded name whose words are words of people's names, closest
    first: "hrovat ana" -> ["horvat ana", ...]; [] where there is no dictionary.

    Only for text that can be a name (letters, spaces, apostrophes, hyphens, dots): a
    mistyped email or identifier is not corrected into somebody's name. Each word of 3
    letters or more is kept as typed where a name has it (the last word: where a word starts
    with it, as the prefix search reads it) or replaced by one of the words most similar to
    it by trigrams or one edit away (name_terms.look_up); shorter words stay. The spellings
    are ranked by how many letters were changed (Damerau-Levenshtein: a swap of two letters is
    one), then by the letters one has and the other not (the typed letters rearranged first:
    "jonh" is "john" before "jong"), then by trigram similarity; the one typed is not among
    them.
    """
    words = folded.split()
    if (
        not _NAME_TEXT.fullmatch(folded)
        or not any(len(w) >= name_terms.MIN_LENGTH for w in words)
        or len(words) > SIMILAR_MAX_WORDS
        or not name_terms.available()
    ):
        return []
    choices = []
    looked_up = name_terms.look_up(words)
    for number, typed in enumerate(looked_up):
        last = number == len(looked_up) - 1
        if len(typed.word) < name_terms.MIN_LENGTH:
            choices.append([(typed.word, 0, 0, 1.0)])
            continue
        kept = typed.known if last else any(term == typed.word for term, _ in typed.similar)
        options = [(typed.word, 0, 0, 1.0)] if kept else []
        # The prefix search finds the last word's longer spellings already.
        options += [
            (term, OSA.distance(typed.word, term), _letters_apart(typed.word, term), score)
            for term, score in typed.similar
            if term != typed.word and not (last and term.startswith(typed.word))
        ]
        if not options:
            return []
        # A short word can have dozens of words one edit away: the best of each word are
        # enough for the best spellings (each key below is a sum of the words' keys), and
        # four words of 30 would be 810,000 spellings to rank.
        options.sort(key=lambda option: (option[1], option[2], -option[3]))
        choices.append(options[: name_terms.SIMILAR_PER_WORD])
    spellings = sorted(
        itertools.product(*choices),
        key=lambda spelling: (
            sum(o[1] for o in spelling),
            sum(o[2] for o in spelling),
            -sum(o[3] for o in spelling),
        ),
    )
    return [
        " ".join(option[0] for option in spelling)
        for spelling in spellings
        if any(option[0] != typed for option, typed in zip(spelling, words, strict=True))
    ][:SIMILAR_SPELLINGS]


def _letters_apart(typed: str, word: str) -> int:
    """How many letters one has that the other has not (counted with repeats): 0 for the
    same letters in another order."""
    have, want = Counter(typed), Counter(word)
    return (have - want).total() + (want - have).total()


def _similar_page(
    named: QuerySet[Person], folded: str, limit: int, *, few_candidates: bool
) -> SearchPage | None:
    """Nobody's name starts with ``folded``: the people of the closest spelling that finds
    anyone (one page, no cursor), and the other spellings that find someone too."""
    spellings = similar_names(folded)
    for number, corrected in enumerate(spellings):
        people = _name_page(named, corrected, None, limit + 1, few_candidates=few_candidates)
        if people:
            # A longer spelling of the one shown is on its pages already.
            others = [
                spelling
                for spelling in spellings[number + 1 :]
                if not spelling.startswith(corrected)
                and named.filter(name_filter(spelling)).exists()
            ]
            return SearchPage(
                people[:limit],
                [Match("similarName", corrected)],
                None,
                False,
                corrected=corrected,
                more=len(people) > limit,
                other_spellings=others,
            )
    return None


def _name_key(column: str):
    # Code point order on every database: COLLATE "C" on PostgreSQL matches the index
    # person_search_name_c_idx; SQLite compares text as bytes already.
    return Collate(F(column), "C") if _on_postgresql() else F(column)


def _name_range(queryset: QuerySet[Person], column: str, prefix: str) -> QuerySet[Person]:
    if column != "search_name":
        queryset = queryset.alias(**{f"{column}_key": _name_key(column)})
    return queryset.filter(**{f"{column}_key__gte": prefix, f"{column}_key__lt": successor(prefix)})


def _name_page(
    queryset: QuerySet[Person],
    prefix: str,
    after: tuple[str, int] | None,
    size: int,
    *,
    few_candidates: bool = False,
    identifiers: RawSQL | None = None,
) -> list[Person]:
    """Up to ``size`` people whose name starts with ``prefix``, by (matching key, id).

    People whose "first last" matches are listed under it; the others under "last first".
    Two index ranges, each read up to ``size`` rows, then merged and sorted (at most twice
    ``size`` rows) in the same statement, which alone fetches the related rows of the page.
    When a filter leaves few candidates (a rare tag), they are read first and sorted instead.
    ``identifiers`` (``_union``): each person also says, as ``identifier_found``, whether that
    lookup finds anyone (an uncorrelated EXISTS, which PostgreSQL runs once).
    """
    first = Q(search_name_key__gte=prefix, search_name_key__lt=successor(prefix))
    queryset = queryset.alias(search_name_key=_name_key("search_name"))
    key = Case(When(first, then=F("search_name_key")), default=_name_key("search_name_reversed"))
    if few_candidates:
        reversed_key = _name_key("search_name_reversed")
        ranges = queryset.alias(search_name_reversed_key=reversed_key).filter(
            first
            | Q(
                search_name_reversed_key__gte=prefix,
                search_name_reversed_key__lt=successor(prefix),
            )
        )
    else:
        parts = []
        for number, column in enumerate(NAME_COLUMNS):
            part = _name_range(queryset, column, prefix)
            if number == 1:
                # People whose "first last" matches are listed under it already.
                part = part.exclude(first)
            column_key = f"{column}_key"
            if after is not None:
                after_key, after_id = after
                # The index condition starts the range at the cursor; the OR sorts out ties.
                part = part.filter(**{f"{column_key}__gte": after_key}).filter(
                    Q(**{f"{column_key}__gt": after_key}) | Q(pk__gt=after_id)
                )
            try:
                sql, params = (
                    part.order_by(column_key, "pk").values("pk")[:size].query.sql_with_params()
                )
            except EmptyResultSet:
                # A filter no row can meet (a tag nobody has): Django does not even compile
                # the range, which has no rows.
                continue
            parts.append((f"SELECT {column}_range.pk FROM ({sql}) AS {column}_range", params))
        if not parts:
            return []
        page_ids = RawSQL(
            " UNION ALL ".join(sql for sql, _ in parts),
            [param for _, params in parts for param in params],
        )
        ranges = Person.objects.filter(
            _AnyOfArray(F("pk"), page_ids) if _on_postgresql() else Q(pk__in=page_ids)
        ).alias(search_name_key=_name_key("search_name"))
    ranges = ranges.alias(name_key=key)
    if identifiers is not None:
        found = RawSQL(f"EXISTS ({identifiers.sql})", identifiers.params, BooleanField())
        ranges = ranges.annotate(identifier_found=found)
    if after is not None and few_candidates:
        after_key, after_id = after
        ranges = ranges.filter(Q(name_key__gt=after_key) | Q(name_key=after_key, pk__gt=after_id))
    return list(_with_rows(ranges, list_rows=True).order_by("name_key", "pk")[:size])


def _name_cursor(prefix: str, after: int) -> tuple[str, int] | None:
    """(key, id) of the person a name page ended with: the first name column that matches."""
    names = Person.objects.filter(pk=after).values_list(*NAME_COLUMNS).first()
    if names is None:
        return None
    for value in names:
        if value.startswith(prefix):
            return value, after
    return None


# ---------------------------------------------------------------------------------------------
# Filters


def _bool(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes", "on"}


# A tag on at most this many people is read first (its people by primary key, then the other
# conditions): walking an index in order and testing the tag would visit about
# limit * people / tagged entries before a page is full. On PostgreSQL the walked indexes hold
# each person's tag ids (HasTags), about 0.2 us an entry; reading a person by primary key
# costs about 3 us: at 1,000,000 people the two meet near 2,000 (two name ranges of 26 rows:
# 2 * 26 * 1,000,000 / 2,000 entries = 5 ms, 2,000 rows = 6 ms). Whether a tag is on more is
# one probe past this many index entries (no COUNT).
RARE_TAG_PEOPLE = 2_000


class _AnyOfArray(Func):
    """``id = ANY(ARRAY(subquery))``: PostgreSQL reads the subquery's few ids first, then the
    people by primary key; as ``IN (subquery)`` the planner may walk an index instead."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY(ARRAY"
    output_field = BooleanField()


class HasTags(Func):
    """The person has every one of ``tag_ids``: ``people_person.tag_ids @> ARRAY[...]``.

    PostgreSQL only. ``tag_ids`` is each person's tag ids, kept from people_person_tags by the
    database (migration 0010; not a model field) and held by the indexes that are walked in
    order (the folded names, (created_at, id), UPPER(first/last name)): there the tag is
    tested on the index entry, with no probe of people_person_tags and no read of the table."""

    output_field = BooleanField()

    def __init__(self, tag_ids: list[int]):
        super().__init__(F("pk"))
        self.tag_ids = sorted(set(tag_ids))

    def as_sql(self, compiler, connection, **extra_context):
        # The person's primary key column, as the query names its table ("people_person"."id"
        # or U0."id" in a subquery): the same table's tag_ids.
        (pk_column,) = self.get_source_expressions()
        pk, params = compiler.compile(pk_column)
        table = pk.rsplit(".", 1)[0]
        values = ", ".join("%s" for _ in self.tag_ids)
        return f"{table}.tag_ids @> ARRAY[{values}]::bigint[]", (*params, *self.tag_ids)


def apply_filters(queryset: QuerySet[Person], query: SearchQuery) -> QuerySet[Person]:
    """Narrow ``queryset`` by the filters of ``query``: each one an EXISTS on an index."""
    return _filtered(queryset, query, _tags_of(query), drive=False)


def _tags_of(query: SearchQuery) -> dict[str, tuple[int, bool]] | None:
    """Folded tag name (name_key) -> (id, whether more than RARE_TAG_PEOPLE people have it); None
    when a tag does not exist. Tag ids as values, not subqueries: the planner then knows from
    the statistics whether a tag is on 30 % of the people or on 0.1 %. The ids are one
    statement; whether each tag is common is remembered (``_tags_over``)."""
    lowered = list(dict.fromkeys(name_key(t) for t in query.tags if t.strip()))
    if not lowered:
        return {}
    ids = dict(Tag.objects.filter(name_key__in=lowered).values_list("name_key", "id"))
    if any(name not in ids for name in lowered):
        return None
    over = _tags_over(sorted(set(ids.values())), RARE_TAG_PEOPLE)
    return {name: (ids[name], over[ids[name]]) for name in lowered}


# Whether a tag is on more than so many people only steers the plan, never the result, and
# changes slowly: each process remembers it this long (seconds) by (tag id, limit). Finding
# out reads up to the limit's index entries (under a millisecond for 2,000).
TAG_SIZE_SECONDS = 60.0
_tag_over: dict[tuple[int, int], tuple[bool, float]] = {}
_clock = time.monotonic


def _tags_over(tag_ids: list[int], limit: int) -> dict[int, bool]:
    """Tag id -> whether more than ``limit`` people have the tag; what is not remembered is
    asked in one statement (an index probe past ``limit`` entries, no COUNT)."""
    now = _clock()
    known: dict[int, bool] = {}
    missing = []
    for tag_id in tag_ids:
        remembered = _tag_over.get((tag_id, limit))
        if remembered is not None and remembered[1] > now:
            known[tag_id] = remembered[0]
        else:
            missing.append(tag_id)
    if missing:
        through = Person.tags.through._meta.db_table
        probe = f"EXISTS(SELECT 1 FROM {through} WHERE tag_id = %s LIMIT 1 OFFSET %s)"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(probe for _ in missing),
                [value for tag_id in missing for value in (tag_id, limit)],
            )
            answers = cursor.fetchone()
        for tag_id, answer in zip(missing, answers, strict=True):
            known[tag_id] = bool(answer)
            _tag_over[tag_id, limit] = (bool(answer), now + TAG_SIZE_SECONDS)
    return known


def forget_tag_sizes() -> None:
    """Forget what ``_tags_over`` remembers (tests that change how many people have a tag)."""
    _tag_over.clear()


def _drives(tags: dict[str, tuple[int, bool]] | None) -> bool:
    """Whether a rare tag leaves few enough people to read them first."""
    return bool(tags) and not all(common for _, common in tags.values())


@dataclass(frozen=True)
class TagFilter:
    """A tag as a filter: its id and whether it is rare (on at most RARE_TAG_PEOPLE people)."""

    tag_id: int
    rare: bool

    def condition(self) -> Q:
        """A rare tag: its people (read first, by primary key). A common one: on PostgreSQL
        the person's tag ids (HasTags), which the API's walked indexes hold; elsewhere a probe
        of the tag's index for each person walked."""
        through = Person.tags.through
        if self.rare:
            return Q(pk__in=through.objects.filter(tag_id=self.tag_id).values("person_id"))
        if _on_postgresql():
            return Q(HasTags([self.tag_id]))
        return Q(Exists(through.objects.filter(person_id=OuterRef("pk"), tag_id=self.tag_id)))

    def with_rows(self, related: list[QuerySet]) -> Q | None:
        """People of this rare tag who have a row in each of ``related`` (querysets of models
        with a ``person_id``: the custom attribute values that match, say).

        The tag's people (at most RARE_TAG_PEOPLE) are read from its index and each is
        probed in the indexes of ``related`` (index-only), then only those who pass are read,
        by primary key. Otherwise the planner joins the tag's people with every match of a
        common value ("Newsletter opt-in = true": 170,000 index entries for 4,400 people), or
        reads every one of the tag's people to sort them before testing them. None: not a
        rare tag, or not PostgreSQL."""
        if not (self.rare and related and _on_postgresql()):
            return None
        people = Person.tags.through.objects.filter(tag_id=self.tag_id)
        for rows in related:
            people = people.filter(_Probe(rows.filter(person_id=OuterRef("person_id"))))
        return Q(_AnyOfArray(F("pk"), Subquery(people.values("person_id"))))


class _Probe(Exists):
    """EXISTS that PostgreSQL runs as a probe per row: ``OFFSET 0`` keeps the planner from
    turning it into a join (which, for a value that many people have, reads every one of them
    from the index to meet a rare tag's people)."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def find_tag(name: str) -> TagFilter | None:
    """The tag ``name`` (any casing) as a filter, in one statement; None if there is none.

    The tag's id goes in as a value: the planner knows from the statistics of the through
    table how many people have it and picks the walk."""
    found = _tags_of(SearchQuery(tags=[name]))
    if not found:
        return None
    ((tag_id, common),) = found.values()
    return TagFilter(tag_id, rare=not common)


def _filtered(
    queryset: QuerySet[Person],
    query: SearchQuery,
    tags: dict[str, tuple[int, bool]] | None,
    *,
    drive: bool,
    tags_on_row: bool = False,
) -> QuerySet[Person]:
    """``apply_filters`` with the tags looked up; ``drive``: read a rare tag's people first;
    ``tags_on_row``: test the other tags on the person's tag ids (HasTags, PostgreSQL), for a
    walk of an index that holds them (the folded names), not by a probe of the tag's index
    (which a walk of the primary key does better: the tag's (tag_id, person_id) entries are
    in id order themselves)."""
    installation = installation_model()
    if query.type:
        queryset = queryset.filter(type=query.type)
    if tags is None:
        return queryset.none()
    through = Person.tags.through
    rarest = next((name for name, (_, common) in tags.items() if not common), None)
    if not drive:
        rarest = None
    others = []
    for name, (tag_id, _) in tags.items():
        if name == rarest:
            people_ids = Subquery(through.objects.filter(tag_id=tag_id).values("person_id"))
            if _on_postgresql():
                queryset = queryset.filter(_AnyOfArray(F("pk"), people_ids))
            else:
                queryset = queryset.filter(pk__in=people_ids)
        else:
            others.append(tag_id)
    if others and tags_on_row and _on_postgresql():
        queryset = queryset.filter(HasTags(others))
    else:
        for tag_id in others:
            queryset = queryset.filter(
                Exists(through.objects.filter(person_id=OuterRef("pk"), tag_id=tag_id))
            )
    installation_filter = Q()
    if query.application:
        installation_filter &= Q(application__code=query.application)
    if query.platform:
        installation_filter &= Q(os__iexact=query.platform)
    if query.push_enabled is not None:
        installation_filter &= Q(registration_enabled=query.push_enabled)
    if installation_filter:
        queryset = queryset.filter(
            Exists(installation.objects.filter(installation_filter, person_id=OuterRef("pk")))
        )
    if query.has_primary is not None:
        has = Exists(installation.objects.filter(person_id=OuterRef("pk"), is_primary=True))
        queryset = queryset.filter(has if query.has_primary else ~has)
    if query.attribute:
        queryset = queryset.filter(attribute_condition(query))
    return queryset


ATTRIBUTE_OPERATORS = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
_COLUMNS = {
    DataType.STRING: "value_text",
    DataType.INTEGER: "value_number",
    DataType.DECIMAL: "value_number",
    DataType.BOOLEAN: "value_bool",
    DataType.DATE: "value_date",
    DataType.DATE_TIME: "value_datetime",
}


def attribute_condition(query: SearchQuery) -> Q | Exists:
    """EXISTS a value of the named attribute that compares to the typed value.

    Each type has its column and its (definition, column) index; a STRING is compared through
    the indexed 200-character prefix and then exactly.
    """
    definition = AttributeDefinition.objects.filter(
        name_key=name_key(query.attribute or "")
    ).first()
    if definition is None:
        raise DomainError(
            "BAD_REQUEST", f"No custom attribute named {query.attribute!r}.", "attribute"
        )
    values = AttributeValue.objects.filter(person_id=OuterRef("pk"), definition=definition)
    if query.attribute_value in (None, ""):
        return Exists(values)
    if definition.data_type == DataType.LIST_OF_OBJECTS:
        raise DomainError(
            "BAD_REQUEST",
            f"{definition.name} is a list of objects: filter by presence only.",
            "attributeValue",
        )
    op = ATTRIBUTE_OPERATORS.get(query.attribute_op)
    if op is None:
        raise DomainError(
            "BAD_REQUEST", "attributeOp must be eq, gt, gte, lt or lte.", "attributeOp"
        )
    value = attribute_types.parse_scalar(
        definition.data_type,
        query.attribute_value,
        name=definition.name,
        field="attributeValue",
        from_text=True,
    )
    column = _COLUMNS[definition.data_type]
    if column == "value_text":
        return Exists(text_values(values, op, value))
    return Exists(values.filter(**{f"{column}__{op}": value}))


# The index on a text value holds its first TEXT_PREFIX characters (a B-tree entry has a size
# limit): attr_text_idx on (definition, SUBSTRING(value_text, 1, 200)), and on PostgreSQL
# attr_text_person_idx with the person id after them (people 0013).
TEXT_PREFIX = 200


def text_values(values: QuerySet[AttributeValue], op: str, value: str) -> QuerySet[AttributeValue]:
    """``values`` whose text compares to ``value`` by ``op`` (exact, gt, gte, lt, lte), found
    through the indexed prefix: narrowed on the prefix, then compared whole where the prefix
    cannot tell (a value shorter than the prefix equals the text when it equals the prefix).
    Compared on the column alone, an index on the definition would read every value of the
    attribute to find one that nobody has."""
    prefix_op = {"exact": "exact", "gt": "gte", "gte": "gte", "lt": "lte", "lte": "lte"}[op]
    values = values.annotate(text_prefix=Substr("value_text", 1, TEXT_PREFIX)).filter(
        **{f"text_prefix__{prefix_op}": value[:TEXT_PREFIX]}
    )
    if op == "exact" and len(value) < TEXT_PREFIX:
        return values
    return values.filter(**{f"value_text__{op}": value})


def text_values_starting(values: QuerySet[AttributeValue], text: str) -> QuerySet[AttributeValue]:
    """``values`` whose text starts with ``text`` in any casing, found on PostgreSQL through
    attr_text_upper_idx, on (definition, UPPER(SUBSTRING(value_text, 1, 200)), person)
    (people 0015): compared on the column itself, a prefix nobody has read every value of
    the attribute, and the planner, guessing it common, walked every person to find none."""
    values = values.annotate(upper_prefix=Upper(Substr("value_text", 1, TEXT_PREFIX))).filter(
        upper_prefix__startswith=Upper(Value(text[:TEXT_PREFIX]))
    )
    if len(text) > TEXT_PREFIX:
        values = values.filter(value_text__istartswith=text)
    return values


# ---------------------------------------------------------------------------------------------
# The whole search


def search_people(
    query: SearchQuery, *, after: int | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> SearchPage:
    """One page of ``query``, after the person id ``after`` (the previous page's next_cursor).

    Exact identifiers and filter-only lists come newest first; a name search comes in name
    order (an index range). Either way the cursor is a person id.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    text = query.q.strip()
    tags = _tags_of(query)
    # A rare tag's people are read first for a list; an identifier finds at most a few
    # people, which EXISTS probes check.
    few_candidates = _drives(tags)
    if text:
        candidates = _candidates(text)
        exact = _filtered(Person.objects.all(), query, tags, drive=False)

        def identifier_page() -> SearchPage | None:
            people = list(
                _with_rows(exact.filter(pk__in=_union(candidates)), list_rows=True)
                .order_by("-pk")
                .filter(**({"pk__lt": after} if after is not None else {}))[: limit + 1]
            )
            if not people:
                return None
            next_cursor = people[limit - 1].pk if len(people) > limit else None
            people = people[:limit]
            return SearchPage(people, _matched(candidates, people), next_cursor, True)

        # Text with a digit or an "@" is looked up as an identifier first. Other text is
        # mostly a name: its name page also says whether an identifier lookup finds anyone
        # (one statement instead of two), and the identifiers' page is read only then.
        names_first = _names_first(text)
        if not names_first:
            page = identifier_page()
            if page is not None:
                return page
            if name_filter(text) is None:
                return SearchPage([], [], None, False)
        folded = fold(text)
        position = _name_cursor(folded, after) if after is not None else None
        # The name ranges are walked in order, index-only, testing the tags on each entry.
        named = _filtered(Person.objects.all(), query, tags, drive=True, tags_on_row=True)
        people = _name_page(
            named,
            folded,
            position,
            limit + 1,
            few_candidates=few_candidates,
            identifiers=_union(candidates) if names_first else None,
        )
        if names_first and (not people or people[0].identifier_found):
            page = identifier_page()
            if page is not None:
                return page
        if not people and after is None:
            similar = _similar_page(named, folded, limit, few_candidates=few_candidates)
            if similar is not None:
                return similar
        next_cursor = people[limit - 1].pk if len(people) > limit else None
        return SearchPage(people[:limit], [Match("name", folded)], next_cursor, False)
    # The page's ids first: the newest-first walk of the primary key then tests the filters
    # from indexes alone, without reading the row of every person it passes over; then the
    # rows of the page, with what they show.
    base = _filtered(Person.objects.all(), query, tags, drive=True)
    if after is not None:
        base = base.filter(pk__lt=after)
    ids = list(base.order_by("-pk").values_list("pk", flat=True)[: limit + 1])
    people = (
        list(_with_rows(Person.objects.filter(pk__in=ids[:limit]), list_rows=True).order_by("-pk"))
        if ids
        else []
    )
    next_cursor = ids[limit - 1] if len(ids) > limit else None
    return SearchPage(people[:limit], [], next_cursor, False)


def estimated_count(model=Person) -> int:
    """Rows of a table without counting them: the planner's estimate on PostgreSQL.

    Exact (a COUNT(*)) only where the table is small or the database is not PostgreSQL.
    """
    if _on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [model._meta.db_table],
            )
            row = cursor.fetchone()
        if row and row[0] is not None and row[0] >= EXACT_COUNT_LIMIT:
            return int(row[0])
    return model._default_manager.count()


# ---------------------------------------------------------------------------------------------
# One person by a unique identifier (the API's identifier + type)

IDENTIFIER_TYPES = ("ID", "EXTERNAL_ID", "PHONE", "EMAIL", "PUSH")


def profile_queryset() -> QuerySet[Person]:
    """``list_queryset`` plus the custom attribute values: everything a full profile shows.

    One statement on PostgreSQL (the related rows as JSON), five elsewhere.
    """
    return _with_related(
        Person.objects.prefetch_related(
            *_row_prefetches(),
            Prefetch(
                "attribute_values",
                queryset=AttributeValue.objects.select_related("definition").order_by("id"),
            ),
        ),
        attribute_values=True,
    )


def person_id_by_identifier(
    identifier_type: str, identifier: str, *, sender: str | None = None
) -> int | None:
    """The id of the person an identifier names, each kind on its own unique index.

    ``PUSH`` is a push registration id; ``sender`` (the application code) narrows it to one
    application when given. An identifier that is malformed for its kind (a phone that is no
    phone) raises the domain's error for that kind.
    """
    identifier = identifier.strip()
    if identifier_type == "ID":
        if not identifier.isdigit() or not identifier.isascii():
            raise DomainError("BAD_REQUEST", "A person ID is a whole number.", "identifier")
        if not attribute_types.integer_text_in_range(identifier):
            return None  # counted before int(), which raises past 4300 digits
        return Person.objects.filter(pk=int(identifier)).values_list("id", flat=True).first()
    if identifier_type == "EXTERNAL_ID":
        external_id = normalize_external_id(identifier, field="identifier")
        if external_id is None:
            return None
        return Person.objects.filter(external_id=external_id).values_list("id", flat=True).first()
    if identifier_type in ("PHONE", "EMAIL"):
        if identifier_type == "PHONE":
            kind, value = IdentityKind.PHONE, parse_phone(identifier, field="identifier").number
        else:
            kind, value = IdentityKind.EMAIL, normalize_email(identifier, field="identifier")
        return (
            ContactIdentity.objects.filter(kind=kind, value=value)
            .values_list("person_id", flat=True)
            .first()
        )
    if identifier_type == "PUSH":
        installations = installation_model().objects.filter(push_registration_id=identifier)
        if sender is not None:
            installations = installations.filter(application__code=sender)
        return installations.values_list("person_id", flat=True).first()
    raise DomainError(
        "BAD_REQUEST",
        f"Identifier type {identifier_type!r} is not supported; "
        f"use one of {', '.join(IDENTIFIER_TYPES)}.",
        "type",
    )


def person_ids_by_identifiers(
    queries: list[tuple[str, str, str | None]],
) -> list[int | None | DomainError]:
    """``person_id_by_identifier`` for many (type, identifier, sender) at once, as a batch
    names its people: one statement per kind of identifier, not one per item. Each answer is
    the person's id, None (nobody) or the DomainError of a malformed identifier."""
    answers: list[int | None | DomainError] = [None] * len(queries)
    wanted: dict[str, dict[int, Any]] = {kind: {} for kind in IDENTIFIER_TYPES}
    for index, (identifier_type, raw, sender) in enumerate(queries):
        identifier = raw.strip()
        try:
            if identifier_type == "ID":
                if not identifier.isdigit() or not identifier.isascii():
                    raise DomainError("BAD_REQUEST", "A person ID is a whole number.", "identifier")
                # Counted before int(), which raises past 4300 digits; past the range: nobody.
                if attribute_types.integer_text_in_range(identifier):
                    wanted["ID"][index] = int(identifier)
            elif identifier_type == "EXTERNAL_ID":
                external_id = normalize_external_id(identifier, field="identifier")
                if external_id is not None:
                    wanted["EXTERNAL_ID"][index] = external_id
            elif identifier_type == "PHONE":
                wanted["PHONE"][index] = parse_phone(identifier, field="identifier").number
            elif identifier_type == "EMAIL":
                wanted["EMAIL"][index] = normalize_email(identifier, field="identifier")
            elif identifier_type == "PUSH":
                wanted["PUSH"][index] = (identifier, sender)
            else:
                raise DomainError(
                    "BAD_REQUEST",
                    f"Identifier type {identifier_type!r} is not supported; "
                    f"use one of {', '.join(IDENTIFIER_TYPES)}.",
                    "type",
                )
        except DomainError as error:
            answers[index] = error
    found: dict[str, dict[Any, int]] = {}
    if wanted["ID"]:
        ids = Person.objects.filter(pk__in=set(wanted["ID"].values())).values_list("id", "id")
        found["ID"] = dict(ids)
    if wanted["EXTERNAL_ID"]:
        found["EXTERNAL_ID"] = dict(
            Person.objects.filter(external_id__in=set(wanted["EXTERNAL_ID"].values())).values_list(
                "external_id", "id"
            )
        )
    for kind in ("PHONE", "EMAIL"):
        if wanted[kind]:
            found[kind] = dict(
                ContactIdentity.objects.filter(
                    kind=kind, value__in=set(wanted[kind].values())
                ).values_list("value", "person_id")
            )
    if wanted["PUSH"]:
        rows = installation_model().objects.filter(
            push_registration_id__in={identifier for identifier, _ in wanted["PUSH"].values()}
        )
        found["PUSH"] = {}
        for push, code, person_id in rows.values_list(
            "push_registration_id", "application__code", "person_id"
        ):
            found["PUSH"][(push, code)] = person_id
            found["PUSH"].setdefault((push, None), person_id)
    for kind, indexes in wanted.items():
        for index, key in indexes.items():
            answers[index] = found[kind].get(key)
    return answers
