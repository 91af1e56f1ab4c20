"""A chunk of an import takes a fixed number of statements whatever its rows: 10 rows and
1,000 take the same (the rows of one statement grow, not the statements)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from jobs import actions, engine
from jobs.models import Job
from people.models import ActorKind, AttributeDefinition, ContactIdentity, Source, Tag
from tests.factories import PersonFactory
from tests.transfer.conftest import write_csv
from transfer.imports import services
from transfer.imports.action import KIND

pytestmark = pytest.mark.django_db

HEADER = ["externalId", "firstName", "phones", "emails", "tags", "Level"]


def chunk_statements(tmp_path, operator_actor, size: int, tags: str, dry_run: bool = False) -> int:
    """Statements of one chunk of ``size`` rows: half new people, half updates."""
    AttributeDefinition.objects.get_or_create(name="Level", data_type="INTEGER")
    Tag.objects.get_or_create(name="vip")
    Tag.objects.get_or_create(name="gold")
    rows = []
    for n in range(size):
        ext = f"s{size}-{tags}-{n}"
        if n % 2:
            person = PersonFactory(external_id=ext)
            ContactIdentity.objects.create(
                person=person, kind="EMAIL", value=f"old{ext}@example.com"
            )
        rows.append(
            [
                ext,
                f"Name{n}",
                f"+3851{4 if size == 10 else 6}{n:06d}",
                f"{ext}@example.com",
                "vip|gold",
                str(n),
            ]
        )
    path = write_csv(tmp_path / f"{size}-{tags}.csv", [HEADER, *rows])
    with open(path, "rb") as stream:
        file = services.import_file_upload(stream=stream, name=path.name, actor=operator_actor)
    action = actions.get(KIND)
    params = action.clean_params({"file": file.pk, "tags": tags})
    job = Job.objects.create(
        kind=KIND,
        params=params,
        actor_kind=ActorKind.SYSTEM,
        actor_label="tests",
        source=Source.IMPORT,
        dry_run=dry_run,
    )
    numbers = list(action.targets({"import": file.pk, **params}))
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        outcomes = action.apply(engine.job_context(job), numbers)
    assert sum(o.created for o in outcomes) == (size + 1) // 2
    assert all(o.changed and not o.error_code for o in outcomes)
    return len(queries)


def test_a_dry_run_chunk_takes_the_same_statements_for_10_rows_and_1000(tmp_path, operator_actor):
    large = 1000 if connection.vendor == "postgresql" else 40
    small = chunk_statements(tmp_path, operator_actor, 10, "add", dry_run=True)
    assert chunk_statements(tmp_path, operator_actor, large, "add", dry_run=True) == small


@pytest.mark.parametrize("tags", ["add", "replace"])
def test_a_chunk_takes_the_same_statements_for_10_rows_and_1000(tmp_path, operator_actor, tags):
    small = chunk_statements(tmp_path, operator_actor, 10, tags)
    large = chunk_statements(
        tmp_path, operator_actor, 1000 if connection.vendor == "postgresql" else 40, tags
    )
    assert small == large
