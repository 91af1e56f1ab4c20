"""A small export is the response itself: the file read back (csv, openpyxl) holds the
chosen columns, every value as an import reads it, and personal data masked for a role
that does not see it. Every export is audited."""

from __future__ import annotations

import json
import logging

import pytest

from people import services
from people.history import Actor
from populations.models import SavedView
from tests.factories import PersonFactory
from tests.transfer.export_support import csv_rows, xlsx_rows
from transfer import exports

pytestmark = pytest.mark.django_db

ALL = {"all": "1", "query": ""}


def post(client, **data):
    return client.post("/export/", {**ALL, "format": "csv", **data})


def test_the_form_offers_formats_and_grouped_columns_all_checked(viewer_client, profile):
    response = viewer_client.get("/export/", {"q": "Horvat"})
    assert response.status_code == 200
    page = response.content.decode()
    for group in ("Standard attributes", "Identifiers", "Tags", "Custom attributes", "Devices"):
        assert f"<legend>{group}</legend>" in page
    assert 'value="customAttributes.Nickname" checked' in page
    assert 'name="query" value="q=Horvat"' in page
    assert "Excel (XLSX)" in page


def test_every_column_of_a_person_as_an_import_reads_it(editor_client, profile):
    [row] = csv_rows(post(editor_client, columns=exports.default_headers()))
    person = profile.person
    assert row["id"] == str(person.pk)
    assert row["createdAt"].endswith("Z")
    assert (row["firstName"], row["lastName"], row["city"]) == ("Ana", "Horvat", "Zagreb")
    assert row["externalId"] == "crm-42"
    assert row["type"] == "CUSTOMER"
    assert row["phones"] == "'+38516419710"
    assert row["emails"] == "ana.horvat@example.com"
    assert row["tags"] == "newsletter|vip"
    assert row["customAttributes.Nickname"] == "Annie"
    assert row["customAttributes.Balance"] == "12.50"
    assert row["customAttributes.Visits"] == ""
    assert (row["devices"], row["platforms"], row["primaryApplication"]) == (
        "2",
        "Android|iOS",
        "Shop Android",
    )


def test_only_the_columns_chosen_in_the_export_order(editor_client, profile):
    response = post(editor_client, columns=["tags", "firstName", "phones"])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert list(rows[0]) == ["firstName", "phones", "tags"]


