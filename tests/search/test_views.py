"""The search page (the start page), its filters, paging, and the dashboard."""

import pytest
from django.urls import reverse

from directory.search import DEFAULT_PAGE_SIZE
from people import services
from tests.factories import InstallationFactory
from tests.profiles import HTMX

pytestmark = pytest.mark.django_db


def search(client, htmx=False, **params):
    return client.get(reverse("home"), params, **(HTMX if htmx else {}))


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("push-ana-tablet", "pushRegistrationId push-ana-tablet"),
        ("+385 1 6419-710", "phone 38516419710"),
        ("ANA.HORVAT@example.com", "email ana.horvat@example.com"),
        ("crm-42", "externalId crm-42"),
    ],
)
def test_an_exact_identifier_lists_the_person_and_says_what_matched(
    editor_client, profile, typed, label
):
    html = search(editor_client, q=typed).content.decode()
    assert label in html
    assert reverse("people:detail", args=[profile.person.pk]) in html


@pytest.mark.parametrize(
    "typed", ["push-ana-phone", "+385 1 6419-710", "Ana.Horvat@EXAMPLE.com", "crm-42"]
)
def test_submitting_one_exact_identifier_opens_the_profile(editor_client, profile, typed):
    response = search(editor_client, q=typed, go="1")
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[profile.person.pk])


def test_a_name_prefix_lists_people_and_does_not_jump(editor_client, profile, system_actor):
    services.person_create(actor=system_actor, fields={"firstName": "Ivo", "lastName": "Horvatić"})
    response = search(editor_client, q="horv", go="1", type="", op="eq", tags="")
    # Enter on a list lands on its canonical URL: only the parameters that mean something.
    assert response.status_code == 302
    assert response.url == reverse("home") + "?q=horv"
    html = editor_client.get(response.url).content.decode()
    assert "Ana Horvat" in html and "Ivo Horvatić" in html
    assert "name starting with horv" in html


def test_typing_returns_the_results_partial_and_pushes_a_clean_url(editor_client, profile):
    response = search(editor_client, htmx=True, q="Horv", go="1", type="", op="eq")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html
    assert response["HX-Push-Url"] == reverse("home") + "?q=Horv"


def test_a_result_row_shows_contacts_devices_and_tags(editor_client, profile):
    html = search(editor_client, q="crm-42").content.decode()
    for text in (
        "Ana Horvat",
        "Customer",
        "+385 1 6419 710",
        "ana.horvat@example.com",
        "2 · Android, iOS",
        "vip",
    ):
        assert text in html, text


def test_filters_narrow_the_list(editor_client, profile, system_actor):
    other = services.person_create(actor=system_actor, fields={"firstName": "Lea", "type": "LEAD"})
    everyone = search(editor_client).content.decode()
    assert "Ana Horvat" in everyone and "Lea" in everyone
    cases = [
        ({"type": "LEAD"}, False),
        ({"type": "CUSTOMER"}, True),
        ({"tags": "vip, newsletter"}, True),
        ({"tags": "vip, nope"}, False),
        ({"app": "shop-android"}, True),
        ({"platform": "iOS"}, True),
        ({"primary": "yes"}, True),
        ({"primary": "no"}, False),
        ({"push": "yes"}, True),
        ({"attribute": "Balance", "op": "gt", "value": "12"}, True),
        ({"attribute": "Balance", "op": "lt", "value": "12"}, False),
        ({"attribute": "Nickname", "value": "Annie"}, True),
    ]
    for params, ana_listed in cases:
        for htmx in (False, True):  # the page, and the results answered to the search box
            html = search(editor_client, htmx=htmx, **params).content.decode()
            assert ("Ana Horvat" in html) is ana_listed, (params, htmx)
            if "type" in params and params["type"] == "LEAD":
                assert f"/person/{other.pk}/" in html


def test_a_mistyped_attribute_filter_names_the_field(editor_client, profile):
    response = search(editor_client, attribute="Balance", value="lots")
    assert response.status_code == 200
    assert "Balance expects a number such as 12.5" in response.content.decode()


def test_the_attribute_value_input_is_typed_by_the_definition(editor_client, profile):
    url = reverse("people:search_value_field")
    assert 'type="date"' in editor_client.get(url, {"attribute": "Anniversary"}).content.decode()
    assert (
        'type="datetime-local"'
        in editor_client.get(url, {"attribute": "LastSeen"}).content.decode()
    )
    assert (
        '<option value="true"'
        in editor_client.get(url, {"attribute": "Newsletter"}).content.decode()
    )
    assert 'inputmode="decimal"' in editor_client.get(url, {"attribute": "Visits"}).content.decode()


