"""The search box and filters through directory.search, on every database."""

import pytest
from django.db import connection

from directory.search import SearchQuery, estimated_count, exact_matches, search_people
from directory.search import filters as search
from installations.depersonalize import person_delete
from installations.models import Installation
from people import services
from people.models import PersonType
from tests.factories import InstallationFactory

pytestmark = pytest.mark.django_db


def make_person(actor, first="", last="", **kwargs):
    return services.person_create(
        actor=actor,
        fields={"firstName": first, "lastName": last, **kwargs.pop("fields", {})},
        **kwargs,
    )


def ids(page):
    return [person.pk for person in page.people]


def test_a_phone_is_found_in_any_common_format(actor):
    person = make_person(actor, "Ana", "Horvat", phones=["+385 1 6419 710"])
    for typed in ("+385 1 6419-710", "00385 1 6419 710", "38516419710", "(385) 1.6419.710"):
        page = search_people(SearchQuery(q=typed))
        assert ids(page) == [person.pk], typed
        assert page.exact and page.matches[0].kind == "phone"


def test_a_phone_typed_without_country_code_is_found_by_its_national_number(actor):
    person = make_person(actor, "Ana", "Horvat", phones=["+385 91 234 5678"])
    page = search_people(SearchQuery(q="091 234 5678"))
    assert ids(page) == [person.pk]
    assert page.matches[0].kind == "nationalPhone"


def test_an_email_is_found_whatever_its_casing(actor):
    person = make_person(actor, "Ana", "Horvat", emails=["Ana.Horvat@Example.com"])
    page = search_people(SearchQuery(q="ANA.HORVAT@example.COM"))
    assert ids(page) == [person.pk]
    assert page.matches[0].label == "email ana.horvat@example.com"


def test_an_external_id_and_a_push_registration_id_are_exact(actor, shop):
    person = make_person(actor, "Ana", "Horvat", fields={"externalId": "crm-42"})
    installation = InstallationFactory(application=shop, person=person)
    assert ids(search_people(SearchQuery(q="crm-42"))) == [person.pk]
    assert ids(search_people(SearchQuery(q="crm-4"))) == []
    page = search_people(SearchQuery(q=installation.push_registration_id))
    assert ids(page) == [person.pk]
    assert page.single_exact == person
    assert page.matches[0].kind == "pushRegistrationId"


def test_exact_matches_names_each_kind_it_found(actor):
    person = make_person(actor, "Ana", "Horvat", phones=["+38516419710"])
    found, matches = exact_matches("+385 1 6419 710")
    assert found == [person.pk]
    assert [m.kind for m in matches] == ["phone"]


def test_a_name_prefix_ignores_case_and_accents_in_either_order(actor):
    ana = make_person(actor, "Ana", "Kovačević")
    ivan = make_person(actor, "Ivan", "Kovacevic")
    make_person(actor, "Marko", "Horvat")
    assert set(ids(search_people(SearchQuery(q="KOVAČ")))) == {ana.pk, ivan.pk}
    assert ids(search_people(SearchQuery(q="ana kovace"))) == [ana.pk]
    assert ids(search_people(SearchQuery(q="kovacevic iv"))) == [ivan.pk]
    page = search_people(SearchQuery(q="kov"))
    assert not page.exact and page.matches[0].label == "name starting with kov"


def test_name_pages_follow_each_other_without_gaps_or_repeats(actor):
    people = [make_person(actor, f"Jo{i % 4}", f"Jones{i % 3}") for i in range(23)]
    # Someone whose first and last names both start with "jo" is listed once.
    people.append(make_person(actor, "Jolene", "Jordan"))
    seen, cursor, pages = [], None, 0
    while True:
        page = search_people(SearchQuery(q="jo"), after=cursor, limit=5)
        seen.extend(ids(page))
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(p.pk for p in people)
    assert len(seen) == len(set(seen)) and pages == 5
    keys = [search_people(SearchQuery(q="jo"), limit=100).people]
    names = [p.search_name for p in keys[0]]
    assert names == sorted(names)


def test_filter_only_lists_are_newest_first_in_keyset_pages(actor):
    people = [make_person(actor, "Ana", f"N{i}", tags=["VIP"] if i % 2 else []) for i in range(9)]
    vip = [p.pk for p in reversed(people) if p.tags.exists()]
    first = search_people(SearchQuery(tags=["vip"]), limit=3)
    second = search_people(SearchQuery(tags=["VIP"]), after=first.next_cursor, limit=3)
    assert ids(first) + ids(second) == vip[:6]
    assert first.total_label == "3+"
    assert search_people(SearchQuery(tags=["no such tag"])).people == []


