"""Device hygiene conditions of the one query (directory.search.hygiene): each finds exactly
the people it describes, on the search page's list, the population (people_of) and its count;
they travel in the query's dict and query string, the search form reads them, and the search
page with each takes a fixed number of statements."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from directory.forms import SearchForm
from directory.search import SearchQuery, count_people, people_of, search_people
from installations.depersonalize import installation_depersonalize
from installations.models import Installation
from people import services
from people.models import PersonType
from populations.builtin_views import BUILTIN_VIEWS
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def found(query: SearchQuery) -> set[int]:
    """The people ``query`` finds, asked three ways, which must agree."""
    listed = {row.pk for row in search_people(query, limit=1000).people}
    population = set(people_of(query).values_list("pk", flat=True))
    assert listed == population
    total = count_people(query)
    assert total is not None and total.count == len(population)
    return population


def device(person, **fields) -> Installation:
    return InstallationFactory(person=person, **fields)


def age(installation: Installation, days: int) -> None:
    """Last updated ``days`` ago (modified_at is set on every save: written past it)."""
    when = timezone.now() - dt.timedelta(days=days)
    Installation.objects.filter(pk=installation.pk).update(modified_at=when)


def test_stale_devices_are_those_not_updated_in_n_days():
    old, recent, mixed, bare = PersonFactory.create_batch(4)
    age(device(old), 120)
    age(device(recent), 10)
    age(device(mixed), 5)
    age(device(mixed), 91)

    assert found(SearchQuery(stale_days=90)) == {old.pk, mixed.pk}
    assert found(SearchQuery(stale_days=100)) == {old.pk}
    assert found(SearchQuery(stale_days=3)) == {old.pk, recent.pk, mixed.pk}
    assert bare.pk not in found(SearchQuery(stale_days=1))


@pytest.mark.parametrize("days", [0, -1, 36_501])
def test_stale_days_out_of_range_are_refused_naming_the_field(days):
    with pytest.raises(DomainError) as refused:
        list(people_of(SearchQuery(stale_days=days)))
    assert refused.value.field == "staleDays"


def test_several_devices_none_primary():
    two_plain, two_with_primary, one_plain, three_plain, none = PersonFactory.create_batch(5)
    device(two_plain)
    device(two_plain)
    device(two_with_primary, is_primary=True)
    device(two_with_primary)
    device(one_plain)
    for _ in range(3):
        device(three_plain)

    assert found(SearchQuery(several_no_primary=True)) == {two_plain.pk, three_plain.pk}


def test_push_off_on_a_device_with_notifications_on():
    wanted, both_off, both_on, second = PersonFactory.create_batch(4)
    device(wanted, registration_enabled=False, notifications_enabled=True)
    device(both_off, registration_enabled=False, notifications_enabled=False)
    device(both_on, registration_enabled=True, notifications_enabled=True)
    device(second, registration_enabled=True)
    device(second, registration_enabled=False, notifications_enabled=True)

    assert found(SearchQuery(push_off_notifying=True)) == {wanted.pk, second.pk}


def test_anonymous_profiles_with_devices_are_what_a_logout_leaves(system_actor):
    registered = InstallationFactory()  # a device's first registration: an anonymous lead
    known = PersonFactory(external_id="crm-1")
    logged_in = device(known)
    by_email = PersonFactory(type=PersonType.LEAD, first_name="", last_name="")
    services.person_add_email(person=by_email, actor=system_actor, address="a@example.com")
    device(by_email)
    by_phone = PersonFactory()
    services.person_add_phone(person=by_phone, actor=system_actor, number="+385912345678")
    device(by_phone)
    PersonFactory(type=PersonType.LEAD, first_name="", last_name="")  # no device

    before = found(SearchQuery(anonymous=True))
    assert before == {registered.person_id}

    left_for = installation_depersonalize(installation=logged_in, actor=system_actor)
    assert found(SearchQuery(anonymous=True)) == {registered.person_id, left_for.pk}
    assert known.pk not in found(SearchQuery(anonymous=True))


def test_duplicate_device_fingerprints_within_one_person():
    shop, bank = ApplicationFactory(), ApplicationFactory()
    twice, two_apps, two_models, two_systems, no_model = PersonFactory.create_batch(5)
    device(twice, application=shop, device_model="Pixel 8", os="Android")
    device(twice, application=shop, device_model="Pixel 8", os="Android")
    device(two_apps, application=shop, device_model="Pixel 8")
    device(two_apps, application=bank, device_model="Pixel 8")
    device(two_models, application=shop, device_model="Pixel 8")
    device(two_models, application=shop, device_model="Pixel 9")
    device(two_systems, application=shop, device_model="Phone", os="Android")
    device(two_systems, application=shop, device_model="Phone", os="Huawei")
    device(no_model, application=shop, device_model="")
    device(no_model, application=shop, device_model="")
    other = PersonFactory()
    device(other, application=shop, device_model="Pixel 8", os="Android")

    assert found(SearchQuery(duplicate_devices=True)) == {twice.pk}


def test_conditions_hold_together_and_with_the_others():
    both, stale_only = PersonFactory.create_batch(2)
    age(device(both, registration_enabled=False, notifications_enabled=True), 200)
    age(device(stale_only), 200)

    assert found(SearchQuery(stale_days=90, push_off_notifying=True)) == {both.pk}
    assert found(SearchQuery(stale_days=90, push_enabled=False)) == {both.pk}


HYGIENE = {
    "stale_days": 45,
    "several_no_primary": True,
    "push_off_notifying": True,
    "anonymous": True,
    "duplicate_devices": True,
}


def test_the_fields_travel_in_the_dict_and_the_query_string():
    query = SearchQuery(**HYGIENE)

    assert query.to_dict() == HYGIENE
    assert SearchQuery.from_dict(query.to_dict()) == query
    assert query.to_query_string() == (
        "stale_days=45&several_no_primary=yes&push_off_notifying=yes&anonymous=yes"
        "&duplicate_devices=yes"
    )
    assert SearchQuery.from_query_string(query.to_query_string()) == query
    assert query.has_filters and not SearchQuery().has_hygiene


def test_the_search_form_reads_them_and_gives_them_back():
    query = SearchQuery(q="ana", tags=["VIP", "Gold"], push_enabled=False, **HYGIENE)
    form = SearchForm(dict(SearchForm.params_of(query)), given_choices_only=True)

    assert form.is_valid(), form.errors
    assert form.to_query() == query


def test_the_search_form_refuses_days_out_of_range(editor_client):
    html = editor_client.get(reverse("home"), {"stale_days": "0"}).text
    assert 'aria-invalid="true" aria-describedby="stale_days-error"' in html


# Session, user, permissions (two), the filters' applications and definitions (one; not for
# the box's htmx answer), then the list: the page's ids (each hygiene condition is part of
# that statement, whatever it tests) and their rows, in one statement on PostgreSQL
# (elsewhere the people, then their phones, tags and devices: four); the Views menu reads
# nothing until it is opened. As a created search (tests/search/test_created_filter.py).
STATEMENTS = {"postgresql": 7, "sqlite": 10}


@pytest.mark.parametrize("builtin", BUILTIN_VIEWS, ids=lambda view: view.key)
def test_the_search_page_with_each_condition_takes_a_fixed_number_of_statements(
    editor_client, django_assert_num_queries, builtin
):
    shop = ApplicationFactory()
    for _ in range(3):
        person = PersonFactory()
        age(device(person, application=shop, registration_enabled=False, device_model="X"), 200)
        device(person, application=shop, registration_enabled=False, device_model="X")
        InstallationFactory(application=shop)
    params = dict(SearchForm.params_of(builtin.query))
    editor_client.get(reverse("home"), params)  # a first request of the session writes more
    expected = STATEMENTS[connection.vendor]
    with django_assert_num_queries(expected):
        html = editor_client.get(reverse("home"), params).text
    assert "row" in html and "No people found" not in html
    with django_assert_num_queries(expected - 1):
        editor_client.get(reverse("home"), params, **HTMX)
    # The built-in view's own URL is the same page, with nothing more to read.
    with django_assert_num_queries(expected):
        opened = editor_client.get(reverse("populations:hygiene", args=[builtin.key])).text
    assert f"<h1>{builtin.name}</h1>" in opened