def test_results_are_keyset_pages_that_say_the_total_and_their_rows(
    editor_client, profile, system_actor
):
    size = DEFAULT_PAGE_SIZE
    for i in range(size + 5):
        services.person_create(
            actor=system_actor, fields={"firstName": "Page", "lastName": f"Person{i:02d}"}
        )
    first = search(editor_client, q="page").content.decode()
    # The page says what its rows tell and asks for the total once shown (a count can take
    # longer than the page): search_total counts them.
    assert f"{size}+ people" in first and f"rows 1–{size}" in first
    total_url = reverse("people:search_total") + "?q=page"
    assert f'hx-get="{total_url}" hx-trigger="load"' in first
    total = editor_client.get(total_url).content.decode()
    assert f">{size + 5} people<" in total and 'data-total="exact"' in total
    assert "Next page" in first
    next_url = first[: first.index("Next page")].rsplit('href="', 1)[1].split('"')[0]
    assert "offset" not in next_url and "after=" in next_url
    second = editor_client.get(next_url.replace("&amp;", "&")).content.decode()
    assert "Counting people…" in second and f"rows {size + 1}–{size + 5}" in second
    assert f'hx-get="{total_url}"' in second
    assert "First page" in second
    names = [f"Page Person{i:02d}" for i in range(size + 5)]
    on_first = {n for n in names if n in first}
    on_second = {n for n in names if n in second}
    assert len(on_first) == size and len(on_second) == 5
    assert on_first | on_second == set(names)


def test_the_start_page_lists_the_newest_people(editor_client, profile):
    html = search(editor_client).content.decode()
    assert "Ana Horvat" in html and "newest first" in html


def test_nothing_found_says_so(editor_client, profile):
    assert "No people found" in search(editor_client, q="zzzz").content.decode()


def test_the_dashboard_counts_and_links_to_matching_searches(editor_client, profile, system_actor):
    services.person_create(actor=system_actor, fields={"type": "LEAD", "firstName": "Lea"})
    InstallationFactory(os="Huawei", registration_enabled=False)
    response = editor_client.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    # Ana (customer), Lea (lead), and the anonymous lead of the Huawei installation.
    for label, count, url in [
        ("People", 3, "/"),
        ("Customers", 1, "/?type=CUSTOMER"),
        ("Leads", 2, "/?type=LEAD"),
        ("Installations with push enabled", 2, "/?push=yes"),
        ("People with a primary device", 1, "/?primary=yes"),
    ]:
        tile = html.split(f'<a class="tile" href="{url}" data-testid="tile">')[1].split("</a>")[0]
        assert f'<span class="tile-value">{count}</span>' in tile, label
        assert f'<span class="tile-label">{label}</span>' in tile, label
    assert '<a href="/?platform=Huawei">Huawei</a></td><td class="num">1</td>' in html
    assert '<a href="/?platform=Android">Android</a></td><td class="num">1</td>' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "ROBOT"}, "Select a valid choice"),
        ({"attribute": "Undefined"}, "Select a valid choice"),
        ({"platform": "Symbian"}, "Select a valid choice"),
        ({"attribute": "Visits", "op": "like", "value": "1"}, "Select a valid choice"),
        ({"attribute": "Orders", "value": "x"}, "filter by presence only"),
        ({"after": "not-a-number", "q": "horv"}, "Ana Horvat"),
        ({"q": "x" * 5000}, "No people found"),
    ],
)
def test_bad_search_input_is_named_never_a_server_error(editor_client, profile, params, message):
    for htmx in (False, True):
        response = search(editor_client, htmx=htmx, **params)
        assert response.status_code == 200
        assert message in response.content.decode(), htmx


@pytest.mark.parametrize("params", [{"app": "shop\x00android"}, {"attribute": "Bal\x00ance"}])
def test_a_nul_in_a_search_parameter_is_a_400_naming_it(editor_client, profile, params):
    """NUL in any query parameter is refused for every page (portal/request_guards.py)."""
    (name,) = params
    for htmx in (False, True):
        response = search(editor_client, htmx=htmx, **params)
        assert response.status_code == 400
        html = response.content.decode()
        assert name in html
        assert "must not contain NUL characters" in html


