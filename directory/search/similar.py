"""A name that finds nobody: the closest other spellings whose words are words of people's
names (people.name_terms), and the page of the first spelling that finds someone.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from django.db.models import QuerySet
from rapidfuzz.distance import OSA

from people import name_terms
from people.models import Person

from .backends import backend
from .names import name_filter, name_page
from .query import Match
from .rows import SearchPage

# What a typed name may hold for the similar-name fallback (folded: lower case, no accents).
_NAME_TEXT = re.compile(r"[^\W\d_]+(?:[\s'’.\-]+[^\W\d_]*)*")
# A name search that finds nobody tries this many other spellings (similar_names), up to
# this many words typed.
SIMILAR_SPELLINGS = 5
SIMILAR_MAX_WORDS = 4


def similar_names(folded: str) -> list[str]:
    """Other spellings of a folded name whose words are words of people's names, closest
    first: "hrovat ana" -> ["horvat ana", ...]; [] where there is no dictionary
    (backends: people.name_terms on PostgreSQL, the words of people's names elsewhere).

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
    ):
        return []
    looked_up = backend().name_words(words)
    if looked_up is None:
        return []
    choices = []
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


def similar_page(
    named: QuerySet[Person], folded: str, limit: int, *, few_candidates: bool
) -> SearchPage | None:
    """Nobody's name starts with ``folded``: the people of the closest spelling that finds
    anyone (one page, no cursor), and the other spellings that find someone too."""
    spellings = similar_names(folded)
    for number, corrected in enumerate(spellings):
        people = name_page(named, corrected, None, limit + 1, few_candidates=few_candidates)
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
