"""``POST /people/2/imports``: upload a CSV file and start its import job (or dry run).

A manage key or an Editor (jobs.engine checks the operator's role). The file is checked and
stored at once (a bad file is a 400 naming its rule in ``details.rule``); the rows are
imported by the workers, and the answer (202) is the job, which ``GET jobs/{jobId}`` follows.
"""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api.schema import error_responses
from core.api.views import VendorAPIView
from core.errors import DomainError, ErrorCode
from people.api.actors import actor_from_request
from people.api.inputs import validated
from populations.api.jobs import JobSerializer, job_body
from transfer.imports import services


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file: UTF-8, `,` or `;`, a header row")
    options = serializers.CharField(
        required=False,
        default="{}",
        help_text=(
            'JSON: {"mapping": {header: target}, "match": "externalId"|"phones"|"emails", '
            '"mode": "upsert"|"create"|"update", "tags": "add"|"replace", '
            '"empty": "keep"|"clear", "skipUnknownColumns": false}'
        ),
    )
    dryRun = serializers.BooleanField(required=False, default=False)


class ImportsView(VendorAPIView):
    # The file comes as multipart/form-data. A JSON body is read too: it is refused with the
    # field it lacks (400, "file"), and an operator session's write without its CSRF token
    # is refused as such first (the CSRF check reads the body, where any other type stops
    # at 415 before it).
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        operation_id="import-people",
        summary="Import people from a CSV file, as a job",
        description=(
            "Checks the file (400 naming the rule: not_csv, encoding, no_header, "
            "duplicate_headers, unknown_columns, too_large, too_many_rows), stores its rows and "
            "starts a job that creates or updates a person per row. With dryRun every row is "
            "checked and nothing written; the job's failures list each failing row."
        ),
        request={"multipart/form-data": ImportInputSerializer},
        responses={202: JobSerializer, **error_responses(400)},
        tags=["jobs"],
    )
    def post(self, request):
        data = validated(ImportInputSerializer, request.data)
        try:
            options = json.loads(data["options"])
        except ValueError:
            options = None
        if not isinstance(options, dict):
            raise DomainError(
                ErrorCode.REQUEST_FORMAT_INVALID, "options must be a JSON object.", "options"
            )
        actor = actor_from_request(request)
        upload = data["file"]
        file = services.import_file_upload(
            stream=upload,
            name=upload.name or "import.csv",
            actor=actor,
            size=upload.size,
            skip_unknown=bool(options.pop("skipUnknownColumns", False)),
        )
        job = services.import_start(file=file, options=options, actor=actor, dry_run=data["dryRun"])
        return Response(job_body(job), status=status.HTTP_202_ACCEPTED)
