"""The vendor's JSON filter language on GET /people/2/persons."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from people.models import AttributeDefinition, DataType
from people.services import person_create
from tests.vendor_api import assert_vendor_error, assert_vendor_list

pytestmark = pytest.mark.django_db
PERSONS = "/people/2/persons"


@pytest.fixture
def people(system_actor):
    AttributeDefinition.objects.create(name="Age", data_type=DataType.INTEGER)
    AttributeDefinition.objects.create(name="Balance", data_type=DataType.DECIMAL)
    AttributeDefinition.objects.create(name="Company", data_type=DataType.STRING)
    AttributeDefinition.objects.create(name="Vip", data_type=DataType.BOOLEAN)
    AttributeDefinition.objects.create(name="Renewal", data_type=DataType.DATE)
    AttributeDefinition.objects.create(name="Seen", data_type=DataType.DATE_TIME)
    rows = {
        "alex": dict(
            fields={"firstName": "Alex", "lastName": "Smith", "birthDate": "1990-05-01"},
            tags=["VIP Client"],
            custom_attributes={
                "Age": 9,
                "Balance": Decimal("10.50"),
                "Company": "Acme",
                "Vip": True,
                "Renewal": "2027-01-01",
                "Seen": "2026-01-01T10:00:00Z",
            },
            emails=["alex@acme.example"],
        ),
        "alexa": dict(
            fields={"firstName": "Alexa", "lastName": "Jones", "gender": "FEMALE"},
            tags=["Newsletter"],
            custom_attributes={
                "Age": 10,
                "Balance": Decimal("2.25"),
                "Company": "Globex",
                "Vip": False,
            },
            phones=["41793026727"],
        ),
        "bob": dict(
            fields={"firstName": "Bob", "lastName": "Smithers", "birthDate": "1980-01-01"},
            tags=["vip client", "Newsletter"],
            custom_attributes={"Age": 100},
        ),
    }
    created = {}
    for key, kwargs in rows.items():
        custom = kwargs.pop("custom_attributes")
        created[key] = person_create(
            actor=system_actor,
            custom_attributes=custom,
            **kwargs,
        ).pk
    return created


def names(client, query) -> list[str]:
    response = client.get(
        PERSONS, {"filter": json.dumps(query), "orderBy": "firstName:asc", "limit": 1000}
    )
    body = assert_vendor_list(response, "persons", "IamPersonV2")
    return [p["firstName"] for p in body["persons"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"firstName": "Alex"}, ["Alex"]),
        ({"#eq": {"firstName": "Alex"}}, ["Alex"]),
        ({"#ne": {"firstName": "Alex"}}, ["Alexa", "Bob"]),
        ({"#startsWith": {"firstName": "ale"}}, ["Alex", "Alexa"]),
        ({"#endsWith": {"lastName": "ers"}}, ["Bob"]),
        ({"#contains": {"lastName": "mith"}}, ["Alex", "Bob"]),
        ({"#notContain": {"lastName": "mith"}}, ["Alexa"]),
        ({"lastName": {"#startsWith": "Smi"}}, ["Alex", "Bob"]),
        ({"gender": "female"}, ["Alexa"]),
        ({"#gt": {"birthDate": "1985-01-01"}}, ["Alex"]),
        ({"birthDate": None}, ["Alexa"]),
        ({"#and": [{"firstName": "Alex"}, {"#contains": {"tags": "VIP Client"}}]}, ["Alex"]),
        ({"#contains": {"tags": "vip client"}}, ["Alex", "Bob"]),
        ({"#notContain": {"tags": "VIP Client"}}, ["Alexa"]),
        ({"tags": "no such tag"}, []),
        ({"#notContain": {"tags": "no such tag"}}, ["Alex", "Alexa", "Bob"]),
        ({"tags": "Newsletter"}, ["Alexa", "Bob"]),
        ({"#or": [{"firstName": "Bob"}, {"lastName": "Jones"}]}, ["Alexa", "Bob"]),
        (
            {
                "#and": [
                    {"#or": [{"firstName": "Bob"}, {"firstName": "Alex"}]},
                    {"tags": "Newsletter"},
                ]
            },
            ["Bob"],
        ),
        ({"contactInformation.email.address": "ALEX@acme.example"}, ["Alex"]),
        ({"contactInformation.phone.number": "+41 79 302 67 27"}, ["Alexa"]),
    ],
)
def test_standard_fields_and_tags_filter_the_list(read_client, people, query, expected):
    assert names(read_client, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Numbers compare as numbers (10 > 9), not as text ("10" < "9").
        ({"#gt": {"customAttributes.Age": 9}}, ["Alexa", "Bob"]),
        ({"#gte": {"customAttributes.Age": "10"}}, ["Alexa", "Bob"]),
        ({"#lt": {"customAttributes.Age": 10}}, ["Alex"]),
        ({"customAttributes": {"Age": {"#lte": 10}}}, ["Alex", "Alexa"]),
        ({"customAttributes.age": 100}, ["Bob"]),
        ({"#gt": {"customAttributes.Balance": 3}}, ["Alex"]),
        ({"customAttributes.Balance": 10.5}, ["Alex"]),
        ({"customAttributes.Company": "Acme"}, ["Alex"]),
        ({"#startsWith": {"customAttributes.Company": "glo"}}, ["Alexa"]),
        ({"#ne": {"customAttributes.Company": "Acme"}}, ["Alexa", "Bob"]),
        ({"customAttributes.Vip": True}, ["Alex"]),
        ({"customAttributes.Vip": False}, ["Alexa"]),
        ({"customAttributes.Vip": None}, ["Bob"]),
        ({"customAttributes": {}}, ["Alex", "Alexa", "Bob"]),  # no condition
        ({"#gte": {"customAttributes.Renewal": "2026-12-31"}}, ["Alex"]),
        ({"#lt": {"customAttributes.Seen": "2026-01-01T11:00:00+01:00"}}, []),
        ({"#lte": {"customAttributes.Seen": "2026-01-01T11:00:00+01:00"}}, ["Alex"]),
    ],
)
def test_custom_attributes_compare_by_their_type(read_client, people, query, expected):
    assert names(read_client, query) == expected


NAME_AND_TAG = [
    ({"#and": [{"lastName": {"#startsWith": "smi"}}, {"tags": "VIP Client"}]}, ["Alex", "Bob"]),
    (
        {"lastName": {"#startsWith": "Smi"}, "#contains": {"tags": "newsletter"}},
        ["Bob"],
    ),
    (
        {
            "#and": [
                {"#startsWith": {"firstName": "Ale"}},
                {"tags": "Newsletter"},
                {"tags": "VIP Client"},
            ]
        },
        [],
    ),
    (
        {"#and": [{"#startsWith": {"firstName": "B"}}, {"#notContain": {"tags": "Newsletter"}}]},
        [],
    ),
    (
        {"#or": [{"lastName": {"#startsWith": "Jon"}}, {"tags": "VIP Client"}]},
        ["Alex", "Alexa", "Bob"],
    ),
    ({"#and": [{"lastName": {"#startsWith": "Smi"}}, {"tags": "no such tag"}]}, []),
]


@pytest.mark.parametrize("rare_tag_people", [0, 5_000], ids=["tested on the row", "read first"])
@pytest.mark.parametrize(("query", "expected"), NAME_AND_TAG)
def test_a_tag_with_a_name_prefix_finds_the_same_people_either_way(
    read_client, people, monkeypatch, rare_tag_people, query, expected
):
    """A common tag is tested on each person walked (on PostgreSQL on the person's tag ids);
    a rare one's people are read first: the same people either way."""
    from directory.search import filters as search

    monkeypatch.setattr(search, "RARE_TAG_PEOPLE", rare_tag_people)
    assert names(read_client, query) == expected


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("query", "index", "disabled"),
    [
        (
            {"#and": [{"lastName": {"#startsWith": "Smi"}}, {"tags": "VIP Client"}]},
            "person_last_name_upper_idx",
            ("seqscan", "bitmapscan"),
        ),
        (
            # Sorting off as well: on three people, reading the attribute's few values and
            # sorting their people would rightly win.
            {"#and": [{"tags": "VIP Client"}, {"#gt": {"customAttributes.Age": 5}}]},
            "person_created_idx",
            ("seqscan", "bitmapscan", "sort"),
        ),
    ],
    ids=["beside a name prefix: the name range", "beside an attribute: newest first"],
)
def test_a_common_tag_is_tested_on_the_entries_of_the_index_walked(
    read_client, people, monkeypatch, query, index, disabled
):
    """The page's ids come from one index alone, the tag tested on each entry's tag_ids
    (migration 0010): people_person_tags is not read, nor the table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from directory.search import filters as search
    from tests.search.test_explain import plan_nodes, plan_of

    monkeypatch.setattr(search, "RARE_TAG_PEOPLE", 0)
    with CaptureQueriesContext(connection) as captured:
        response = read_client.get(PERSONS, {"filter": json.dumps(query)})
    body = assert_vendor_list(response, "persons", "IamPersonV2")
    # Newest first (the API's order): Bob was created after Alex.
    assert [p["firstName"] for p in body["persons"]] == ["Bob", "Alex"]
    (ids,) = [q["sql"] for q in captured.captured_queries if "tag_ids @>" in q["sql"]]
    assert "people_person_tags" not in ids and "jsonb_agg" not in ids
    plan = plan_of(ids, *disabled)
    scans = [n for n in plan_nodes(plan) if n.get("Relation Name") == "people_person"]
    assert [(n["Node Type"], n["Index Name"]) for n in scans] == [("Index Only Scan", index)]
    assert "tag_ids @>" in scans[0]["Filter"]


TAG_AND_ATTRIBUTES = [
    ({"#and": [{"tags": "VIP Client"}, {"customAttributes.Age": 9}]}, ["Alex"]),
    ({"tags": "Newsletter", "#gte": {"customAttributes.Age": 10}}, ["Alexa", "Bob"]),
    (
        {
            "#and": [
                {"tags": "VIP Client"},
                {"#gt": {"customAttributes.Age": 5}},
                {"customAttributes.Vip": True},
            ]
        },
        ["Alex"],
    ),
    ({"#and": [{"tags": "VIP Client"}, {"#ne": {"customAttributes.Company": "Acme"}}]}, ["Bob"]),
    ({"#and": [{"tags": "VIP Client"}, {"customAttributes.Company": "Acme"}]}, ["Alex"]),
    ({"#and": [{"tags": "VIP Client"}, {"customAttributes.Company": "Acm"}]}, []),
    ({"#and": [{"tags": "Newsletter"}, {"customAttributes.Vip": None}]}, ["Bob"]),
    ({"#or": [{"tags": "Newsletter"}, {"customAttributes.Age": 9}]}, ["Alex", "Alexa", "Bob"]),
]


@pytest.mark.parametrize("rare_tag_people", [0, 5_000], ids=["probed", "read first"])
@pytest.mark.parametrize(("query", "expected"), TAG_AND_ATTRIBUTES)
def test_a_tag_with_custom_attributes_finds_the_same_people_either_way(
    read_client, people, monkeypatch, rare_tag_people, query, expected
):
    """A rare tag's people probed for the attributes (PostgreSQL) or the conditions apart:
    the same people."""
    from directory.search import filters as search

    monkeypatch.setattr(search, "RARE_TAG_PEOPLE", rare_tag_people)
    assert names(read_client, query) == expected


@pytest.mark.postgres_only
def test_a_rare_tag_with_an_attribute_probes_the_tags_people(read_client, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query = {"#and": [{"tags": "VIP Client"}, {"#gt": {"customAttributes.Age": 9}}]}
    with CaptureQueriesContext(connection) as captured:
        assert names(read_client, query) == ["Bob"]
    (listing,) = [q["sql"] for q in captured.captured_queries if "OFFSET 0" in q["sql"]]
    # One subquery reads the tag's people and probes the attribute for each of them.
    assert listing.count("people_attributevalue") == 1  # the probe (the page's ids only)
    assert "= ANY(ARRAY(" in listing


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "query",
    [{"#and": [{"tags": "VIP Client"}, {"#gt": {"customAttributes.Age": 9}}]}],
    ids=["tag and attribute"],
)
def test_the_combined_conditions_read_the_big_tables_through_indexes(read_client, people, query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.search.test_explain import INDEXED, LARGE_TABLES, plan_nodes, plan_of

    with CaptureQueriesContext(connection) as captured:
        names(read_client, query)
    (listing,) = [q["sql"] for q in captured.captured_queries if "ANY(ARRAY(" in q["sql"]]
    plan = plan_of(listing, "seqscan")
    scans = [
        (node["Node Type"], node["Relation Name"])
        for node in plan_nodes(plan)
        if node.get("Relation Name") in LARGE_TABLES
    ]
    assert scans
    assert all(kind in INDEXED for kind, _ in scans), scans


def test_created_at_compares_as_a_date_time(read_client, people):
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert names(read_client, {"#lt": {"createdAt": tomorrow}}) == ["Alex", "Alexa", "Bob"]
    assert names(read_client, {"#gt": {"createdAt": tomorrow}}) == []


def nested(clause: dict, levels: int) -> dict:
    for _ in range(levels):
        clause = {"#and": [clause]}
    return clause


@pytest.mark.parametrize(
    "query",
    [
        [],
        {},
        {"#and": []},
        {"#and": {"firstName": "A"}},
        {"#regex": {"firstName": "A"}},
        {"#gt": {"firstName": "A"}},
        {"#contains": {"customAttributes.Age": 1}},
        {"#gt": {"customAttributes.Vip": True}},
        {"customAttributes.Age": "many"},
        {"customAttributes.Nope": 1},
        {"nickname": "A"},
        {"firstName": 1},
        {"firstName": {"#eq": "A", "#ne": "B"}},
        {"#gt": {"birthDate": "yesterday"}},
        nested({"firstName": "A"}, levels=11),
        {"firstName": "nul\u0000"},
    ],
)
def test_a_malformed_filter_is_a_400_naming_the_filter(read_client, people, query):
    response = read_client.get(PERSONS, {"filter": json.dumps(query)})
    exception = assert_vendor_error(response, 400)
    assert exception["messageId"] in {"BAD_REQUEST", "REQUEST_FORMAT_INVALID"}
    assert "filter" in exception["validationErrors"]


def test_filter_count_matches_the_filtered_people(read_client, people):
    response = read_client.get(
        PERSONS, {"filter": json.dumps({"tags": "Newsletter"}), "includeTotalCount": "true"}
    )
    assert response.json()["totalCount"] == 2


@pytest.mark.postgres_only
def test_a_name_prefix_page_reads_its_ids_from_the_name_index_alone(read_client, people):
    """Newest first, the page's ids come from UPPER(lastName) INCLUDE (id, last_name,
    created_at): thousands of people with the prefix are not read from the table to be
    sorted, only the page's rows are (a second statement, by primary key)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.search.test_explain import plan_nodes, plan_of

    query = {"lastName": {"#startsWith": "Smi"}}
    with CaptureQueriesContext(connection) as captured:
        response = read_client.get(PERSONS, {"filter": json.dumps(query)})
    body = assert_vendor_list(response, "persons", "IamPersonV2")
    # Newest first: Bob was created after Alex.
    assert [p["firstName"] for p in body["persons"]] == ["Bob", "Alex"]
    (ids,) = [q["sql"] for q in captured.captured_queries if "UPPER(" in q["sql"]]
    assert "jsonb_agg" not in ids  # the page's ids only; their rows come next
    plan = plan_of(ids, "seqscan", "bitmapscan")
    scans = [(n["Node Type"], n.get("Index Name")) for n in plan_nodes(plan) if "Index Name" in n]
    assert scans == [("Index Only Scan", "person_last_name_upper_idx")], scans


