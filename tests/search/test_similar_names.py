"""The similar-name fallback: a name that finds nobody is corrected against the words of
people's names (people.name_terms, migration 0018) on PostgreSQL with pg_trgm; elsewhere the
words of a bounded read of people's names, compared by rapidfuzz."""

import itertools

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory.search import SIMILAR_SPELLINGS, SearchQuery, search_people, similar_names
from directory.search import similar as search_module
from installations.depersonalize import person_delete
from people import name_terms, services
from people.fields import fold
from people.models import NameTerm, Person
from tests.search.test_explain import bitmap_plan_indexes, mistyped

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.postgres_only


def make_person(actor, first="", last="", **kwargs):
    return services.person_create(
        actor=actor, fields={"firstName": first, "lastName": last}, **kwargs
    )


def ids(page):
    return [person.pk for person in page.people]


def terms():
    return set(NameTerm.objects.values_list("term", flat=True))


@postgres_only
def test_the_database_keeps_the_words_of_every_name_written(actor):
    person = make_person(actor, "Ana", "Kovačević")
    assert {"ana", "kovacevic"} <= terms()
    services.person_set_fields(person=person, actor=actor, fields={"lastName": "Horvat Šimić"})
    assert {"horvat", "simic"} <= terms()
    # Written without the services (a bulk load): the trigger adds them all the same.
    Person.objects.bulk_create([Person(search_name="zrinka babic", search_name_reversed="x")])
    assert {"zrinka", "babic"} <= terms()


@postgres_only
def test_prune_takes_out_the_words_no_name_has_any_more(actor):
    kept = make_person(actor, "Ana", "Horvat")
    gone = make_person(actor, "Zvonimir", "Przybylski")
    person_delete(person=gone, actor=actor)
    assert {"zvonimir", "przybylski"} <= terms()
    call_command("prune_name_terms", stdout=None)
    remaining = terms()
    assert "przybylski" not in remaining and "zvonimir" not in remaining
    assert {"ana", "horvat"} <= remaining
    assert kept.pk in ids(search_people(SearchQuery(q="horvta")))


@postgres_only
def test_a_mistyped_last_name_shows_the_people_of_the_closest_spelling(actor):
    horvat = make_person(actor, "Ana", "Horvat")
    make_person(actor, "Ivo", "Babić")
    page = search_people(SearchQuery(q="Horvta"))
    assert ids(page) == [horvat.pk]
    assert page.corrected == "horvat"
    assert page.matches[0].kind == "similarName"
    assert page.matches[0].label == "similar name horvat"
    assert not page.exact and page.next_cursor is None and not page.more


@postgres_only
def test_both_words_of_a_name_are_corrected_in_either_order(actor):
    ana = make_person(actor, "Ana", "Horvat")
    make_person(actor, "Ana", "Babić")
    make_person(actor, "Ivo", "Horvat")
    assert ids(search_people(SearchQuery(q="Anna Hrovat"))) == [ana.pk]
    page = search_people(SearchQuery(q="hrovat anna"))
    assert ids(page) == [ana.pk] and page.corrected == "horvat ana"


@postgres_only
def test_accents_are_folded_before_the_comparison(actor):
    muller = make_person(actor, "Jörg", "Müller")
    page = search_people(SearchQuery(q="MÜLER"))
    assert ids(page) == [muller.pk] and page.corrected == "muller"


@postgres_only
def test_a_swap_of_two_letters_is_one_change(actor):
    """Trigram similarity alone prefers "jong" to "john" for "jonh" (3 of 7 trigrams against
    2 of 8); the letters changed rank the spellings first."""
    make_person(actor, "John", "Smith")
    make_person(actor, "Jonas", "Smith")
    assert similar_names("jonh smith")[0] == "john smith"


