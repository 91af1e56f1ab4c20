"""What differs between PostgreSQL and the portable database (SQLite), behind one interface.

Search asks ``backend()`` once per statement it builds; nothing else in the package asks which
database it is on. PostgreSQL gets the statements its planner and indexes need (the person's
``tag_ids`` on the walked indexes, ``= ANY(ARRAY(...))``, ``COLLATE "C"`` name ranges, the
planner's row estimate); the portable backend the plain SQL every database reads alike.
"""

from __future__ import annotations

import orjson
from django.db import OperationalError, connection, transaction
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Collate
from rapidfuzz import fuzz, process

from people import name_terms
from people.models import Person

# PostgreSQL's SQLSTATE for a statement cut short by statement_timeout.
QUERY_CANCELED = "57014"

# The portable backend's similar-name dictionary: the words of up to this many people's names
# (the name index, read from its start), read when a name search finds nobody. It bounds what
# a miss costs on SQLite (the demo database): about 50 ms for 50,000 names (measured).
PORTABLE_NAME_SCAN = 50_000
# rapidfuzz's ratio (0 to 100) from which a word of a name is a candidate spelling: pg_trgm's
# similarity threshold (name_terms.SIMILARITY_THRESHOLD) read on the ratio's scale.
PORTABLE_SIMILARITY_CUTOFF = 50


class AnyOfArray(Func):
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


class Probe(Exists):
    """EXISTS that PostgreSQL runs as a probe per row: ``OFFSET 0`` keeps the planner from
    turning it into a join (which, for a value that many people have, reads every one of them
    from the index to meet a rare tag's people)."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def _has_tag(tag_id: int) -> Q:
    through = Person.tags.through
    return Q(Exists(through.objects.filter(person_id=OuterRef("pk"), tag_id=tag_id)))


class PortableBackend:
    """Plain SQL: what SQLite (and any database Django supports) reads alike."""

    postgresql = False

    def name_key(self, column: str):
        """A name column compared in code point order (SQLite compares text as bytes)."""
        return F(column)

    def any_of(self, ids) -> Q:
        """The people whose id ``ids`` (a subquery of ids) gives."""
        return Q(pk__in=ids)

    def has_tags_on_row(self, tag_ids: list[int]) -> Q | None:
        """The tags tested on the person's own row, where the database keeps them there."""
        return None

    def common_tag(self, tag_id: int) -> Q:
        """A tag many people have, tested for each person walked."""
        return _has_tag(tag_id)

    def rare_tag_with_rows(self, tag_id: int, related: list[QuerySet]) -> Q | None:
        """The people of a rare tag who have a row in each of ``related``, probed one by one;
        None where the planner does as well without."""
        return None

    def estimated_rows(self, table: str) -> int | None:
        """The planner's estimate of a table's rows; None where there is none."""
        return None

    def estimated_query_rows(self, queryset: QuerySet) -> int | None:
        """The planner's estimate of the rows a queryset returns; None where there is none."""
        return None

    def bounded_count(self, capped: QuerySet, timeout_ms: int) -> int | None:
        """``capped.count()``, or None when it takes longer than ``timeout_ms`` (where the
        database can cut a statement short; elsewhere it is counted)."""
        return capped.count()

    def name_words(self, words: list[str]) -> list[name_terms.TypedWord] | None:
        """What the words of people's names say of each folded typed word (is some word
        spelled starting with it, which words are most like it), as name_terms.look_up says
        it on PostgreSQL; None where there is no dictionary.

        Here the dictionary is the words of up to PORTABLE_NAME_SCAN names (one statement on
        the name index), compared by rapidfuzz: the words closest by edit ratio, and for a
        short word those one edit away, as name_terms.look_up finds them."""
        names = (
            Person.objects.exclude(search_name="")
            .order_by()
            .values_list("search_name", flat=True)[:PORTABLE_NAME_SCAN]
        )
        dictionary = {word for name in names for word in name.split()}
        if not dictionary:
            return None
        looked_up = []
        for typed in words:
            known = any(word.startswith(typed) for word in dictionary)
            similar: dict[str, float] = {}
            if len(typed) >= name_terms.MIN_LENGTH:
                for word, score, _ in process.extract(
                    typed,
                    dictionary,
                    scorer=fuzz.ratio,
                    limit=name_terms.SIMILAR_PER_WORD,
                    score_cutoff=PORTABLE_SIMILARITY_CUTOFF,
                ):
                    similar[word] = score / 100
                if len(typed) <= name_terms.EDITED_MAX_LENGTH:
                    for word in name_terms.one_edit_away(typed) & dictionary:
                        similar.setdefault(word, fuzz.ratio(typed, word) / 100)
            ranked = sorted(similar.items(), key=lambda item: (-item[1], item[0]))
            looked_up.append(name_terms.TypedWord(typed, known, ranked))
        return looked_up


class PostgreSQLBackend(PortableBackend):
    postgresql = True

    def name_key(self, column: str):
        # COLLATE "C" matches the index person_search_name_c_idx.
        return Collate(F(column), "C")

    def any_of(self, ids) -> Q:
        return Q(AnyOfArray(F("pk"), ids))

    def has_tags_on_row(self, tag_ids: list[int]) -> Q | None:
        return Q(HasTags(tag_ids))

    def common_tag(self, tag_id: int) -> Q:
        return Q(HasTags([tag_id]))

    def rare_tag_with_rows(self, tag_id: int, related: list[QuerySet]) -> Q | None:
        """The tag's people (at most RARE_TAG_PEOPLE) are read from its index and each is
        probed in the indexes of ``related`` (index-only), then only those who pass are read,
        by primary key. Otherwise the planner joins the tag's people with every match of a
        common value ("Newsletter opt-in = true": 170,000 index entries for 4,400 people), or
        reads every one of the tag's people to sort them before testing them."""
        if not related:
            return None
        people = Person.tags.through.objects.filter(tag_id=tag_id)
        for rows in related:
            people = people.filter(Probe(rows.filter(person_id=OuterRef("person_id"))))
        return self.any_of(Subquery(people.values("person_id")))

    def estimated_rows(self, table: str) -> int | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table]
            )
            row = cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def estimated_query_rows(self, queryset: QuerySet) -> int | None:
        # EXPLAIN plans the statement without running it: the top node's row estimate.
        plan = orjson.loads(queryset.order_by().explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])

    def bounded_count(self, capped: QuerySet, timeout_ms: int) -> int | None:
        # statement_timeout for this transaction only (set_config's is_local): a count cut
        # short is rolled back to its savepoint, the web timeouts stay as they are.
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms)]
                    )
                with transaction.atomic():
                    return capped.count()
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED:
                return None
            raise

    def name_words(self, words: list[str]) -> list[name_terms.TypedWord] | None:
        # The database keeps the dictionary (people.name_terms), compared by trigrams.
        return name_terms.look_up(words) if name_terms.available() else None


POSTGRESQL = PostgreSQLBackend()
PORTABLE = PortableBackend()


def backend() -> PortableBackend:
    """The backend of the database the statements run on."""
    return POSTGRESQL if connection.vendor == "postgresql" else PORTABLE