def test_filters_combine_with_the_search_box(actor, shop):
    both = make_person(actor, "Ana", "Horvat", tags=["VIP", "Pizza"])
    make_person(actor, "Ana", "Horak", tags=["VIP"])
    InstallationFactory(application=shop, person=both, os="iOS", is_primary=True)
    query = SearchQuery(q="hor", tags=["VIP", "pizza"], platform="ios", has_primary=True)
    assert ids(search_people(query)) == [both.pk]
    assert ids(search_people(SearchQuery(q="hor", application="shop"))) == [both.pk]
    assert ids(search_people(SearchQuery(q="hor", has_primary=False))) != [both.pk]
    lead = make_person(actor, "Ana", "Horn", fields={"type": "LEAD"})
    assert ids(search_people(SearchQuery(q="ana", type=PersonType.LEAD))) == [lead.pk]


@pytest.mark.parametrize("rare_tag_people", [0, 5_000], ids=["tag tested", "tag read first"])
def test_a_tag_filter_lists_the_same_pages_whether_its_people_are_read_first_or_probed(
    actor, monkeypatch, rare_tag_people
):
    # A rare tag's people are read first (search.RARE_TAG_PEOPLE); a common one is tested on
    # each person of an index walk (beside a name on PostgreSQL: on the name index's tag_ids;
    # otherwise a probe of the tag's index). Both must give the same pages, in the same order.
    monkeypatch.setattr(search, "RARE_TAG_PEOPLE", rare_tag_people)
    people = [
        make_person(actor, f"Jo{i % 4}", f"Jones{i % 3}", tags=["VIP"] if i % 3 else ["Other"])
        for i in range(20)
    ]
    # Matches "jo" only as "last first".
    people += [make_person(actor, "Mary", f"Johnson{i}", tags=["VIP"]) for i in range(3)]
    people.append(make_person(actor, "Jolene", "Jordan", tags=["VIP", "Gold"]))
    make_person(actor, "Ana", "Horvat", tags=["VIP"])
    vip_jo = {p.pk for p in people if p.tags.filter(name="VIP").exists()}
    seen, cursor = [], None
    while True:
        page = search_people(SearchQuery(q="JO", tags=["vip"]), after=cursor, limit=4)
        seen.extend(page.people)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [p.pk for p in seen if p.pk in vip_jo] == [p.pk for p in seen]
    assert sorted(p.pk for p in seen) == sorted(vip_jo)
    keys = [
        p.search_name if p.search_name.startswith("jo") else p.search_name_reversed for p in seen
    ]
    assert keys == sorted(keys)
    newest = search_people(SearchQuery(tags=["VIP", "gold"]))
    assert ids(newest) == [people[-1].pk]
    listed = search_people(SearchQuery(tags=["VIP"]), limit=5)
    assert ids(listed) == sorted(vip_jo | {listed.people[0].pk}, reverse=True)[:5]
    assert [t.name for t in newest.people[0].tags.all()] == ["Gold", "VIP"]


@pytest.mark.parametrize(
    ("data_type", "stored", "op", "typed", "found"),
    [
        ("INTEGER", 120, "gt", "100", True),
        ("INTEGER", 120, "lt", "100", False),
        ("DECIMAL", "12.50", "eq", "12.5", True),
        ("BOOLEAN", True, "eq", "true", True),
        ("DATE", "2027-03-01", "gte", "2027-03-01", True),
        ("DATE_TIME", "2026-05-01T10:00:00Z", "lt", "2026-05-01T09:00:00Z", False),
        ("STRING", "Zagreb Centar", "eq", "Zagreb Centar", True),
        ("STRING", "Zagreb Centar", "eq", "Zagreb", False),
    ],
)
def test_a_custom_attribute_compares_by_its_type(actor, data_type, stored, op, typed, found):
    from decimal import Decimal

    services.attribute_definition_create(name="Value", data_type=data_type)
    raw = Decimal(stored) if data_type == "DECIMAL" else stored
    person = make_person(actor, "Ana", "Horvat", custom_attributes={"Value": raw})
    make_person(actor, "Ivan", "Horvat")
    query = SearchQuery(attribute="value", attribute_value=typed, attribute_op=op)
    assert ids(search_people(query)) == ([person.pk] if found else [])


def test_a_bad_attribute_filter_names_the_field():
    from core.errors import DomainError

    with pytest.raises(DomainError) as error:
        search_people(SearchQuery(attribute="nope", attribute_value="1"))
    assert error.value.field == "attribute"


def test_a_result_page_needs_no_query_per_row(actor, shop, django_assert_num_queries):
    for i in range(6):
        person = make_person(actor, "Ana", f"Horvat{i}", phones=[f"+3859123456{i:02d}"])
        InstallationFactory(application=shop, person=person)
    # One statement: the name page (both ranges), which also tells that no identifier lookup
    # finds anyone; on PostgreSQL the phones, tags and installations come in the same rows,
    # elsewhere three prefetch queries add to it.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 4):
        page = search_people(SearchQuery(q="ana"))
        rows = [
            (p.identities.all()[0].value, [i.application.name for i in p.installations.all()])
            for p in page.people
        ]
        list(p.tags.all() for p in page.people)
    assert len(rows) == 6 and rows[0][1] == ["Shop"]