@postgres_only
def test_among_spellings_one_change_away_the_typed_letters_rearranged_come_first(actor):
    """ "jong" (a letter changed) and "john" (two swapped) are both one change from "jonh",
    and "jong" shares more trigrams; "john" has the letters typed."""
    make_person(actor, "John", "Smith")
    make_person(actor, "Jong", "Smit")
    assert similar_names("jonh smiht")[:4] == ["john smith", "john smit", "jong smith", "jong smit"]


@postgres_only
@pytest.mark.parametrize(
    ("typed", "meant"), [("aan", "ana"), ("ivp", "ivo"), ("ana horvt", "ana horvat")]
)
def test_a_short_word_is_corrected_by_its_spellings_one_edit_away(actor, typed, meant):
    """Trigrams see too little of a short word: "aan" shares 1 of 7 with "ana", below any
    useful threshold."""
    ana = make_person(actor, "Ana", "Horvat")
    ivo = make_person(actor, "Ivo", "Kos")
    make_person(actor, "Marko", "Novak")
    page = search_people(SearchQuery(q=typed))
    assert page.corrected == meant
    assert ids(page) == [{"ana": ana.pk, "ivo": ivo.pk}.get(meant, ana.pk)]


def test_the_spellings_one_edit_away():
    near = name_terms.one_edit_away("ana")
    assert {"aan", "naa", "an", "aa", "anna", "anaa", "ane", "ina", "ena"} <= near
    assert "ana" not in near and "nan" not in near and "a" not in near
    # Every letter left out (3), added (a to z at 4 places, less the 3 doubled letters each
    # made twice), changed (25 at 3 places), swapped (2): no spelling twice.
    assert len(name_terms.one_edit_away("xyz")) == 3 + (26 * 4 - 3) + 25 * 3 + 2


@postgres_only
def test_each_word_brings_its_best_spellings_only(actor, monkeypatch):
    """A short word can be one edit from dozens of words; four such words would make
    hundreds of thousands of spellings to rank."""
    for first in ["Ane", "Ani", "Ano", "Anu", "Ina", "Ena", "Una", "Ona", "Anna", "Aba", "Ava"]:
        make_person(actor, first, "Kos")
    options = []
    product = itertools.product

    def counted(*choices):
        options.extend(len(choice) for choice in choices)
        return product(*choices)

    monkeypatch.setattr(search_module.itertools, "product", counted)
    # Eleven words are one edit from "ana" (nobody's name).
    spellings = similar_names("ana kso")
    assert len(spellings) == SIMILAR_SPELLINGS
    assert all(spelling.endswith(" kos") for spelling in spellings)
    assert options == [name_terms.SIMILAR_PER_WORD, 1]


@postgres_only
def test_the_other_spellings_that_find_someone_are_offered(actor):
    horvat = make_person(actor, "Ana", "Horvat")
    make_person(actor, "Ivo", "Horvac")
    page = search_people(SearchQuery(q="horvta"))
    # One change (two letters swapped) against two.
    assert page.corrected == "horvat" and ids(page) == [horvat.pk]
    assert page.other_spellings == ["horvac"]


@postgres_only
def test_a_spelling_that_starts_another_lists_both(actor):
    smith = make_person(actor, "Ana", "Smith")
    smit = make_person(actor, "Ivo", "Smit")
    page = search_people(SearchQuery(q="smitt"))
    # "smit" (a letter left out) is as close as "smith" (a letter changed) and has fewer
    # letters apart; its prefix finds the Smiths too, so "smith" is not offered again.
    assert page.corrected == "smit"
    assert set(ids(page)) == {smith.pk, smit.pk}
    assert page.other_spellings == []


@postgres_only
def test_a_word_of_fewer_than_three_letters_is_not_corrected(actor):
    ivo = make_person(actor, "Ivo", "Horvat")
    make_person(actor, "Ana", "Horvat")
    assert similar_names("xy") == []
    page = search_people(SearchQuery(q="horvta iv"))
    assert page.corrected == "horvat iv" and ids(page) == [ivo.pk]