def test_xlsx_holds_the_same_rows(editor_client, profile):
    PersonFactory(first_name="Bob", last_name="Zec")
    columns = ["firstName", "lastName", "phones", "tags"]
    csv_file = csv_rows(post(editor_client, columns=columns))
    response = post(editor_client, columns=columns, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx_rows(response) == csv_file
    assert [row["firstName"] for row in csv_file] == ["Ana", "Bob"]


def test_list_of_objects_and_typed_values_as_text(editor_client, profile):
    services.person_set_custom_attributes(
        person=profile.person,
        actor=Actor.system("tests"),
        values={
            "Newsletter": True,
            "Visits": 7,
            "Anniversary": "2020-02-29",
            "Orders": [{"sku": "A-1", "qty": 2, "paid": True}],
        },
    )
    columns = [f"customAttributes.{n}" for n in ("Newsletter", "Visits", "Anniversary", "Orders")]
    [row] = csv_rows(post(editor_client, columns=columns))
    assert row["customAttributes.Newsletter"] == "true"
    assert row["customAttributes.Visits"] == "7"
    assert row["customAttributes.Anniversary"] == "2020-02-29"
    assert json.loads(row["customAttributes.Orders"]) == [{"sku": "A-1", "qty": 2, "paid": True}]


def test_a_viewer_exports_phones_emails_and_external_ids_masked_as_the_pages_show_them(
    viewer_client, profile
):
    columns = ["externalId", "phones", "emails", "firstName"]
    for file_format, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
        [row] = read(post(viewer_client, columns=columns, format=file_format))
        assert row["externalId"] == "c•••42"
        assert row["phones"] == "'+385 • •••9 710"
        assert row["emails"] == "a•••@example.com"
        assert row["firstName"] == "Ana"
        assert "16419710" not in json.dumps(row)


def test_an_editor_sees_them_in_full(editor_client, profile):
    [row] = csv_rows(post(editor_client, columns=["externalId", "emails"]))
    assert row == {"externalId": "crm-42", "emails": "ana.horvat@example.com"}


def test_the_search_finds_the_people_exported(editor_client, profile):
    PersonFactory(first_name="Bob", last_name="Zec")
    rows = csv_rows(post(editor_client, query="q=Zec", columns=["lastName"]))
    assert rows == [{"lastName": "Zec"}]


def test_a_selection_exports_the_people_selected(editor_client, profile):
    bob = PersonFactory(first_name="Bob", last_name="Zec")
    PersonFactory(first_name="Cid", last_name="Ek")
    response = editor_client.post(
        "/export/",
        {"query": "", "ids": [str(bob.pk), str(profile.person.pk)], "columns": ["firstName"]},
    )
    assert [row["firstName"] for row in csv_rows(response)] == ["Ana", "Bob"]


def test_a_saved_view_exports_its_people_and_only_for_whom_may_open_it(
    editor_client, editor, administrator, profile
):
    PersonFactory(first_name="Bob", last_name="Zec")
    view = SavedView.objects.create(name="Zec", owner=editor, query={"q": "Zec"})
    response = editor_client.post("/export/", {"view": str(view.pk), "columns": ["lastName"]})
    assert csv_rows(response) == [{"lastName": "Zec"}]
    other = SavedView.objects.create(name="Mine", owner=administrator, query={"q": "Ana"})
    assert editor_client.get("/export/", {"view": str(other.pk)}).status_code == 404


def test_no_column_chosen_is_the_form_again(editor_client, profile):
    response = post(editor_client)
    assert response.status_code == 422
    assert "Choose at least one column." in response.content.decode()


def test_an_operator_without_a_role_may_not_export(client, django_user_model, profile):
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert post(client, columns=["firstName"]).status_code == 403


def test_an_export_is_audited_with_who_what_and_how_many(editor_client, profile, caplog):
    PersonFactory(first_name="Bob", last_name="Zec")
    with caplog.at_level(logging.INFO, logger="portal.audit"):
        csv_rows(post(editor_client, query="tag=vip", columns=["firstName", "phones"]))
    [record] = [r for r in caplog.records if r.name == "portal.audit"]
    audit = record.audit
    assert audit["action"] == "export streamed"
    assert audit["actor"] == "eddie.editor"
    assert audit["rows"] == 2
    assert audit["columns"] == ["firstName", "phones"]
    assert audit["masked"] is False


def test_the_search_page_and_the_bulk_menu_offer_export(editor_client, profile):
    page = editor_client.get("/", {"q": "Horvat"}).content.decode()
    assert 'data-testid="export-link"' in page
    assert 'data-testid="bulk-export"' in page
    assert ">Export…</button>" in page
    # The export is not one of the bulk actions.
    assert 'value="export"' not in page


def test_a_viewer_has_the_export_link_without_the_bulk_bar(viewer_client, profile):
    page = viewer_client.get("/", {"q": "Horvat"}).content.decode()
    assert 'href="/export/?q=Horvat"' in page
    assert 'data-testid="bulk-export"' not in page


def test_an_open_saved_view_exports_by_its_id(editor_client, editor, profile):
    view = SavedView.objects.create(name="Ana", owner=editor, query={"q": "Horvat"})
    page = editor_client.get(f"/views/{view.pk}/").content.decode()
    assert f'href="/export/?view={view.pk}"' in page
    form = editor_client.get("/export/", {"view": str(view.pk)}).content.decode()
    assert f'name="view" value="{view.pk}"' in form


def test_a_download_stopped_early_is_audited_with_the_rows_sent(editor_client, profile, caplog):
    response = post(editor_client, columns=["firstName"])
    with caplog.at_level(logging.INFO, logger="portal.audit"):
        next(iter(response.streaming_content))  # the header only
        response.close()
    [record] = [r for r in caplog.records if r.name == "portal.audit"]
    assert (record.audit["action"], record.audit["rows"]) == ("export streamed", 0)
