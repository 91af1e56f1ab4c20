"""The API's exports (under /people/2/): the people of a query or a saved view to CSV or XLSX.

``POST exports`` answers the file itself for a small export (transfer.exports.STREAM_LIMIT
people at most), else 202 with the job that writes it; ``GET exports/{jobId}/file`` answers
that job's file once it is done. Any key, or an operator who may view, may export (personal
data masked unless the key or the role sees it); only the key or operator who started an
export job, or an Administrator, downloads its file (404 for anyone else).
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.permissions import CanReadViaApi
from core.api.schema import ErrorBodySerializer, error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from people.api.actors import actor_from_request
from people.api.inputs import validated
from populations.api.jobs import JobSerializer, job_body, stored_query
from populations.api.views_api import view_query
from transfer import export_jobs, exports
from transfer.views.export import export_job, file_response, job_file_response

JOB_ID = OpenApiParameter("jobId", int, OpenApiParameter.PATH, description="The export job's id")
FILE = OpenApiResponse(
    OpenApiTypes.BINARY, description="The file: text/csv (UTF-8 with a byte order mark) or XLSX"
)


class ExportInputSerializer(serializers.Serializer):
    query = serializers.DictField(
        required=False,
        help_text='A search query (as saved views store it) or {"ids": [person ids]}',
    )
    view = serializers.CharField(
        required=False, max_length=40, help_text="A saved view's id (GET views), instead"
    )
    columns = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        help_text="Headers (transfer.columns); every column when left out",
    )
    format = serializers.ChoiceField(list(exports.FORMATS), required=False, default=exports.CSV)


class ExportsView(VendorAPIView):
    permission_classes = [CanReadViaApi]

    @extend_schema(
        operation_id="export-people",
        summary="Export the people of a query or a saved view to CSV or XLSX",
        description=(
            f"Up to {exports.STREAM_LIMIT:,} people: 200 with the file. More: 202 with the job "
            "that writes it; GET exports/{jobId}/file once it is DONE. Phones, emails and "
            "externalIds are masked unless the key (or the operator's role) sees personal "
            "data. Cells starting with =, +, -, @, a tab or a carriage return get a leading "
            "' (formula injection); an import takes it off."
        ),
        request=ExportInputSerializer,
        responses={200: FILE, 202: JobSerializer, **error_responses(400, 404)},
        tags=["exports"],
    )
    def post(self, request):
        data = validated(ExportInputSerializer, request.data)
        if ("query" in data) == ("view" in data):
            raise DomainError(ErrorCode.BAD_REQUEST, "Give a query or a view.", "query")
        query = (
            stored_query(data["query"])
            if "query" in data
            else view_query(request.user, data["view"]).to_dict()
        )
        export = exports.export_of(
            query=query,
            headers=data.get("columns"),
            file_format=data["format"],
            user=request.user,
        )
        actor = actor_from_request(request)
        if exports.is_small(export.query):
            return file_response(export, actor_label=actor.label, source=actor.source)
        job = export_jobs.start_job(export=export, actor=actor)
        return Response(job_body(job), status=202)


class ExportFileView(VendorAPIView):
    @extend_schema(
        operation_id="get-an-export-file",
        summary="The file of an export job, once it is done",
        parameters=[JOB_ID],
        responses={
            200: FILE,
            202: OpenApiResponse(description="An XLSX file being made: ask again in a while"),
            409: OpenApiResponse(ErrorBodySerializer, description="CONFLICT: not done yet"),
            **error_responses(404),
        },
        tags=["exports"],
    )
    def get(self, request, jobId: int):
        try:
            job = export_job(request.user, jobId)
        except Http404:
            raise NotFound(f"No export {jobId}.") from None
        actor = actor_from_request(request)
        response = job_file_response(job, actor_label=actor.label, source=actor.source)
        if response is None:
            return Response(
                {"id": job.pk, "state": "PREPARING", "message": "The XLSX file is being made."},
                status=202,
            )
        return response
