"""On PostgreSQL every search kind reads the big tables through an index (issue 7).

The data set is small, so the planner would rightly scan some tables; sequential scans are
disabled (enable_seqscan = off) to ask which plan it has when scanning is not cheap, and the
plan of every SQL statement a search runs must touch the large tables only through indexes.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.search import SearchQuery, search_people
from installations.models import Installation
from people.models import AttributeValue, ContactIdentity, IdentityKind, Person

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

LARGE_TABLES = {
    "people_person",
    "people_contactidentity",
    "people_person_tags",
    "people_attributevalue",
    "people_event",
    "installations_installation",
}

# A bitmap heap scan reads the rows a bitmap index scan found.
INDEXED = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def plan_of(sql: str, *disabled: str) -> dict:
    """The planner's plan of ``sql`` with the ``disabled`` plan kinds turned off ("seqscan",
    "sort", ...): on a small table they would rightly win; off, they ask which plan the
    indexes allow."""
    with connection.cursor() as cursor:
        for kind in disabled:
            cursor.execute(f"SET enable_{kind} = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            (document,) = cursor.fetchone()
        finally:
            for kind in disabled:
                cursor.execute(f"SET enable_{kind} = on")
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


def bitmap_plan_indexes(sql: str, params) -> set[str]:
    """The indexes of the plan of ``sql`` when only bitmap scans are left to the planner
    (what an index condition gives): on a small table it would rather scan the table or a
    whole B-tree, and this asks which index holds the condition."""
    with connection.cursor() as cursor:
        for kind in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{kind} = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
        cursor.execute("RESET enable_seqscan; RESET enable_indexscan; RESET enable_indexonlyscan")
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return {node["Index Name"] for node in plan_nodes(plan) if "Index Name" in node}


def scans_of(query: SearchQuery) -> list[tuple[str, str]]:
    """(node type, table) of every scan in the plans of the statements a search runs."""
    return scans_during(lambda: search_people(query))


def scans_during(action) -> list[tuple[str, str]]:
    """(node type, table) of every scan in the plans of the statements ``action`` runs."""
    with CaptureQueriesContext(connection) as captured:
        action()
    scans = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for statement in captured.captured_queries:
                if statement["sql"].startswith("EXPLAIN"):
                    continue  # the planner's estimate of a name range: reads nothing
                if not statement["sql"].startswith(("SELECT", "WITH", "\nSELECT")):
                    continue  # SAVEPOINT, SET LOCAL (the similar-name lookup's transaction)
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement["sql"])
                (document,) = cursor.fetchone()
                plan = (json.loads(document) if isinstance(document, str) else document)[0]
                for node in plan_nodes(plan["Plan"]):
                    if "Relation Name" in node:
                        scans.append((node["Node Type"], node["Relation Name"]))
        finally:
            cursor.execute("SET enable_seqscan = on; SET enable_sort = on")
    return scans


def mistyped(name: str) -> str:
    """The name with its second and third letters swapped ("Horvat": "hrovat")."""
    folded = name.lower()
    return folded[0] + folded[2] + folded[1] + folded[3:]


def kinds(generated):
    person = Person.objects.exclude(external_id=None).filter(identities__kind="PHONE").first()
    phone = ContactIdentity.objects.filter(kind=IdentityKind.PHONE).first()
    email = ContactIdentity.objects.filter(kind=IdentityKind.EMAIL).first()
    installation = Installation.objects.first()
    named = Person.objects.exclude(last_name="").first()
    amount = AttributeValue.objects.filter(definition__name="Loyalty points").first()
    return {
        "pushRegistrationId": SearchQuery(q=installation.push_registration_id),
        "phone": SearchQuery(q="+" + phone.value),
        "national phone": SearchQuery(q="0" + phone.national_number),
        "email": SearchQuery(q=email.value.upper()),
        "externalId": SearchQuery(q=person.external_id),
        "name prefix": SearchQuery(q=named.last_name[:3].upper()),
        # Two letters swapped: nobody's name starts so, the closest spelling's people instead.
        "similar name": SearchQuery(q=mistyped(named.last_name)),
        "tag": SearchQuery(tags=["VIP"]),
        "two tags": SearchQuery(tags=["Newsletter", "Promotions"]),
        "integer equal": SearchQuery(
            attribute="Loyalty points", attribute_value=str(int(amount.value_number))
        ),
        "integer range": SearchQuery(
            attribute="Loyalty points", attribute_value="40000", attribute_op="gt"
        ),
        "decimal range": SearchQuery(
            attribute="Lifetime value", attribute_value="10.5", attribute_op="lte"
        ),
        "boolean": SearchQuery(attribute="Newsletter opt-in", attribute_value="true"),
        "date range": SearchQuery(
            attribute="Contract expiry", attribute_value="2027-01-01", attribute_op="gte"
        ),
        "date-time range": SearchQuery(
            attribute="Last purchase", attribute_value="2025-01-01T00:00:00Z", attribute_op="lt"
        ),
        "string equal": SearchQuery(attribute="Favourite store", attribute_value="Online"),
        "list present": SearchQuery(attribute="Shopping cart"),
        "platform and primary": SearchQuery(platform="iOS", has_primary=True),
        "name, tag and application": SearchQuery(
            q=named.first_name[:2], tags=["Newsletter"], application="gen-wallet"
        ),
        "type and push": SearchQuery(type="LEAD", push_enabled=False),
        "created on a day": SearchQuery(
            created_from=f"{person.created_at:%Y-%m-%d}", created_to=f"{person.created_at:%Y-%m-%d}"
        ),
        "created and a tag": SearchQuery(created_from="2020-01-01", tags=["VIP"]),
        "nothing": SearchQuery(),
    }


def test_every_search_kind_reads_large_tables_through_indexes(generated):
    for name, query in kinds(generated).items():
        scans = scans_of(query)
        assert scans, name
        assert any("Index" in node for node, _ in scans), name
        full = [
            (node, table) for node, table in scans if table in LARGE_TABLES and node not in INDEXED
        ]
        assert full == [], f"{name}: {full}"


def test_a_result_page_reads_its_peoples_tags_by_the_ids_on_their_rows(generated):
    """The tags shown beside each person come from people_tag by the person's tag_ids
    (migration 0010), not from the person's entries of people_person_tags (cold pages)."""
    from directory.person_page import person_page
    from people.profiles import list_people

    tagged = Person.objects.exclude(last_name="").filter(tags__isnull=False).first()
    scans = scans_of(SearchQuery(q=tagged.last_name[:3]))
    assert any(table == "people_person" for _, table in scans)
    assert [scan for scan in scans if scan[1] == "people_person_tags"] == []
    links = sorted(
        Person.tags.through.objects.filter(person=tagged).values_list("tag__name", flat=True)
    )
    assert links
    listed = list_people().get(pk=tagged.pk)
    assert [tag.name for tag in listed.tags.all()] == links
    shown = person_page(tagged.pk)
    assert sorted(tag.name for tag in shown.tags) == links


