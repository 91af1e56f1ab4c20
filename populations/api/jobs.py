"""The API's jobs (under /people/2/): start one on a population, follow it, cancel it, undo it.

Reading needs any key (or an operator who may view); starting, cancelling and undoing a manage
key or an operator with the action's role (jobs.engine). A job answers at once: its work runs
on the workers, and ``GET jobs/{id}`` follows it.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.api.schema import ErrorBodySerializer, error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from directory.search import SearchQuery
from jobs import engine
from jobs.models import Job, JobState
from people.api.actors import actor_from_request
from people.api.inputs import validated
from people.api.serializers import timestamp
from populations.population import SELECTION, selection

JOB_ID = OpenApiParameter("jobId", int, OpenApiParameter.PATH, description="The job's id")
CONFLICT = {
    409: OpenApiResponse(
        ErrorBodySerializer,
        description="CONFLICT: the job has finished (cancel), or cannot be undone (a dry run, "
        "not finished, undone already, an undo itself, or an action without undo)",
    )
}
MAX_LIMIT = 100


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(JobState.choices)
    dryRun = serializers.BooleanField()
    query = serializers.DictField()
    params = serializers.DictField()
    total = serializers.IntegerField(allow_null=True, help_text="null until it is planned")
    done = serializers.IntegerField()
    changed = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Of the changed, the people created (an import)")
    failed = serializers.IntegerField()
    error = serializers.CharField(help_text="Why the whole job failed, when it did")
    actor = serializers.CharField()
    undoes = serializers.IntegerField(allow_null=True)
    createdAt = serializers.DateTimeField()
    startedAt = serializers.DateTimeField(allow_null=True)
    finishedAt = serializers.DateTimeField(allow_null=True)


class JobListSerializer(serializers.Serializer):
    jobs = JobSerializer(many=True)
    limit = serializers.IntegerField()
    nextBefore = serializers.IntegerField(
        allow_null=True, help_text="Send as before= for the next (older) page"
    )


class JobInputSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64)
    query = serializers.DictField(
        help_text='A search query (as saved views store it) or {"ids": [person ids]}'
    )
    params = serializers.DictField(required=False, default=dict)
    dryRun = serializers.BooleanField(required=False, default=False)


class JobListParamsSerializer(serializers.Serializer):
    state = serializers.ChoiceField(JobState.choices, required=False)
    kind = serializers.CharField(required=False, max_length=64)
    before = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=20)


def job_body(job: Job) -> dict[str, Any]:
    def iso(value):
        return timestamp(value) if value else None

    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "dryRun": job.dry_run,
        "query": job.query,
        "params": job.params,
        "total": job.total,
        "done": job.done,
        "changed": job.changed,
        "created": job.created,
        "failed": job.failed,
        "error": job.error,
        "actor": job.actor_label,
        "undoes": job.undoes_id,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
    }


def stored_query(query: dict[str, Any]) -> dict[str, Any]:
    """The population as a job stores it; a query that is neither is a 400."""
    try:
        if set(query) == {SELECTION}:
            return selection(list(query[SELECTION]))
        return SearchQuery.from_dict(query).to_dict()
    except (TypeError, ValueError) as error:
        raise DomainError(ErrorCode.BAD_REQUEST, f"query: {error}", "query") from None


class JobsView(VendorAPIView):
    """The jobs, newest first; start one."""

    @extend_schema(
        operation_id="get-list-of-jobs",
        summary="A page of jobs, newest first",
        parameters=[JobListParamsSerializer],
        responses={200: JobListSerializer, **error_responses(400)},
        tags=["jobs"],
    )
    def get(self, request):
        params = validated(JobListParamsSerializer, request.query_params)
        jobs = Job.objects.order_by("-pk")
        if "state" in params:
            jobs = jobs.filter(state=params["state"])
        if "kind" in params:
            jobs = jobs.filter(kind=params["kind"])
        if "before" in params:
            jobs = jobs.filter(pk__lt=params["before"])
        limit = params["limit"]
        page = list(jobs[: limit + 1])
        body = {
            "jobs": [job_body(job) for job in page[:limit]],
            "limit": limit,
            "nextBefore": page[limit - 1].pk if len(page) > limit else None,
        }
        return Response(body)

    @extend_schema(
        operation_id="start-a-job",
        summary="Start a bulk job on the people a query finds",
        description=(
            "The job is created at once (state PENDING, waiting for the queue) and runs on the "
            "workers; follow it with GET jobs/{jobId}. With dryRun it checks every person with "
            "the same rules and writes nothing. An unknown kind is 400 JOB_KIND_UNKNOWN; "
            "parameters the action refuses are 400 naming the field."
        ),
        request=JobInputSerializer,
        responses={200: JobSerializer, **error_responses(400)},
        tags=["jobs"],
    )
    def post(self, request):
        data = validated(JobInputSerializer, request.data)
        job = engine.start_job(
            kind=data["kind"],
            query=stored_query(data["query"]),
            params=data["params"],
            actor=actor_from_request(request),
            dry_run=data["dryRun"],
        )
        return Response(job_body(job))


class JobView(VendorAPIView):
    @extend_schema(
        operation_id="get-a-job",
        summary="One job: its state, counters and times",
        parameters=[JOB_ID],
        responses={200: JobSerializer, **error_responses(404)},
        tags=["jobs"],
    )
    def get(self, request, jobId: int):
        return Response(job_body(get_object_or_404(Job, pk=jobId)))


class JobCancelView(VendorAPIView):
    @extend_schema(
        operation_id="cancel-a-job",
        summary="Cancel a job: the chunks not started are skipped",
        parameters=[JOB_ID],
        request=None,
        responses={200: JobSerializer, **CONFLICT, **error_responses(404)},
        tags=["jobs"],
    )
    def post(self, request, jobId: int):
        job = get_object_or_404(Job, pk=jobId)
        job = engine.cancel_job(job=job, actor=actor_from_request(request))
        return Response(job_body(job))


class JobUndoView(VendorAPIView):
    @extend_schema(
        operation_id="undo-a-job",
        summary="Undo a job: a new job puts its people back, unless changed since",
        description=(
            "Answers the undo job (undoes names the original). A person changed since the job "
            "is left as it is and reported among the undo job's failures (CHANGED_SINCE)."
        ),
        parameters=[JOB_ID],
        request=None,
        responses={200: JobSerializer, **CONFLICT, **error_responses(404)},
        tags=["jobs"],
    )
    def post(self, request, jobId: int):
        job = get_object_or_404(Job, pk=jobId)
        undo = engine.undo_job(job=job, actor=actor_from_request(request))
        return Response(job_body(undo))
