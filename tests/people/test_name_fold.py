"""fold's ASCII shortcut answers what its Unicode path answers (people.fields.fold)."""

from __future__ import annotations

import itertools
import unicodedata

from people.fields import fold, search_names


def unicode_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def test_every_ascii_character_and_pair_folds_as_the_unicode_path_folds():
    ascii_chars = [chr(code) for code in range(128)]
    for text in itertools.chain(
        ascii_chars, ("".join(pair) for pair in itertools.product(ascii_chars, repeat=2))
    ):
        assert fold(text) == unicode_fold(text), repr(text)


def test_names_with_and_without_accents_fold_alike():
    assert fold("  Ana \t MARIJA ") == "ana marija"
    assert fold("Šime Đurić") == unicode_fold("Šime Đurić") == "sime đuric"
    assert search_names("José", "Ńovak") == ("jose novak", "novak jose")