def test_a_result_page_reads_phones_emails_and_devices_from_the_covering_indexes(generated):
    """What a result row shows of identities and installations is in the indexes on person_id
    (people 0012, installations 0002): index-only scans, no read of those tables."""
    named = Person.objects.exclude(last_name="").filter(installations__isnull=False).first()
    scans = scans_of(SearchQuery(q=named.last_name[:3]))
    assert ("Index Only Scan", "people_contactidentity") in scans, scans
    assert ("Index Only Scan", "installations_installation") in scans, scans


def test_a_profile_reads_phones_and_emails_from_the_covering_index(generated):
    """The API's people (a page, one person, a personalization's answer) take their
    identities from the index on person_id too; created_at, the one column it lacks, is
    deferred."""
    from people.api.serializers import person_body
    from people.profiles import profiles

    ids = list(Person.objects.filter(identities__isnull=False).values_list("pk", flat=True)[:20])
    scans = scans_during(lambda: profiles(Person.objects.filter(pk__in=ids)))
    assert ("Index Only Scan", "people_contactidentity") in scans, scans
    assert not any(
        table == "people_contactidentity" and node != "Index Only Scan" for node, table in scans
    ), scans
    with CaptureQueriesContext(connection) as captured:
        bodies = [person_body(profile) for profile in profiles(Person.objects.filter(pk__in=ids))]
    assert len(captured) == 1
    assert all(
        body["contactInformation"]["phone"] or body["contactInformation"]["email"]
        for body in bodies
    )