def test_the_search_box_reads_applications_and_definitions_only_when_it_names_one(
    editor_client, profile
):
    """The box's answer shows no filter selects: their choices are read only to check a
    value given (an unknown one is still named, above)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def tables_read(**params) -> str:
        with CaptureQueriesContext(connection) as captured:
            assert search(editor_client, htmx=True, **params).status_code == 200
        return " ".join(q["sql"] for q in captured.captured_queries)

    search(editor_client, htmx=True, q="horv")
    # (The result rows read applications too, joined to the devices: not FROM them.)
    applications, definitions = 'FROM "installations_application"', 'FROM "people_attributedef'
    plain = tables_read(q="horv")
    assert applications not in plain and definitions not in plain
    named = tables_read(q="horv", app="shop-android", attribute="Balance", op="gt", value="12")
    assert applications in named and definitions in named
    page = search(editor_client, q="horv").content.decode()
    assert 'value="shop-android"' in page  # the page itself still offers every application


def test_the_page_reads_its_filter_choices_in_one_statement_and_shows_new_ones_at_once(
    editor_client, profile
):
    """Applications by name, definitions by name in any casing, each with its type; one
    statement for both, read each time (nothing remembered: a new one shows at once)."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ApplicationFactory, DefinitionFactory

    def selects() -> tuple[list[str], list[str], int]:
        with CaptureQueriesContext(connection) as captured:
            html = search(editor_client, q="horv").content.decode()
        reads = [
            q["sql"]
            for q in captured.captured_queries
            if 'FROM "installations_application"' in q["sql"]
            or 'FROM "people_attributedefinition"' in q["sql"]
        ]
        app = re.search(r'<select name="app".*?</select>', html, re.S).group(0)
        attribute = re.search(r'<select name="attribute".*?</select>', html, re.S).group(0)
        return (
            re.findall(r"<option value=\"[^\"]*\"[^>]*>([^<]*)<", app),
            re.findall(r"<option value=\"[^\"]*\"[^>]*>([^<]*)<", attribute),
            len(reads),
        )

    search(editor_client, q="horv")
    apps, attributes, reads = selects()
    assert reads == 1
    assert apps[0] == "Any" and apps[1:] == sorted(apps[1:])
    names = [label.rsplit(" (", 1)[0] for label in attributes[1:]]
    assert names == sorted(names, key=str.lower)
    ApplicationFactory(code="zz-new", name="Aardvark shop")
    DefinitionFactory(name="aardvark score", data_type="INTEGER")
    apps, attributes, reads = selects()
    assert reads == 1
    assert apps[1] == "Aardvark shop"
    assert attributes[1] == "aardvark score (Integer)"
    # The selected definition types the value input (name and type read, the rest deferred).
    html = search(editor_client, attribute="aardvark score").content.decode()
    assert 'inputmode="decimal"' in html and "Attribute value (integer)" in html


def test_the_filter_selects_show_the_chosen_values_with_their_labels_escaped(
    editor_client, profile
):
    """A full load of a filtered search shows each select at the value chosen, once; the
    option labels come from the database and are escaped."""
    import re

    from tests.factories import ApplicationFactory, DefinitionFactory

    ApplicationFactory(code="shop<1>", name='Shop <b>"one"</b>')
    DefinitionFactory(name="score", data_type="INTEGER")
    html = search(
        editor_client, app="shop<1>", platform="iOS", push="no", attribute="score"
    ).content.decode()

    def chosen(name: str) -> list[str]:
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
        return re.findall(r'<option value="([^"]*)" selected>', select)

    assert chosen("app") == ["shop&lt;1&gt;"]
    assert chosen("platform") == ["iOS"]
    assert chosen("push") == ["no"]
    assert chosen("attribute") == ["score"]
    assert chosen("type") == [""] and chosen("primary") == [""]  # "Any"
    assert "Shop &lt;b&gt;&quot;one&quot;&lt;/b&gt;</option>" in html
    assert "<b>" not in html


def test_result_rows_escape_names_ids_emails_and_tags(editor_client, system_actor):
    services.person_create(
        actor=system_actor,
        fields={"firstName": "<script>alert(1)</script>", "externalId": 'x"><img src=y>'},
        emails=["a&b@example.com"],
        tags=["<b>bold</b>"],
    )
    html = search(editor_client, q="<script").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "x&quot;&gt;&lt;img src=y&gt;" in html
    assert "a&amp;b@example.com" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert" not in html and "<b>bold" not in html


@pytest.mark.parametrize(
    "typed", ["+385 1 6419 710", "+1 202 555 0143", "+44 20 7946 0958", "+39 06 6982 1234"]
)
def test_a_result_row_shows_a_phone_as_format_phone_does(typed):
    from people.identities import format_phone, parse_phone
    from people.templatetags.people_ui import phone_for_reading

    phone = parse_phone(typed)
    assert phone_for_reading(phone.number, phone.national_number) == format_phone(phone.number)