@postgres_only
@pytest.mark.parametrize("typed", ["horvta@example.com", "crm-horvta-42", "horvta2"])
def test_an_email_or_identifier_is_not_corrected_into_a_name(actor, typed):
    make_person(actor, "Ana", "Horvat")
    assert similar_names(typed) == []
    assert ids(search_people(SearchQuery(q=typed))) == []


@postgres_only
def test_a_name_with_an_apostrophe_or_a_hyphen_is_corrected(actor):
    obrien = make_person(actor, "Ana", "O'Brien-Horvat")
    page = search_people(SearchQuery(q="o'brein"))
    assert ids(page) == [obrien.pk] and page.corrected


@postgres_only
def test_nothing_similar_finds_nobody(actor):
    make_person(actor, "Ana", "Horvat")
    page = search_people(SearchQuery(q="Qwxz"))
    assert ids(page) == [] and page.corrected is None
    assert page.matches[0].kind == "name"


@postgres_only
def test_the_fallback_is_one_capped_page_that_says_there_are_more(actor):
    people = [make_person(actor, f"Ana{i}", "Horvat") for i in range(4)]
    page = search_people(SearchQuery(q="horvta"), limit=3)
    assert len(page.people) == 3 and page.more and page.next_cursor is None
    assert set(ids(page)) < {p.pk for p in people}
    assert page.total_label == "3+"


@postgres_only
def test_the_filters_hold_for_the_corrected_name(actor):
    services.tag_create(name="VIP")
    make_person(actor, "Ana", "Horvat")
    tagged = make_person(actor, "Ivo", "Horvat", tags=["VIP"])
    page = search_people(SearchQuery(q="horvta", tags=["VIP"]))
    assert ids(page) == [tagged.pk] and page.corrected == "horvat"


@postgres_only
def test_a_name_that_finds_someone_never_looks_for_similar_names(actor):
    make_person(actor, "Ana", "Horvat")
    with CaptureQueriesContext(connection) as captured:
        page = search_people(SearchQuery(q="horv"))
    assert page.corrected is None and len(page.people) == 1
    assert not any("people_nameterm" in q["sql"] for q in captured.captured_queries)


@postgres_only
def test_a_later_page_does_not_fall_back(actor):
    make_person(actor, "Ana", "Horvat")
    page = search_people(SearchQuery(q="horvta"), after=10**9)
    assert ids(page) == [] and page.corrected is None