def test_a_name_page_is_two_ordered_index_ranges_without_a_sort(generated):
    named = Person.objects.exclude(last_name="").first()
    with CaptureQueriesContext(connection) as captured:
        search_people(SearchQuery(q=named.last_name[:2]))
    name_statements = [q["sql"] for q in captured.captured_queries if 'COLLATE "C"' in q["sql"]]
    # One statement: "first last" and "last first" ranges, each cut at the page size, then
    # the page's rows with their related rows.
    assert len(name_statements) == 1
    # On a small table a sort of a few rows is cheaper; forbidding it asks whether the index
    # can give the order at all (it can only if no Sort sits under a range's Limit).
    plan = plan_of(name_statements[0], "seqscan", "sort")
    ranges = []
    for node in plan_nodes(plan):
        if node["Node Type"] != "Limit" or node is plan:
            continue
        below = node["Plans"][0]
        # Subquery Scan and Result only pass rows on: below them must be the index range.
        while below["Node Type"] in ("Subquery Scan", "Result"):
            below = below["Plans"][0]
        ranges.append((below["Node Type"], below.get("Index Name", "")))
    assert len(ranges) == 2, ranges
    for node_type, index in ranges:
        assert node_type in ("Index Scan", "Index Only Scan"), ranges
        assert index.startswith("person_search_name"), ranges


def test_a_name_page_with_a_tag_tests_the_tag_on_the_name_index_entries(generated, monkeypatch):
    """Each range walks its name index alone (index-only), the tag tested on the entry's
    tag_ids (migration 0010): no probe of people_person_tags per person walked."""
    from directory.search import filters as search

    monkeypatch.setattr(search, "RARE_TAG_PEOPLE", 0)  # on 400 people every tag is rare
    named = Person.objects.exclude(last_name="").first()
    with CaptureQueriesContext(connection) as captured:
        search_people(SearchQuery(q=named.last_name[:2], tags=["Newsletter"]))
    (statement,) = [q["sql"] for q in captured.captured_queries if 'COLLATE "C"' in q["sql"]]
    plan = plan_of(statement, "seqscan", "sort")
    ranges = [
        node
        for node in plan_nodes(plan)
        if node.get("Index Name", "").startswith("person_search_name")
    ]
    assert [node["Node Type"] for node in ranges] == ["Index Only Scan"] * 2, ranges
    assert all("tag_ids @>" in node["Filter"] for node in ranges), ranges
    # Under each range's Limit only its index (the page's tags are read after, for 25 people).
    limits = [node for node in plan_nodes(plan) if node["Node Type"] == "Limit"][1:]
    assert len(limits) == 2
    for limit in limits:
        assert {n.get("Relation Name") for n in plan_nodes(limit)} == {None, "people_person"}


def test_the_portal_connections_start_no_parallel_workers():
    # A request's statements are short index lookups; a parallel plan spends 5 to 8 ms
    # starting workers (portal/settings.py, DB_PARALLEL_WORKERS).
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == ("0",)


def test_a_tag_is_read_from_its_index_alone():
    # (tag_id, person_id): a tag's people without a visit to the through table's rows.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'people_person_tags'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert any("(tag_id, person_id)" in d for d in definitions), definitions
    assert not any(d.endswith("(tag_id)") for d in definitions), definitions


def test_the_planner_knows_how_often_an_attribute_has_a_value():
    # Without (definition, value) statistics a tag plus "Newsletter opt-in = true" was
    # estimated at a seventh of its matches and joined whole (migration 0007).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxname FROM pg_statistic_ext "
            "WHERE stxrelid = 'people_attributevalue'::regclass ORDER BY 1"
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["attr_definition_bool_stats", "attr_definition_text_stats"]


@pytest.mark.parametrize("value", ["Online", "Nowhere at all"])
def test_a_text_attribute_is_a_range_of_its_person_ordered_index(generated, value):
    """The newest people with a text value are the end of a range of attr_text_person_idx,
    read backwards (no sort, no row of anyone else's value): the index is on the expression
    the queries compare (migration 0013; on substr() no query could use it)."""
    with CaptureQueriesContext(connection) as captured:
        search_people(SearchQuery(attribute="Favourite store", attribute_value=value))
    (ids,) = [q["sql"] for q in captured.captured_queries if "people_attributevalue" in q["sql"]]
    plan = plan_of(ids, "seqscan", "bitmapscan", "sort")
    scans = [
        (node["Node Type"], node.get("Index Name"))
        for node in plan_nodes(plan)
        if node.get("Relation Name") == "people_attributevalue"
    ]
    assert len(scans) == 1, scans
    ((node_type, index),) = scans
    assert node_type in ("Index Scan", "Index Only Scan") and index == "attr_text_person_idx"


