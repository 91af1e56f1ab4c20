"""An import from upload to a person's history, in a real browser, with the real job engine
(eager in the tests, as in `make run`): an editor uploads a CSV, checks the column mapping,
dry-runs it (two bad rows reported with their row and column, nothing written), runs it,
watches the job finish, and finds the import in an updated person's history.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from people import services
from people.history import Actor
from people.models import Event, Person, Source
from tests.browser.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]

FILE = (
    "externalId,First name,lastName,emails,tags,birthDate\n"
    "crm-1,Ana,Kovač,ana@example.com,club,1990-04-01\n"
    "crm-2,Bruno,Horvat,bruno@example.com,club|new,\n"
    "crm-3,Cvita,Babić,not-an-email,,\n"
    "crm-4,Dario,Marić,,,2999-01-01\n"
)


@pytest.fixture
def ana(transactional_db):
    return services.person_create(
        actor=Actor.system("tests"), fields={"externalId": "crm-1", "firstName": "Ana"}
    )


def test_upload_map_dry_run_run_and_history(page, editor, ana, tmp_path, screenshot):
    path = tmp_path / "people.csv"
    path.write_text(FILE, encoding="utf-8")
    sign_in(page, editor.username)
    page.get_by_role("link", name="Import").first.click()
    page.wait_for_url("**/import/")
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_test_id("import-upload").click()

    # The mapping: each header matched, "First name" by its label.
    page.wait_for_url(re.compile(r"/import/\d+/$"))
    expect(page.get_by_test_id("import-file-facts")).to_contain_text("4 rows")
    expect(page.get_by_test_id("import-column")).to_have_count(6)
    expect(page.get_by_label("First name", exact=True)).to_have_value("firstName")
    expect(page.get_by_label("birthDate", exact=True)).to_have_value("birthDate")

    # Dry run: two rows fail, each named by row and column; nobody is written.
    page.get_by_test_id("import-dry-run").click()
    result = page.get_by_test_id("import-dry-run-result")
    expect(result.get_by_test_id("job-status")).to_have_attribute("data-state", "DONE")
    expect(result.get_by_test_id("job-created")).to_have_text("1")
    expect(result.get_by_test_id("job-updated")).to_have_text("1")
    expect(result.get_by_test_id("job-failed")).to_have_text("2")
    errors = result.get_by_test_id("job-error-row")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("4")
    expect(errors.nth(0)).to_contain_text("emails")
    expect(errors.nth(0)).to_contain_text("not-an-email")
    expect(errors.nth(1)).to_contain_text("5")
    expect(errors.nth(1)).to_contain_text("birthDate")
    screenshot(page, "import-dry-run")
    assert not Person.objects.filter(external_id="crm-2").exists()
    assert Person.objects.get(pk=ana.pk).last_name == ""

    # The import: the job page follows it to the end.
    page.get_by_test_id("import-run").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    status = page.get_by_test_id("job-status")
    expect(status).to_have_attribute("data-state", "DONE")
    expect(status.get_by_test_id("job-created")).to_have_text("1")
    expect(status.get_by_test_id("job-failed")).to_have_text("2")
    assert Person.objects.filter(external_id="crm-2", first_name="Bruno").exists()

    # Ana's history names the import and its job.
    page.goto(f"/person/{ana.pk}/")
    history = page.locator("#history")
    expect(history).to_contain_text("Kovač")
    expect(history).to_contain_text(Source.IMPORT.label)
    event = Event.objects.filter(person=ana, source=Source.IMPORT).get()
    assert event.job_id is not None