@pytest.mark.parametrize("kind", ["externalId", "pushRegistrationId"])
def test_an_identifier_spelled_like_a_name_finds_its_person_before_the_names(
    actor, shop, kind, django_assert_num_queries
):
    """Letters only: the name page is read first and says an identifier lookup finds
    someone, so the identifier's person is the answer, as for any other identifier."""
    owner = make_person(actor, "Ivo", "Babic")
    if kind == "externalId":
        services.person_set_fields(person=owner, actor=actor, fields={"externalId": "horvat"})
    else:
        InstallationFactory(application=shop, person=owner, push_registration_id="horvat")
    named = [make_person(actor, "Ana", "Horvat"), make_person(actor, "Zora", "Horvatic")]
    page = search_people(SearchQuery(q="horvat"))
    assert ids(page) == [owner.pk]
    assert page.exact and page.matches[0].kind == kind
    # Also with no name starting so: the name page is empty, the identifier still found.
    person_delete(person=named[0], actor=actor)
    person_delete(person=named[1], actor=actor)
    page = search_people(SearchQuery(q="horvat"))
    assert ids(page) == [owner.pk] and page.matches[0].kind == kind
    # A filter the identifier's person fails: the names are the answer, not an empty page.
    other = make_person(actor, "Horvat", "Novak", tags=["VIP"])
    page = search_people(SearchQuery(q="horvat", tags=["VIP"]))
    assert ids(page) == [other.pk] and page.matches[0].kind == "name"


@pytest.mark.postgres_only
def test_a_name_search_is_one_statement_and_an_identifier_with_letters_two(
    actor, shop, django_assert_num_queries
):
    make_person(actor, "Ana", "Horvat")
    make_person(actor, "Ivo", "Babic", fields={"externalId": "babic"})
    with django_assert_num_queries(1):
        assert search_people(SearchQuery(q="horv")).matches[0].kind == "name"
    # Letters that are also an identifier: the name page, then the identifier's page.
    with django_assert_num_queries(2):
        assert search_people(SearchQuery(q="babic")).matches[0].kind == "externalId"


@pytest.mark.postgres_only
def test_an_exact_search_is_one_query_on_postgresql(actor, shop, django_assert_num_queries):
    person = make_person(actor, "Ana", "Horvat", phones=["+385916419710"], tags=["VIP"])
    InstallationFactory(application=shop, person=person)
    with django_assert_num_queries(1):
        page = search_people(SearchQuery(q="+385 91 6419 710"))
        assert [t.name for t in page.people[0].tags.all()] == ["VIP"]
        assert page.people[0].installations.all()[0].application.name == "Shop"
        assert page.people[0].identities.all()[0].national_number == "916419710"


def test_estimated_count_is_exact_on_small_tables(actor):
    make_person(actor, "Ana", "Horvat")
    assert estimated_count() == 1
    assert estimated_count(Installation) == 0


@pytest.mark.parametrize("rare_tag_people", [0, 5_000], ids=["tag probed", "tag read first"])
def test_a_tag_condition_finds_the_same_people_either_way_and_negates(
    actor, monkeypatch, rare_tag_people
):
    from people.models import Person

    monkeypatch.setattr(search, "RARE_TAG_PEOPLE", rare_tag_people)
    tagged = {make_person(actor, "Ana", f"T{i}", tags=["VIP"]).pk for i in range(3)}
    others = {make_person(actor, "Ivo", f"O{i}", tags=["Other"]).pk for i in range(2)}
    tag = search.find_tag(" vip ")
    assert tag.rare is (rare_tag_people > 0)
    assert set(Person.objects.filter(tag.condition()).values_list("pk", flat=True)) == tagged
    assert set(Person.objects.filter(~tag.condition()).values_list("pk", flat=True)) == others
    assert search.find_tag("no such tag") is None


def test_how_many_people_have_a_tag_is_asked_once_a_minute(actor, monkeypatch):
    """Whether a tag is rare (on at most RARE_TAG_PEOPLE people) steers the plan only: it is
    remembered for TAG_SIZE_SECONDS, then asked again; the ids are looked up every time."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(search, "RARE_TAG_PEOPLE", 2)
    clock = [1000.0]
    monkeypatch.setattr(search, "_clock", lambda: clock[0])
    make_person(actor, "Ana", "A", tags=["VIP"])
    make_person(actor, "Ivo", "B", tags=["VIP"])

    def size_probes():
        with CaptureQueriesContext(connection) as captured:
            tag = search.find_tag("VIP")
        return tag, sum("OFFSET" in q["sql"] for q in captured.captured_queries)

    tag, probes = size_probes()
    assert (tag.rare, probes) == (True, 1)  # asked
    assert size_probes() == (tag, 0)  # remembered
    make_person(actor, "Eva", "C", tags=["VIP"])  # now on 3 people: no longer rare
    clock[0] += search.TAG_SIZE_SECONDS - 1
    assert size_probes() == (tag, 0)  # remembered: still read as rare
    clock[0] += 2
    assert size_probes() == (search.TagFilter(tag.tag_id, rare=False), 1)
    # What it steers is the plan: the people found are the same either way.
    assert len(search_people(SearchQuery(tags=["vip"])).people) == 3