@pytest.mark.parametrize("prefix", ["BERLIN M", "nowhere"])
def test_a_text_prefix_is_a_range_of_the_capitalized_index(generated, prefix):
    """What the API's ``#startsWith`` compares (search.text_values_starting) is what
    attr_text_upper_idx holds (people 0015): the values of a prefix are an index range, not
    every value of the attribute."""
    from directory.search.filters import text_values_starting
    from people.models import AttributeDefinition

    store = AttributeDefinition.objects.get(name="Favourite store")
    sql, params = (
        text_values_starting(AttributeValue.objects.filter(definition=store), prefix)
        .values("person_id")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_attributevalue")  # as 0015: the expression's statistics
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
        cursor.execute("RESET enable_seqscan; RESET enable_bitmapscan")
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    scans = [(n.get("Index Name"), n.get("Index Cond", "")) for n in plan_nodes(plan)]
    scans = [scan for scan in scans if scan[0]]
    assert len(scans) == 1, scans
    ((index, condition),) = scans
    assert index == "attr_text_upper_idx", scans
    assert 'upper("substring"(value_text, 1, 200))' in condition, scans


@pytest.mark.parametrize(
    ("model", "column", "op", "index"),
    [
        (ContactIdentity, "value", "#contains", "identity_value_trgm_idx"),
        (ContactIdentity, "value", "#endsWith", "identity_value_trgm_idx"),
        (Person, "first_name", "#contains", "person_first_name_trgm_idx"),
        (Person, "last_name", "#endsWith", "person_last_name_trgm_idx"),
        (AttributeValue, "value_text", "#contains", "attr_text_trgm_idx"),
        (Person, "city", "#contains", "person_city_trgm_idx"),
        (Person, "city", "#startsWith", "person_city_trgm_idx"),
    ],
)
def test_a_substring_filter_of_the_api_can_read_a_trigram_index(
    generated, model, column, op, index
):
    """The API's ``#contains`` and ``#endsWith`` (and on the city ``#startsWith``) compare
    with the lookups of ``filters.LOOKUPS`` (UPPER(column) LIKE '%...%'), which no B-tree
    holds; the trigram indexes of people 0016 and 0017 are on the same expressions. On this
    small set the planner would rather walk a table or a whole B-tree, so only bitmap scans
    (what an index condition gives) are left to it: the trigram index must be the one that
    holds the condition."""
    from directory.api.filters import LOOKUPS

    rows = model.objects.filter(**{f"{column}__{LOOKUPS[op]}": "zzqx"}).values("pk")
    sql, params = rows.query.sql_with_params()
    assert index in bitmap_plan_indexes(sql, params)


def test_the_trigram_indexes_keep_a_thousand_statistics_entries():
    """With the default 100 the planner took a substring on 8,000 of 2.1 million emails for
    one on 200 (people 0016): the estimate decides between the index and the newest-first
    walk."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, a.attstattarget FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname LIKE '%%_trgm_idx'"
        )
        targets = dict(cursor.fetchall())
    assert targets == {
        "identity_value_trgm_idx": 1000,
        "person_first_name_trgm_idx": 1000,
        "person_last_name_trgm_idx": 1000,
        "attr_text_trgm_idx": 1000,
        "person_city_trgm_idx": 1000,
        # The name dictionary's (people 0018): its lookup has no other plan to be chosen.
        "name_term_trgm_idx": -1,
    }


@pytest.mark.parametrize(
    ("table", "column", "unique_index"),
    [
        ("people_person", "external_id", "people_person_external_id_key"),
        (
            "installations_installation",
            "push_registration_id",
            "installations_installation_push_registration_id_key",
        ),
        ("people_nameterm", "term", "people_nameterm_pkey"),
    ],
)
def test_a_unique_text_column_has_its_unique_index_alone(table, column, unique_index):
    """Its one B-tree: Django's second, ``varchar_pattern_ops`` index on a unique text column
    is dropped (people 0019, installations 0003); equality, the only way these are looked
    up, reads the unique index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [table, f"%USING btree ({column}%"],
        )
        indexes = {name for (name,) in cursor.fetchall()}
    assert indexes == {unique_index}
    sql = f"SELECT 1 FROM {table} WHERE {column} = 'zzqx'"  # noqa: S608 (names above)
    assert bitmap_plan_indexes(sql, []) == {unique_index}
