"""The one query: serialized to a plain dict and a query string, and parsed back exactly; the
three doors (the search form, the API's list parameters, admin's changelist) read into it."""

import pytest
from django.http import QueryDict

from directory.admin import changelist_query
from directory.search import SearchQuery

EVERYTHING = SearchQuery(
    q="ana horvat",
    kind="name",
    type="LEAD",
    tags=["VIP", "a, b", "Gold"],
    application="shop",
    platform="iOS",
    has_primary=False,
    push_enabled=True,
    attribute="Balance",
    attribute_value="12.50",
    attribute_op="gte",
    created_from="2026-12-01",
    created_to="2026-12-02",
    filter='{"#and": [{"firstName": "Ana"}, {"#contains": {"tags": "VIP"}}]}',
    order_by="lastName:desc",
    after=42,
    page=3,
    limit=50,
    include_total=True,
)


@pytest.mark.parametrize("query", [SearchQuery(), SearchQuery(q="+385 91"), EVERYTHING])
def test_a_query_comes_back_from_its_dict_and_its_query_string(query):
    assert SearchQuery.from_dict(query.to_dict()) == query
    assert SearchQuery.from_query_string(query.to_query_string()) == query


def test_an_empty_query_is_an_empty_dict_and_an_unknown_field_is_refused():
    assert SearchQuery().to_dict() == {}
    with pytest.raises(ValueError):
        SearchQuery.from_dict({"colour": "red"})
    with pytest.raises(ValueError):
        SearchQuery.from_query_string("colour=red")


def test_the_changelist_parameters_are_one_query():
    params = QueryDict("q=ana&type__exact=LEAD&tag=VIP&application=shop&platform=iOS&p=2")
    assert changelist_query(params) == SearchQuery(
        q="ana", type="LEAD", tags=["VIP"], application="shop", platform="iOS"
    )


def test_the_api_list_parameters_are_one_query():
    from directory.api.filters import api_query

    text = '{"lastName": {"#startsWith": "Hor"}}'
    params = QueryDict(mutable=True)
    params.update({"filter": text, "orderBy": "lastName:desc", "limit": "5", "page": "2"})
    params["includeTotalCount"] = "true"
    assert api_query(params) == SearchQuery(
        filter=text, order_by="lastName:desc", limit=5, page=2, include_total=True
    )
    assert api_query(QueryDict()) == SearchQuery(page=1, limit=20)


def test_the_search_form_is_one_query():
    from directory.forms import SearchForm

    form = SearchForm(
        QueryDict(
            "q=ana&type=LEAD&tags=VIP,+Gold&platform=iOS&primary=no&push=yes"
            "&created_from=2026-12-01&created_to=2026-12-02"
        ),
        given_choices_only=True,
    )
    assert form.is_valid(), form.errors
    assert form.to_query() == SearchQuery(
        q="ana",
        type="LEAD",
        tags=["VIP", "Gold"],
        platform="iOS",
        has_primary=False,
        push_enabled=True,
        created_from="2026-12-01",
        created_to="2026-12-02",
    )