@pytest.mark.postgres_only
@pytest.mark.parametrize("value", ["Acme", "Nobody's company"])
def test_a_text_attribute_is_compared_on_its_indexed_prefix(read_client, people, value):
    """``customAttributes.Company = value`` finds the value in the index on (definition,
    SUBSTRING(value_text, 1, 200), ...), not by reading every Company value: compared on the
    column alone, a value nobody has read all of the attribute's values (115 ms at 1M)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.search.test_explain import plan_nodes, plan_of

    with CaptureQueriesContext(connection) as captured:
        found = names(read_client, {"customAttributes.Company": value})
    assert found == (["Alex"] if value == "Acme" else [])
    # The page's ids (the statement after it reads the page's people with their values).
    listing = next(
        q["sql"] for q in captured.captured_queries if "people_attributevalue" in q["sql"]
    )
    plan = plan_of(listing, "seqscan")
    conditions = [
        node.get("Index Cond", "")
        for node in plan_nodes(plan)
        if node.get("Relation Name") == "people_attributevalue"
    ]
    assert any('"substring"(value_text, 1, 200)' in c for c in conditions), conditions


def test_a_long_text_attribute_equals_only_itself(read_client, people, system_actor):
    """Values longer than the indexed prefix are told apart by the whole text."""
    head = "x" * 200
    for name, tail in (("Long", "a"), ("Longer", "b")):
        person_create(
            actor=system_actor,
            fields={"firstName": name},
            custom_attributes={"Company": head + tail},
        )
    assert names(read_client, {"customAttributes.Company": head + "b"}) == ["Longer"]
    assert names(read_client, {"#ne": {"customAttributes.Company": head + "b"}}) == [
        "Alex",
        "Alexa",
        "Bob",
        "Long",
    ]


@pytest.mark.postgres_only
@pytest.mark.parametrize("prefix", ["GLO", "nobody's"])
def test_a_text_attribute_prefix_is_compared_capitalized_on_its_first_200_characters(
    read_client, people, prefix
):
    """``#startsWith`` on a text attribute compares the capitalized prefix that
    attr_text_upper_idx holds (people 0015): on the column itself a prefix nobody has read
    every value of the attribute, and at 1M the planner walked all the people to find none
    (1.5 s)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        found = names(read_client, {"#startsWith": {"customAttributes.Company": prefix}})
    assert found == (["Alexa"] if prefix == "GLO" else [])
    listing = next(
        q["sql"] for q in captured.captured_queries if "people_attributevalue" in q["sql"]
    )
    assert 'UPPER(SUBSTRING("people_attributevalue"."value_text", 1, 200))' in listing.replace(
        "U0.", '"people_attributevalue".'
    )
    # That comparison is the one attr_text_upper_idx holds: tests/search/test_explain.py.


def test_a_text_attribute_prefix_matches_literally_in_any_casing(read_client, people, system_actor):
    """LIKE's wildcards in the prefix are plain characters; a prefix longer than the indexed
    200 characters is compared whole."""
    head = "y" * 200
    for name, company in (
        ("Percent", "50%_Off deals"),
        ("Fifty", "50xyOff deals"),
        ("Long", head + "ab"),
        ("Longer", head + "ba"),
    ):
        person_create(
            actor=system_actor,
            fields={"firstName": name},
            custom_attributes={"Company": company},
        )

    def starting(prefix: str) -> list[str]:
        return names(read_client, {"#startsWith": {"customAttributes.Company": prefix}})

    assert starting("50%_") == ["Percent"]
    assert starting("50%_off") == ["Percent"]
    assert starting("50") == ["Fifty", "Percent"]
    assert starting(head.upper() + "B") == ["Longer"]
    assert starting(head) == ["Long", "Longer"]
    assert starting("ACM") == ["Alex"]