@postgres_only
def test_the_similar_words_are_read_from_the_trigram_index(actor):
    """The table is tiny here, so only bitmap scans (what an index condition gives) are left
    to the planner: the GIN trigram index on the words must hold the similarity condition."""
    make_person(actor, "Ana", "Horvat")
    params = name_terms.lookup_parameters(["horvta", "aan"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL pg_trgm.similarity_threshold = 0.2")
    # The one-edit spellings of the short word are read from the primary key.
    assert bitmap_plan_indexes(name_terms.LOOKUP, params) == {
        "name_term_trgm_idx",
        "people_nameterm_pkey",
    }


@postgres_only
def test_generate_people_fills_the_words_of_its_names(generated):
    assert terms() == {
        word
        for names in Person.objects.values_list("search_name", flat=True)
        for word in names.split()
    }


@postgres_only
def test_a_mistyped_generated_name_finds_the_people_so_named(generated):
    named = Person.objects.exclude(last_name="").filter(last_name__regex=r"^[A-Za-z]{5,}$")
    checked = 0
    for person in named[:8]:
        typed = mistyped(person.last_name)
        if Person.objects.filter(search_name_reversed__startswith=typed).exists():
            continue  # the swap spells another name
        checked += 1
        page = search_people(SearchQuery(q=typed))
        assert page.corrected, typed
        assert any(fold(p.last_name).startswith(page.corrected) for p in page.people), typed
        assert person.last_name.lower() in {page.corrected, *page.other_spellings}, typed
    assert checked >= 4


@postgres_only
def test_the_search_page_offers_the_spelling_it_shows_and_the_others(client, editor, actor):
    make_person(actor, "Ana", "Horvat")
    make_person(actor, "Ivo", "Horvac")
    client.force_login(editor)
    html = client.get(reverse("home"), {"q": "horvta", "tags": ""}).content.decode()
    assert 'data-testid="similar-names"' in html
    assert "No name starts with “horvta”" in html
    assert "Ana Horvat" in html and "Ivo Horvac" not in html
    assert f'href="{reverse("home")}?q=horvat" data-testid="corrected-search"' in html
    assert f'href="{reverse("home")}?q=horvac" data-testid="other-spelling"' in html


@pytest.mark.parametrize(
    ("typed", "corrected"), [("Hrovat", "horvat"), ("ana hrovat", "ana horvat")]
)
def test_a_mistyped_name_finds_the_closest_spelling_on_every_database(actor, typed, corrected):
    ana = make_person(actor, "Ana", "Horvat")
    make_person(actor, "Ivo", "Kovač")
    page = search_people(SearchQuery(q=typed))
    assert ids(page) == [ana.pk] and page.corrected == corrected


def test_the_portable_dictionary_reads_a_bounded_number_of_names(actor, monkeypatch):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL keeps the dictionary (the tests above)")
    from directory.search import backends

    make_person(actor, "Ana", "Horvat")
    with CaptureQueriesContext(connection) as queries:
        assert similar_names("hrovat") == ["horvat"]
    assert f"LIMIT {backends.PORTABLE_NAME_SCAN}" in queries[0]["sql"]
    assert len(queries) == 1
    # Nobody named: no dictionary, no correction.
    Person.objects.all().delete()
    assert similar_names("hrovat") == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_name_written_while_the_dictionary_is_pruned_keeps_its_words(actor):
    """The prune waits for a transaction that named someone with a word it would take out
    (its person not committed yet), then sees that person and keeps the word."""
    import threading
    import time

    from django.db import transaction

    gone = make_person(actor, "Zvonimir", "Przybylski")
    person_delete(person=gone, actor=actor)
    named = threading.Event()
    committing: list[float] = []

    def name_and_commit_late() -> None:
        try:
            with transaction.atomic():
                make_person(actor, "Ivo", "Przybylski")  # the word is there: nothing inserted
                named.set()
                time.sleep(0.5)
                committing.append(time.monotonic())
        finally:
            connection.close()

    writer = threading.Thread(target=name_and_commit_late)
    writer.start()
    assert named.wait(timeout=30)
    removed = name_terms.prune()
    pruned = time.monotonic()
    writer.join(timeout=30)
    assert "przybylski" in terms()
    assert committing and committing[0] <= pruned  # the prune waited for the writer
    assert "zvonimir" not in terms() and removed >= 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_prune_that_cannot_lock_the_dictionary_says_so_and_takes_nothing_out(actor, monkeypatch):
    import threading

    from django.core.management.base import CommandError
    from django.db import transaction

    gone = make_person(actor, "Zvonimir", "Przybylski")
    person_delete(person=gone, actor=actor)
    named, release = threading.Event(), threading.Event()

    def hold_the_dictionary() -> None:
        try:
            with transaction.atomic():
                make_person(actor, "Ana", "Horvat")
                named.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    writer = threading.Thread(target=hold_the_dictionary)
    writer.start()
    try:
        assert named.wait(timeout=30)
        with pytest.raises(name_terms.DictionaryBusy, match="stayed locked by writers"):
            name_terms.prune(lock_timeout="50ms", attempts=2)
        monkeypatch.setattr(name_terms, "PRUNE_LOCK_TIMEOUT", "50ms")
        with pytest.raises(CommandError, match="Try again later"):
            call_command("prune_name_terms", stdout=None)
    finally:
        release.set()
        writer.join(timeout=30)
    assert {"zvonimir", "przybylski"} <= terms()
    call_command("prune_name_terms", stdout=None)
    assert "zvonimir" not in terms()
