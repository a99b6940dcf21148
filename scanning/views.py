"""Bookshelf scan routes (CONTRACT 5): validate, call one service, render.

The cancel route (`POST /api/scan-bookshelf/cancel`) and the job state are the jobs app's; the results
route is mounted from the pipeline's spec (scanning/urls.py).
"""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core.envelope import success
from booktrack.core.exceptions import UnsupportedMediaType
from booktrack.core.limits import MB
from jobs.services import job_id_as_sent
from scanning.requests import batch_photos_from_files, batch_photos_from_json
from scanning.services import (
    MAX_BATCH_PHOTO_BYTES,
    MAX_BATCH_PHOTOS,
    MAX_SINGLE_PHOTO_BYTES,
    IncomingPhoto,
    scan_start,
    stage_estimates,
)

# The batch body: five 10 MB photos in base64 (4/3 of their size) plus the JSON or multipart framing.
MAX_BATCH_BODY_BYTES = MAX_BATCH_PHOTOS * (MAX_BATCH_PHOTO_BYTES * 4 // 3 + 4) + 1 * MB
# Raw bodies the single-photo route takes: any image type (the real one is sniffed from the bytes), and
# octet-stream from clients that label every upload so.
RAW_TYPES = ("image/", "application/octet-stream")

JOB_ID = OpenApiParameter(
    "jobId", str, OpenApiParameter.QUERY, required=False, description="a v4 UUID; made when absent"
)
ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="INVALID_FILE (empty or not an image: the reason), INVALID_REQUEST, EMPTY_BATCH, BATCH_TOO_LARGE",
    ),
    409: OpenApiResponse(OpenApiTypes.OBJECT, description="CONFLICT: a job with this jobId exists"),
    413: OpenApiResponse(OpenApiTypes.OBJECT, description="FILE_TOO_LARGE"),
    415: OpenApiResponse(OpenApiTypes.OBJECT, description="UNSUPPORTED_MEDIA_TYPE (single photo: not image/*)"),
    429: OpenApiResponse(OpenApiTypes.OBJECT, description="RATE_LIMIT_EXCEEDED"),
}


class ScanPhotoView(APIView):
    """`POST /api/scan-bookshelf?jobId=`: one photo as the raw body; 202 raw body (CONTRACT 5)."""

    parser_classes: tuple = ()  # the body is read raw, never parsed
    rate_limit_scope = "expensive"
    max_body_bytes = MAX_SINGLE_PHOTO_BYTES
    body_resource_type = "image"

    @extend_schema(
        summary="Scan one bookshelf photo (raw image body, <= 5 MB): 202 {jobId, token, stages, estimatedRange}",
        parameters=[JOB_ID],
        request={"image/*": {"type": "string", "format": "binary"}},
        responses={202: OpenApiResponse(OpenApiTypes.OBJECT, description="Raw body (no envelope)"), **ERRORS},
        tags=["scanning"],
    )
    def post(self, request: Request) -> Response:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if not content_type.startswith(RAW_TYPES):
            raise UnsupportedMediaType(
                f"Send the photo as the raw body with Content-Type image/* (got {content_type or 'none'})."
            )
        sent_id = request.query_params.get("jobId") or None
        photo = IncomingPhoto(index=0, data=request.body)
        job, token = scan_start(job_id=sent_id, photos=[photo], max_photo_bytes=MAX_SINGLE_PHOTO_BYTES, batch=False)
        stages, estimated = stage_estimates(1)
        body = {
            "jobId": job_id_as_sent(sent=sent_id, job_id=job.id),
            "token": token,
            "status": "started",
            # Events are logged before they are sent, so a socket opened at any time replays them all.
            "websocketReady": True,
            "message": "Scan started. Connect to /ws/progress?jobId=<jobId> with the token for progress.",
            "stages": stages,
            "estimatedRange": estimated,
        }
        return Response(body, status=202)


BATCH_BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            "jobId": {"type": "string", "format": "uuid"},
            "images": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BATCH_PHOTOS,
                "items": {
                    "type": "object",
                    "properties": {"index": {"type": "integer"}, "data": {"type": "string", "format": "byte"}},
                    "required": ["data"],
                },
            },
        },
        "required": ["images"],
    },
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "jobId": {"type": "string", "format": "uuid"},
            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
        },
        "required": ["photos"],
    },
}


class PhotosJSONParser(BaseParser):
    """JSON read from the request stream. DRF's JSONParser reads `request.body`, which Django caps at
    DATA_UPLOAD_MAX_MEMORY_SIZE (12 MB): five 10 MB photos in base64 are ~67 MB. The route's own cap
    (`max_body_bytes`, enforced on the bytes received) bounds this body instead."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json.loads(stream.read()) if stream is not None else {}
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}") from error


class ScanBatchView(APIView):
    """`POST /api/scan-bookshelf/batch`: 1-5 photos, JSON base64 or multipart `photos`; 202 envelope."""

    parser_classes = (PhotosJSONParser, MultiPartParser)
    rate_limit_scope = "expensive"
    max_body_bytes = MAX_BATCH_BODY_BYTES
    body_resource_type = "images"

    @extend_schema(
        summary="Scan 1-5 bookshelf photos (each <= 10 MB): 202 envelope {jobId, token, totalPhotos, status}",
        parameters=[JOB_ID],
        request=BATCH_BODY,
        responses={202: OpenApiResponse(OpenApiTypes.OBJECT, description="Envelope"), **ERRORS},
        tags=["scanning"],
    )
    def post(self, request: Request) -> Response:
        if request.content_type.startswith("multipart/"):
            photos = batch_photos_from_files(request.FILES.getlist("photos"))
        else:
            photos = batch_photos_from_json(request.data)
        data = request.data if hasattr(request.data, "get") else {}
        sent_id = data.get("jobId") or request.query_params.get("jobId") or None
        job, token = scan_start(job_id=sent_id, photos=photos, max_photo_bytes=MAX_BATCH_PHOTO_BYTES, batch=True)
        body = {
            "jobId": job_id_as_sent(sent=sent_id, job_id=job.id),
            "token": token,
            "totalPhotos": len(photos),
            "status": "processing",
        }
        return success(request, body, status=202)
