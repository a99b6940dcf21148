"""Batch enrichment routes (CONTRACT 5): validate, call one service, render the 202 envelope."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core.envelope import success
from enrichment.batch import batch_enrichment_start
from enrichment.batch_requests import BatchRequest, batch_request_parse, legacy_start_parse
from jobs.services import job_id_as_sent

# The deprecated start route goes away after this date (RFC 8594 Sunset header).
LEGACY_SUNSET = "Wed, 30 Jun 2027 00:00:00 GMT"


def _started(request: Request, parsed: BatchRequest, headers: dict[str, str] | None = None) -> Response:
    job, token = batch_enrichment_start(job_id=parsed.job_id, books=parsed.books)
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
    429: OpenApiResponse(OpenApiTypes.OBJECT, description="RATE_LIMIT_EXCEEDED"),
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
