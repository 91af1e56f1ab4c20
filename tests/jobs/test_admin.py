"""Jobs in Django admin: listed and filtered for Administrators, never added or changed."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_administrators_list_jobs_by_state(admin_client_, run_job, people):
    job = run_job(people)
    url = reverse("admin:jobs_job_changelist")
    response = admin_client_.get(url, {"state__exact": "DONE"})
    assert response.status_code == 200
    assert "test.touch" in response.content.decode()
    assert admin_client_.get(reverse("admin:jobs_job_change", args=[job.pk])).status_code == 200


def test_no_one_adds_or_deletes_a_job_in_admin(admin_client_, run_job, people):
    job = run_job(people)
    assert admin_client_.get(reverse("admin:jobs_job_add")).status_code == 403
    assert admin_client_.post(reverse("admin:jobs_job_delete", args=[job.pk])).status_code == 403
    assert (
        admin_client_.post(
            reverse("admin:jobs_job_change", args=[job.pk]), {"state": "FAILED"}
        ).status_code
        == 403
    )
    job.refresh_from_db()
    assert job.state == "DONE"


def test_an_editor_cannot_open_jobs_in_admin(editor_client):
    response = editor_client.get(reverse("admin:jobs_job_changelist"))
    assert response.status_code == 302
