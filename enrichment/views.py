"""Batch enrichment and CSV import routes (CONTRACT 5): validate, call one service, render the envelope."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core.envelope import success
from booktrack.core.quotas import client_identity, client_lookups_charged
from enrichment.batch import batch_enrichment_start
from enrichment.batch_requests import BatchRequest, batch_request_parse, legacy_start_parse
from enrichment.csv_import import MAX_BODY_BYTES as CSV_MAX_BODY_BYTES
from enrichment.csv_import import csv_import_preview, csv_import_start
from jobs.services import job_id_as_sent

# The deprecated start route goes away after this date (RFC 8594 Sunset header).
LEGACY_SUNSET = "Wed, 30 Jun 2027 00:00:00 GMT"


def _started(request: Request, parsed: BatchRequest, headers: dict[str, str] | None = None) -> Response:
    # One unit per book against the client's hourly lookup budget (given back if the start fails),
    # and at most MAX_ACTIVE_JOBS_PER_CLIENT active jobs: both 429 (booktrack/core/quotas.py).
    client = client_identity(request)
    with client_lookups_charged(identity=client, units=len(parsed.books)):
        job, token = batch_enrichment_start(job_id=parsed.job_id, books=parsed.books, client=client)
    data = {
        "success": True,
        "jobId": job_id_as_sent(sent=request.data.get("jobId"), job_id=job.id),
        "processedCount": 0,
        "totalCount": job.total_count,
        "token": token,
    }
    return success(request, data, status=202, headers=headers)


STARTED = {
    202: OpenApiResponse(OpenApiTypes.OBJECT, description="Envelope {success, processedCount: 0, totalCount, token}"),
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="EMPTY_BATCH, BATCH_TOO_LARGE, INVALID_REQUEST"),
    429: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="RATE_LIMIT_EXCEEDED: request rate, the client's hourly book budget, or its active jobs",
    ),
}


class BatchEnrichmentView(APIView):
    rate_limit_scope = "expensive"

    @extend_schema(
        summary="Start a batch enrichment job: {jobId, books:[{title, author?, isbn?}]} (1-100 books)",
        request=OpenApiTypes.OBJECT,
        responses=STARTED,
        tags=["enrichment"],
    )
    def post(self, request: Request) -> Response:
        return _started(request, batch_request_parse(request.data))


class LegacyEnrichmentStartView(APIView):
    rate_limit_scope = "expensive"

    @extend_schema(
        summary="Deprecated: start enrichment from {jobId, workIds}; use /v1/enrichment/batch",
        request=OpenApiTypes.OBJECT,
        responses=STARTED,
        tags=["enrichment"],
        deprecated=True,
    )
    def post(self, request: Request) -> Response:
        headers = {
            "Deprecation": "true",
            "Sunset": LEGACY_SUNSET,
            "Link": '</v1/enrichment/batch>; rel="successor-version"',
        }
        return _started(request, legacy_start_parse(request.data), headers=headers)


# --- CSV import (issue 10) ------------------------------------------------------------------------


def _upload(request: Request) -> tuple[bytes | None, str | None]:
    """The multipart field `file` (bytes, file name), or (None, None) when it is missing."""
    upload = request.FILES.get("file")
    if upload is None:
        return None, None
    return upload.read(), upload.name


CSV_BODY = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
}
CSV_ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="INVALID_FILE (no file, empty, not CSV, unclosed quote, unknown layout), BATCH_TOO_LARGE (rows)",
    ),
    413: OpenApiResponse(OpenApiTypes.OBJECT, description="FILE_TOO_LARGE (over 10 MB)"),
    429: OpenApiResponse(OpenApiTypes.OBJECT, description="RATE_LIMIT_EXCEEDED: request rate or active jobs"),
}


class CsvImportView(APIView):
    """`POST /api/import/csv-gemini`: start a CSV import job (CONTRACT 5)."""

    parser_classes = (MultiPartParser, FormParser)
    rate_limit_scope = "expensive"
    max_body_bytes = CSV_MAX_BODY_BYTES
    body_resource_type = "file"

    @extend_schema(
        summary="Import a library export (CSV, <= 10 MB): 202 {jobId, token}; progress on /ws/progress",
        parameters=[OpenApiParameter("jobId", str, OpenApiParameter.QUERY, required=False)],
        request=CSV_BODY,
        responses={
            202: OpenApiResponse(OpenApiTypes.OBJECT, description="Envelope {jobId, token}"),
            **CSV_ERRORS,
        },
        tags=["import"],
    )
    def post(self, request: Request) -> Response:
        sent_id = request.query_params.get("jobId") or request.data.get("jobId") or None
        data, filename = _upload(request)
        job, token = csv_import_start(job_id=sent_id, data=data, filename=filename, client=client_identity(request))
        return success(request, {"jobId": job_id_as_sent(sent=sent_id, job_id=job.id), "token": token}, status=202)


class CsvPreviewView(APIView):
    """`POST /api/import/csv/preview`: what an import would read, at once, without a job."""

    parser_classes = (MultiPartParser, FormParser)
    rate_limit_scope = "expensive"
    max_body_bytes = CSV_MAX_BODY_BYTES
    body_resource_type = "file"

    @extend_schema(
        summary="Preview a CSV import: {format, mapping, rowCount, rows (first 20), problems}",
        request=CSV_BODY,
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Envelope of the preview"), **CSV_ERRORS},
        tags=["import"],
    )
    def post(self, request: Request) -> Response:
        data, filename = _upload(request)
        return success(request, csv_import_preview(data=data, filename=filename).to_wire())
