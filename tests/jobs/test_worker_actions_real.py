"""The real bulk actions on real workers (tests.jobs.worker_harness): "Add tags" on 300
people in chunks of 50 and its undo, each person changed once and put back exactly; two jobs
on overlapping people run by two workers at once, both done, no deadlock, each person changed
once by each.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from directory.search import SearchQuery
from jobs import engine
from jobs.models import Job, JobState
from people.batches import tags_for
from people.models import AttributeValue, DataType, Event, EventKind, Person, PersonTag, Source
from populations.population import selection
from tests.factories import DefinitionFactory, PersonFactory
from tests.jobs.worker_harness import wait_for

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

PEOPLE = 300
CHUNK = 50
FINISHED = {JobState.DONE, JobState.FAILED, JobState.CANCELLED}


def tagged(count: int, names: list[str], *, already: int = 0) -> list[Person]:
    """``count`` people tagged ``names``; the first ``already`` also tagged gold."""
    people = PersonFactory.create_batch(count)
    with transaction.atomic():
        tags = tags_for([*names, "gold"])
        PersonTag.objects.bulk_create(
            [PersonTag(person=p, tag=tags[name]) for p in people for name in names]
            + [PersonTag(person=p, tag=tags["gold"]) for p in people[:already]]
        )
    return people


def links(people) -> set[tuple[int, int]]:
    return set(
        PersonTag.objects.filter(person__in=people).values_list("person_id", "tag_id").order_by()
    )


def tag_ids(people) -> dict[int, list[int]]:
    """What PersonTag's triggers keep on the person (PostgreSQL)."""
    return dict(Person.objects.filter(pk__in=[p.pk for p in people]).values_list("pk", "tag_ids"))


def events_per_person(job: Job) -> Counter:
    return Counter(Event.objects.filter(job=job).values_list("person_id", flat=True))


def finish(job: Job, log) -> Job:
    return wait_for(job, FINISHED, seconds=180, log=log)


def test_add_tags_on_300_people_in_chunks_of_50_and_its_undo(workers, operator_actor, tmp_path):
    people = tagged(PEOPLE, ["club"], already=20)
    before = (links(people), tag_ids(people))
    versions = dict(Person.objects.values_list("pk", "version"))
    workers(chunk_size=CHUNK)
    log = tmp_path / "worker.log"

    job = engine.start_job(
        kind="tags.add",
        query=SearchQuery(tags=["club"]).to_dict(),
        params={"tags": ["gold"]},
        actor=operator_actor,
    )
    job = finish(job, log)

    assert job.state == JobState.DONE, job.error
    assert job.chunks.count() == PEOPLE // CHUNK
    assert (job.total, job.done, job.changed, job.failed) == (PEOPLE, PEOPLE, PEOPLE - 20, 0)
    changed = {p.pk for p in people[20:]}
    assert events_per_person(job) == Counter(changed)
    assert set(Event.objects.filter(job=job).values_list("kind", "source")) == {
        (EventKind.TAGS_CHANGED, Source.JOB)
    }
    gold = tags_for(["gold"])["gold"]
    assert links(people) == before[0] | {(pk, gold.pk) for pk in changed}
    assert all(gold.pk in ids for ids in tag_ids(people).values())
    after = dict(Person.objects.values_list("pk", "version"))
    assert {pk for pk in after if after[pk] != versions[pk]} == changed

    undo = engine.undo_job(job=job, actor=operator_actor)
    undo = finish(undo, log)

    assert undo.state == JobState.DONE, undo.error
    assert (undo.total, undo.done, undo.changed, undo.failed) == (PEOPLE - 20,) * 3 + (0,)
    assert events_per_person(undo) == Counter(changed)
    reverted = Event.objects.filter(job=undo).values_list("reverts__job", flat=True)
    assert set(reverted) == {job.pk}
    assert (links(people), tag_ids(people)) == before
    assert events_per_person(job) == Counter(changed)  # the job's own events stay


def test_two_jobs_on_overlapping_people_on_two_workers(workers, operator_actor, tmp_path):
    people = tagged(PEOPLE, ["club"])
    level = DefinitionFactory(name="Level", data_type=DataType.STRING)
    tags_people, level_people = people[:200], people[100:]
    versions = dict(Person.objects.values_list("pk", "version"))
    workers(chunk_size=CHUNK)
    workers(chunk_size=CHUNK)
    log = tmp_path / "worker.log"

    with transaction.atomic():  # both sent at the same commit: the workers take them together
        add = engine.start_job(
            kind="tags.add",
            query=selection([p.pk for p in tags_people]),
            params={"tags": ["gold"]},
            actor=operator_actor,
        )
        mark = engine.start_job(
            kind="attribute.set",
            query=selection([p.pk for p in level_people]),
            params={"name": "Level", "value": "high"},
            actor=operator_actor,
        )
    add, mark = finish(add, log), finish(mark, log)

    assert (add.state, mark.state) == (JobState.DONE, JobState.DONE), (add.error, mark.error)
    assert (add.changed, add.failed, mark.changed, mark.failed) == (200, 0, 200, 0)
    # They ran at the same time, not one after the other.
    assert add.started_at < mark.finished_at and mark.started_at < add.finished_at
    assert events_per_person(add) == Counter(p.pk for p in tags_people)
    assert events_per_person(mark) == Counter(p.pk for p in level_people)
    gold = tags_for(["gold"])["gold"]
    assert {pk for pk, tag in links(people) if tag == gold.pk} == {p.pk for p in tags_people}
    values = AttributeValue.objects.filter(definition=level)
    assert set(values.values_list("person_id", "value_text")) == {
        (p.pk, "high") for p in level_people
    }
    # Each job moved each of its people's versions once: the overlap's twice.
    now = dict(Person.objects.values_list("pk", "version"))
    moved = Counter({p.pk: now[p.pk] - versions[p.pk] for p in people})
    assert moved == Counter(p.pk for p in tags_people) + Counter(p.pk for p in level_people)
    assert "deadlock" not in log.read_text().lower()
