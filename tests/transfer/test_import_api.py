"""POST /people/2/imports: a manage key uploads a file and gets its job (202); a read key is
refused; a bad file is a 400 naming its rule; the job is followed with GET jobs/{id}."""

from __future__ import annotations

import json

import pytest

from people.models import Event, Person, Source

pytestmark = pytest.mark.django_db


def post(client, path, **data):
    with open(path, "rb") as handle:
        return client.post("/people/2/imports", {"file": handle, **data}, format="multipart")


def test_a_manage_key_imports_a_file_as_a_job(
    manage_client, csv_file, django_capture_on_commit_callbacks
):
    path = csv_file([["externalId", "First name"], ["api-1", "Ana"], ["api-2", "Bo"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(manage_client, path, options=json.dumps({"mode": "create"}))
    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["dryRun"], body["params"]["mode"]) == (
        "people.import",
        False,
        "create",
    )
    job = manage_client.get(f"/people/2/jobs/{body['id']}").json()
    assert (job["state"], job["done"], job["changed"], job["created"], job["failed"]) == (
        "DONE",
        2,
        2,
        2,
        0,
    )
    person = Person.objects.get(external_id="api-1")
    assert person.first_name == "Ana"
    event = Event.objects.get(person=person)
    assert (event.source, event.actor_label, event.job_id) == (
        Source.IMPORT,
        "API key crm-sync",
        body["id"],
    )


def test_a_dry_run_over_the_api_writes_nothing(
    manage_client, csv_file, django_capture_on_commit_callbacks
):
    path = csv_file([["externalId"], ["api-1"]])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(manage_client, path, dryRun="true")
    assert response.status_code == 202 and response.json()["dryRun"] is True
    assert not Person.objects.exists()


def test_a_bad_file_is_a_400_naming_its_rule(manage_client, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"externalId,Shoe size\ne1,42\n")
    response = post(manage_client, path)
    assert response.status_code == 400
    assert "Shoe size" in json.dumps(response.json())
    response = post(manage_client, path, options=json.dumps({"skipUnknownColumns": True}))
    assert response.status_code == 202
    response = post(manage_client, path, options="[1]")
    assert response.status_code == 400


def test_a_read_key_cannot_import(read_client, csv_file):
    response = post(read_client, csv_file([["externalId"], ["e1"]]))
    assert response.status_code == 403


def test_a_json_body_is_refused_naming_the_file_it_lacks(manage_client):
    response = manage_client.post("/people/2/imports", {"options": "{}"}, format="json")
    assert response.status_code == 400
    assert "file" in json.dumps(response.json())
    assert not Person.objects.exists()
