"""A bulk job from the search page to its undo, in a real browser, with the real actions and
the job engine (eager in the tests, as in `make run`): an editor selects the people of a tag,
previews "Add tags", dry-runs it (one person was deleted since the preview: its row fails and
nothing is written), runs it, follows the change into a person's history and to the job, and
undoes it. A built-in hygiene view's people are all set right by one job, and the view then
finds nobody.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from installations.depersonalize import person_delete
from installations.models import Installation
from jobs.models import Job, JobState
from people import services
from people.history import Actor
from people.models import Event, Person, Source
from tests.browser.conftest import sign_in
from tests.factories import ApplicationFactory, InstallationFactory, PersonFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def members(transactional_db):
    """Five people tagged club, and one without the tag."""
    actor = Actor.system("tests")
    people = [
        services.person_create(
            actor=actor, fields={"firstName": f"Member{n}", "lastName": "Club"}, tags=["club"]
        )
        for n in range(5)
    ]
    services.person_create(actor=actor, fields={"firstName": "Outsider"}, tags=["other"])
    return people


def tags_of(person: Person) -> set[str]:
    return set(person.tags.values_list("name", flat=True))


def open_job(page, state: str):
    """The job page the start redirected to, once its status says ``state``."""
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-state", state)
    return Job.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def preview_gold_for_the_page(page) -> None:
    """Search the tag, select its rows, and preview "Add tags" with gold."""
    page.goto("/?tags=club&size=25")
    results = page.locator("#results")
    expect(results.get_by_test_id("result-total")).to_contain_text("5 people")
    page.get_by_label("Select all on this page").check()
    expect(page.get_by_test_id("bulk-status")).to_contain_text("All 5 on this page are selected.")
    actions = page.get_by_test_id("bulk-actions")
    actions.locator("summary").click()
    page.get_by_role("button", name="Add tags…").click()
    page.wait_for_url(re.compile(r"/bulk/\?.*action=tags\.add"))
    expect(page.get_by_test_id("bulk-population")).to_have_text("5 selected people")
    page.get_by_label("Tags").fill("gold")
    page.get_by_test_id("bulk-preview-button").click()
    preview = page.get_by_test_id("bulk-preview")
    expect(preview.get_by_test_id("bulk-people")).to_have_text("5 people")
    expect(preview.get_by_test_id("bulk-sample-row")).to_have_count(5)
    expect(preview.get_by_test_id("bulk-sample-row").first).to_contain_text("Member0 Club")
    expect(preview.get_by_test_id("bulk-sample-row").first).to_contain_text("club, gold")


def test_add_tags_dry_run_run_history_and_undo(page, editor, members):
    sign_in(page, editor.username)
    gone = members[4]
    preview_gold_for_the_page(page)
    # Deleted between the preview and the start: its row of the job fails alone.
    person_delete(person=gone, actor=Actor.system("tests"))

    page.get_by_test_id("bulk-dry-run").click()
    dry = open_job(page, JobState.DONE)
    expect(page.get_by_role("heading", level=1)).to_contain_text("(dry run)")
    expect(page.get_by_test_id("job-total")).to_have_text("5")
    expect(page.get_by_test_id("job-changed")).to_have_text("4")
    expect(page.get_by_test_id("job-failed")).to_have_text("1")
    errors = page.get_by_test_id("job-error-row")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text(f"Person {gone.pk}")
    expect(errors).to_contain_text("NOT_FOUND")
    expect(page.get_by_test_id("job-undo")).to_have_count(0)  # a dry run has nothing to undo
    assert dry.dry_run
    assert all(tags_of(person) == {"club"} for person in members[:4])
    assert not Event.objects.filter(job=dry).exists()

    # Back to the bulk page: the same selection and action, previewed again, then run.
    page.go_back()
    page.wait_for_url(re.compile(r"/bulk/\?.*action=tags\.add"))
    page.get_by_label("Tags").fill("gold")
    page.get_by_test_id("bulk-preview-button").click()
    page.get_by_test_id("bulk-preview").get_by_test_id("bulk-run").click()
    run = open_job(page, JobState.DONE)
    assert run.pk != dry.pk and not run.dry_run
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("dry run")
    expect(page.get_by_test_id("job-percent")).to_have_text("100%")
    expect(page.get_by_test_id("job-changed")).to_have_text("4")
    expect(page.get_by_test_id("job-failed")).to_have_text("1")
    assert all(tags_of(person) == {"club", "gold"} for person in members[:4])
    assert Event.objects.filter(job=run).count() == 4

    # The person's history: the change, by the editor, from the bulk job, linked to it.
    person = members[0]
    page.goto(f"/person/{person.pk}/#history")
    expect(page.get_by_test_id("summary-tags")).to_contain_text("gold")
    row = page.locator("#history").get_by_test_id("history-row").first
    expect(row).to_contain_text("gold")
    expect(row).to_contain_text(editor.username)
    expect(row).to_contain_text(Source.JOB.label)
    row.get_by_test_id("history-job").click()
    page.wait_for_url(f"**/jobs/{run.pk}/")

    page.get_by_test_id("job-undo").click()
    undo = open_job(page, JobState.DONE)
    assert undo.undoes_id == run.pk
    expect(page.get_by_test_id("job-undoes")).to_have_text(f"Job {run.pk}")
    expect(page.get_by_test_id("job-changed")).to_have_text("4")
    expect(page.get_by_test_id("job-failed")).to_have_text("0")
    assert all(tags_of(person) == {"club"} for person in members[:4])

    page.goto(f"/person/{person.pk}/#history")
    latest = page.locator("#history").get_by_test_id("history-row").first
    expect(latest.get_by_test_id("history-reverts")).to_be_visible()
    expect(latest.get_by_test_id("history-job")).to_have_text(f"Job {undo.pk}")
    expect(page.get_by_test_id("summary-tags")).to_have_text("club")

    page.goto(f"/jobs/{run.pk}/")
    expect(page.get_by_test_id("job-undone-by")).to_have_text(f"Job {undo.pk}")
    expect(page.get_by_test_id("job-undo")).to_have_count(0)


@pytest.fixture
def push_off(transactional_db):
    """27 people (more than a page of 25) whose device notifies with push turned off, and one
    whose device is right already."""
    shop = ApplicationFactory(name="Shop", code="shop")
    off = [PersonFactory(first_name=f"Muted{n:02}", last_name="Device") for n in range(27)]
    for person in off:
        InstallationFactory(
            person=person, application=shop, registration_enabled=False, notifications_enabled=True
        )
    InstallationFactory(person=PersonFactory(first_name="Fine"), application=shop)
    return off


def test_a_hygiene_view_s_people_are_set_right_by_one_job(page, editor, push_off):
    sign_in(page, editor.username)
    page.locator("details.views-menu > summary").click()
    page.get_by_test_id("views-menu-list").get_by_role(
        "link", name="Push off, notifications on"
    ).click()
    page.wait_for_url("**/views/hygiene/push-off-notifying/")
    results = page.locator("#results")
    expect(results.get_by_test_id("result-total")).to_contain_text("27 people")

    page.get_by_label("Select all on this page").check()
    page.get_by_test_id("bulk-select-all").click()
    expect(page.get_by_test_id("bulk-status")).to_contain_text(
        "All 27 people matching this search are selected."
    )
    page.get_by_test_id("bulk-actions").locator("summary").click()
    page.get_by_role("button", name="Turn push on or off…").click()
    page.wait_for_url(re.compile(r"/bulk/\?.*action=push\.set"))
    assert "all=1" in page.url
    page.get_by_label("On", exact=True).check()
    page.get_by_test_id("bulk-preview-button").click()
    preview = page.get_by_test_id("bulk-preview")
    expect(preview.get_by_test_id("bulk-people")).to_have_text("27 people")
    expect(preview.get_by_test_id("bulk-installations")).to_have_text("27 installations")
    preview.get_by_test_id("bulk-run").click()

    job = open_job(page, JobState.DONE)
    expect(page.get_by_test_id("job-changed")).to_have_text("27")
    assert job.kind == "push.set" and job.query.get("push_off_notifying") is True
    assert not Installation.objects.filter(registration_enabled=False).exists()

    page.goto("/views/hygiene/push-off-notifying/")
    expect(page.locator("#results")).to_contain_text("No people found")
