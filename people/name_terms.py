"""The dictionary of the words in people's names (NameTerm, migration 0018), PostgreSQL only.

The search corrects a name that finds nobody against it (directory.search.similar): each
typed word is either spelled like the start of some word of a name, or replaced by the words
most similar to it (pg_trgm's trigram similarity, served by the GIN index on ``term``).

A trigger adds the words of every name written; ``prune`` takes out the words nobody's name
has any more (a person deleted or renamed), ``fill`` puts in the words of every name (after a
load that ran with triggers off, such as generate_people).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import OperationalError, connection, transaction

from people.fields import successor

# Words are compared from 3 letters on (DESIGN.md: fuzzy matching for 3+ characters).
MIN_LENGTH = 3
# PostgreSQL's lock_not_available: a lock_timeout ran out.
LOCK_NOT_AVAILABLE = "55P03"
# pg_trgm's default (0.3) misses the commonest typos of short names: "jonh" and "john" share
# 2 of 8 trigrams (0.25), "smiht" and "smith" 3 of 9 (0.33).
SIMILARITY_THRESHOLD = 0.2
# Trigram candidates per typed word, which the search ranks again by edit distance; it keeps
# as many of each word's best spellings (those one edit away included).
SIMILAR_PER_WORD = 8
# Up to this length a typed word is also looked up spelled every way one edit away (a letter
# left out, added, changed, or two neighbours swapped): a short word has too few trigrams for
# its typos to share enough of them ("aan" and "ana" share 1 of 7).
EDITED_MAX_LENGTH = 5
_LETTERS = "abcdefghijklmnopqrstuvwxyz"

_WORDS = "unnest(string_to_array(search_name, ' ')) AS word"
FILL = (
    f"INSERT INTO people_nameterm (term) SELECT DISTINCT word FROM people_person, {_WORDS}"
    " WHERE word <> '' ON CONFLICT DO NOTHING"
)
# An anti-join (NOT EXISTS): NOT IN over a subquery larger than work_mem is compared row by
# row.
PRUNE = (
    f"WITH named AS (SELECT DISTINCT word FROM people_person, {_WORDS} WHERE word <> '')"
    " DELETE FROM people_nameterm AS t"
    " WHERE NOT EXISTS (SELECT 1 FROM named WHERE named.word = t.term)"
)
# Per typed word (in order): is it the start of a word in the dictionary, and the words most
# similar to it (from MIN_LENGTH letters; the trigram index), with those of its one-edit
# spellings that are words (the primary key), best first. Parameters: lookup_parameters().
LOOKUP = """
SELECT typed.position, typed.word,
       EXISTS (SELECT 1 FROM people_nameterm WHERE term >= typed.word AND term < typed.next),
       close.term, close.score
FROM unnest(%(words)s::text[], %(nexts)s::text[]) WITH ORDINALITY AS typed (word, next, position)
LEFT JOIN LATERAL (
    (SELECT term, similarity(term, typed.word) AS score
     FROM people_nameterm
     WHERE length(typed.word) >= %(min_length)s AND term %% typed.word
     ORDER BY score DESC, term
     LIMIT %(limit)s)
    UNION
    SELECT term, similarity(term, typed.word)
    FROM people_nameterm
    WHERE term = ANY (ARRAY(
        SELECT edit.spelling
        FROM unnest(%(edited)s::bigint[], %(spellings)s::text[]) AS edit (position, spelling)
        WHERE edit.position = typed.position
    ))
) AS close ON true
ORDER BY typed.position, close.score DESC, close.term
"""


@dataclass
class TypedWord:
    word: str
    known: bool  # some name has a word starting with it
    similar: list[tuple[str, float]]  # (word of a name, similarity), best first


def available() -> bool:
    """Whether this database keeps the dictionary and can compare trigrams."""
    if connection.vendor != "postgresql":
        return False
    known = getattr(connection, "_people_name_terms", None)
    if known is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')"
                " AND to_regclass('people_nameterm') IS NOT NULL"
            )
            known = bool(cursor.fetchone()[0])
        # Per connection: a new connection (another database) asks again.
        connection._people_name_terms = known
    return known


def one_edit_away(word: str) -> set[str]:
    """The spellings of ``word`` one edit away: a letter left out, added or changed (a to z
    and the word's own letters), or two neighbouring letters swapped."""
    letters = set(_LETTERS) | set(word)
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    spellings = {a + b[1:] for a, b in splits if b}
    spellings |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    spellings |= {a + c + b[1:] for a, b in splits if b for c in letters}
    spellings |= {a + c + b for a, b in splits for c in letters}
    spellings.discard(word)
    return spellings


def lookup_parameters(words: list[str]) -> dict[str, object]:
    """LOOKUP's parameters for the folded ``words``: the one-edit spellings of the words of
    MIN_LENGTH to EDITED_MAX_LENGTH letters as two parallel arrays (word position, spelling)."""
    edited: list[int] = []
    spellings: list[str] = []
    for position, word in enumerate(words, start=1):
        if MIN_LENGTH <= len(word) <= EDITED_MAX_LENGTH:
            near = sorted(one_edit_away(word))
            edited += [position] * len(near)
            spellings += near
    return {
        "words": words,
        "nexts": [successor(w) for w in words],
        "min_length": MIN_LENGTH,
        "limit": SIMILAR_PER_WORD,
        "edited": edited,
        "spellings": spellings,
    }


def look_up(words: list[str]) -> list[TypedWord]:
    """What the dictionary says of each folded word (one statement, in a transaction that
    sets pg_trgm's similarity threshold for itself only)."""
    found: dict[int, TypedWord] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL pg_trgm.similarity_threshold = {SIMILARITY_THRESHOLD}")
        cursor.execute(LOOKUP, lookup_parameters(words))
        for position, word, known, term, score in cursor.fetchall():
            typed = found.setdefault(position, TypedWord(word, known, []))
            if term is not None:
                typed.similar.append((term, float(score)))
    return [found[position] for position in sorted(found)]


def fill() -> None:
    with connection.cursor() as cursor:
        cursor.execute(FILL)


# How long ``prune`` waits for the table lock before it tries again, and how many times: while
# it waits, the names written after it queue behind it too, so it never waits long.
PRUNE_LOCK_TIMEOUT = "2s"
PRUNE_ATTEMPTS = 5


class DictionaryBusy(Exception):
    """``prune`` could not lock the dictionary: a transaction writing names held it."""


def prune(*, lock_timeout: str | None = None, attempts: int | None = None) -> int:
    """Take out the words no name has any more; how many went.

    In one transaction that first locks the dictionary against writers (SHARE ROW EXCLUSIVE:
    the trigger's INSERT takes ROW EXCLUSIVE, even when every word is there already). The
    lock waits for the transactions that named someone to commit, so the DELETE sees their
    people and keeps their words; a name written meanwhile waits for the prune (about 0.3 s
    a million people) and then adds its words. Without the lock, a person named with a word
    the DELETE was taking out kept a name the dictionary did not have.
    """
    lock_timeout = lock_timeout or PRUNE_LOCK_TIMEOUT
    attempts = attempts or PRUNE_ATTEMPTS
    busy: OperationalError | None = None
    for _ in range(attempts):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
                cursor.execute("LOCK TABLE people_nameterm IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute("SET LOCAL lock_timeout = DEFAULT")
                cursor.execute(PRUNE)
                return cursor.rowcount
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            busy = error
    raise DictionaryBusy(
        f"The name dictionary stayed locked by writers ({attempts} waits of {lock_timeout});"
        " nothing was taken out. Try again later."
    ) from busy
