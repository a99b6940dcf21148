"""Ops routes of the harvest app: cache warming and its dead-letter queue (staff or the OPS_TOKEN
bearer, CONTRACT 8). Thin: validate, call one service, render the envelope."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core import openapi as api
from booktrack.core.envelope import success
from booktrack.core.exceptions import (
    BatchTooLarge,
    FileTooLarge,
    Forbidden,
    InvalidFile,
    InvalidQuery,
    InvalidRequest,
    MissingParameter,
    NotFound,
    Unauthorized,
)
from booktrack.core.limits import MB
from booktrack.core.permissions import IsStaffOrOpsToken
from harvest.warming import (
    dlq_list,
    dlq_requeue,
    dlq_requeue_parse,
    warming_depth_parse,
    warming_run_get,
    warming_start,
    warming_upload_decode,
)

OPS_ERRORS = api.errors(Unauthorized, Forbidden)


class OpsView(APIView):
    permission_classes = [IsStaffOrOpsToken]


class WarmingUploadView(OpsView):
    """`POST /api/warming/upload`: queue one cache warm-up per author of a CSV."""

    parser_classes = (JSONParser, MultiPartParser, FormParser)
    max_body_bytes = 14 * MB  # a 10 MB CSV, base64-encoded
    body_resource_type = "file"

    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "properties": {
                    "csv": {"type": "string", "format": "byte", "description": "the CSV, base64"},
                    "maxDepth": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
                },
                "required": ["csv"],
            },
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "maxDepth": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
                },
                "required": ["file"],
            },
        },
        responses={
            202: OpenApiResponse(
                response=api.envelope(
                    api.obj({"jobId": {"type": "string", "format": "uuid"}, "authorsQueued": {"type": "integer"}})
                ),
                description="Queued: one task per author",
            ),
            **api.errors(MissingParameter, InvalidFile, InvalidRequest, BatchTooLarge, FileTooLarge),
            **OPS_ERRORS,
        },
        tags=["ops"],
        summary="Warm the search cache for the authors of a CSV (maxDepth 2-3 follows co-authors)",
        description=(
            "A book export (its author columns) or a plain list of names, one per row. 400 INVALID_FILE when "
            "`csv` is not base64 or the file is empty or holds no names; INVALID_REQUEST when maxDepth is not 1-3."
        ),
    )
    def post(self, request: Request) -> Response:
        body = request.data if hasattr(request.data, "get") else {}
        upload = request.FILES.get("file")
        data = warming_upload_decode(csv_base64=body.get("csv"), upload=upload.read() if upload is not None else None)
        depth = warming_depth_parse(body.get("maxDepth", request.query_params.get("maxDepth")))
        started = warming_start(data=data, max_depth=depth)
        return success(request, started.to_wire(), status=202)


class WarmingRunView(OpsView):
    @extend_schema(
        responses={**api.ok({"type": "object"}, "The run's counts"), **api.errors(NotFound), **OPS_ERRORS},
        tags=["ops"],
        summary="A warming job: authors queued, co-authors followed, warmed, dead-lettered, pending",
    )
    def get(self, request: Request, job_id: str) -> Response:
        return success(request, warming_run_get(job_id=job_id).to_wire())


class DeadLetterListView(OpsView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Items listed, 1-1000 (default 100)"
            )
        ],
        responses={
            **api.ok(
                {
                    "type": "object",
                    "properties": {
                        "queue": {"type": "string"},
                        "depth": {"type": "integer"},
                        "items": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "author": {"type": "string"},
                                    "error": {"type": "string"},
                                    "attempts": {"type": "integer"},
                                    "failedAt": {"type": "string", "format": "date-time"},
                                },
                            },
                        },
                    },
                },
                "Warm-ups that failed after their last retry, oldest first; depth counts them all",
            ),
            **api.errors(InvalidQuery),
            **OPS_ERRORS,
        },
        tags=["ops"],
        summary="The cache-warming dead-letter queue",
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("limit") or "100"
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise InvalidQuery("'limit' must be an integer from 1 to 1000.", details={"limit": raw})
        return success(request, dlq_list(limit=int(raw)).to_wire())


class DeadLetterRequeueView(OpsView):
    @extend_schema(
        request={
            "application/json": {
                "type": "object",
                "properties": {"ids": {"type": "array", "items": {"type": "integer"}}, "all": {"type": "boolean"}},
            }
        },
        responses={
            **api.ok(
                {
                    "type": "object",
                    "properties": {
                        "requeued": {"type": "integer"},
                        "ids": {"type": "array", "items": {"type": "integer"}},
                        "notFound": {"type": "array", "items": {"type": "integer"}},
                    },
                },
                "How many dead letters were sent to their task again",
            ),
            **api.errors(MissingParameter, InvalidRequest),
            **OPS_ERRORS,
        },
        tags=["ops"],
        summary="Requeue dead letters: {ids: [...]} or {all: true}",
    )
    def post(self, request: Request) -> Response:
        ids, everything = dlq_requeue_parse(request.data)
        return success(request, dlq_requeue(ids=ids, everything=everything).to_wire())
