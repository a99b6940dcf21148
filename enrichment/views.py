"""Batch enrichment routes (CONTRACT 5): validate, call one service, render the 202 envelope."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core.envelope import success
from enrichment.batch import batch_enrichment_start
from enrichment.serializers import BatchRequest, batch_request_parse, legacy_start_parse

# The deprecated start route goes away after this date (RFC 8594 Sunset header).
LEGACY_SUNSET = "Wed, 30 Jun 2027 00:00:00 GMT"


def _started(request: Request, parsed: BatchRequest, headers: dict[str, str] | None = None) -> Response:
    job, token = batch_enrichment_start(job_id=parsed.job_id, books=parsed.books)
    data = {
        "success": True,
        "jobId": str(job.id),
        "processedCount": 0,
        "totalCount": job.total_count,
        "token": token,
    }
    return success(request, data, status=202, headers=headers)


class BatchEnrichmentView(APIView):
    rate_limit_scope = "expensive"

    def post(self, request: Request) -> Response:
        return _started(request, batch_request_parse(request.data))


class LegacyEnrichmentStartView(APIView):
    rate_limit_scope = "expensive"

    def post(self, request: Request) -> Response:
        headers = {
            "Deprecation": "true",
            "Sunset": LEGACY_SUNSET,
            "Link": '</v1/enrichment/batch>; rel="successor-version"',
        }
        return _started(request, legacy_start_parse(request.data), headers=headers)
