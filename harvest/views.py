"""HTTP views of the harvest app. Thin: validate, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core import openapi as api
from booktrack.core.envelope import success
from booktrack.core.exceptions import (
    Conflict,
    Forbidden,
    InvalidIsbn,
    InvalidRequest,
    MissingParameter,
    NotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitExceeded,
    Unauthorized,
)
from booktrack.core.permissions import IsStaffOrOpsToken
from harvest.covers import cover_content, cover_variant_get, covers_harvest_start, covers_harvest_state, run_limit_parse
from harvest.images import DEFAULT_SIZE, SIZES, image_proxy_get
from harvest.models import HarvestTrigger

# `?size=` of the image proxy and of the stored covers.
SIZE_PARAMETER = OpenApiParameter(
    "size",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(SIZES),
    default=DEFAULT_SIZE,
    description="Longest edge: small 128, medium 320, large 640 px by default (never enlarged)",
)


class ImageProxyView(APIView):
    """`GET /images/proxy?url=&size=` (CONTRACT 9): an allowed cover image, resized and cached."""

    rate_limit_scope = "search"
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "url",
                OpenApiTypes.URI,
                OpenApiParameter.QUERY,
                required=True,
                description=(
                    "The cover's http(s) URL on books.google.com, books.googleusercontent.com, "
                    "covers.openlibrary.org, images.isbndb.com, m.media-amazon.com or "
                    "images-na.ssl-images-amazon.com"
                ),
            ),
            SIZE_PARAMETER,
        ],
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The resized image"),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The resized image (transparent)"),
            304: OpenApiResponse(description="`If-None-Match` matched the ETag"),
            **api.errors(
                MissingParameter,
                InvalidRequest,
                Forbidden,
                NotFound,
                RateLimitExceeded,
                ProviderError,
                ProviderUnavailable,
                ProviderTimeout,
            ),
        },
        tags=["images"],
        summary="A cover image from an allowed host, resized and cached in object storage",
        description=(
            "Raw image bytes (JPEG, or PNG when transparent) with `Cache-Control: public`, an `ETag` "
            "and `If-None-Match` support. 403 FORBIDDEN for another host, a literal or private "
            "address, a name resolving to one, a non-http scheme, credentials in the URL or a "
            "redirect to another host. 502 PROVIDER_ERROR when the upstream body is not an image "
            "(`details.reason` NOT_AN_IMAGE), too large (UPSTREAM_TOO_LARGE) or has too many "
            "pixels (IMAGE_TOO_MANY_PIXELS)."
        ),
    )
    def get(self, request: Request) -> HttpResponse:
        image = image_proxy_get(url=request.query_params.get("url"), size=request.query_params.get("size"))
        headers = {
            "Cache-Control": f"public, max-age={settings.IMAGE_PROXY_MAX_AGE}",
            "ETag": image.etag,
            "X-Cache": "HIT" if image.cached else "MISS",
        }
        if image.etag in _etags(request.headers.get("If-None-Match", "")):
            return HttpResponse(status=304, headers=headers)
        return HttpResponse(image.content, content_type=image.content_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}


# --- cover harvest (docs/harvest.md) -------------------------------------------------------------


class HarvestCoversView(APIView):
    """`POST /api/harvest-covers` (ops): start a cover harvest run."""

    permission_classes = [IsStaffOrOpsToken]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            202: OpenApiResponse(OpenApiTypes.OBJECT, description="Envelope `{runId}`"),
            **api.errors(InvalidRequest, Unauthorized, Forbidden, Conflict),
        },
        tags=["ops"],
        summary="Start a cover harvest run (ops: staff or OPS_TOKEN)",
        description=(
            "Body (optional): `{limit}`, the most ISBNs the run tries (1-100000, default "
            "`HARVEST_RUN_LIMIT`). The run is queued on the `maintenance` queue; follow it at "
            "`GET /api/harvest-covers/{runId}`. 409 CONFLICT while another run is under way "
            "(`details.runId` names it)."
        ),
    )
    def post(self, request: Request) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        run = covers_harvest_start(trigger=HarvestTrigger.API, limit=run_limit_parse(body.get("limit")))
        return success(request, {"runId": str(run.id)}, status=202)


class HarvestRunView(APIView):
    """`GET /api/harvest-covers/{runId}` (ops): a run's status and figures."""

    permission_classes = [IsStaffOrOpsToken]

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=(
                    "Envelope `{runId, status (queued|running|complete|failed), trigger, stopReason "
                    "(null|limit|budget|error), limit, candidates, tried, stored, skipped, failed, missing, "
                    "bytesStored, budget {used, dailyLimit}, sources {name: {tried, stored, notFound, "
                    "failed, bytes}}, createdAt, startedAt, finishedAt, error}`"
                ),
            ),
            **api.errors(Unauthorized, Forbidden, NotFound),
        },
        tags=["ops"],
        summary="A cover harvest run's status and counts (ops: staff or OPS_TOKEN)",
    )
    def get(self, request: Request, runId: str) -> Response:  # the contract names the path parameter runId
        return success(request, covers_harvest_state(run_id=runId).to_wire())


class CoverView(APIView):
    """`GET /covers/{isbn13}?size=`: a harvested cover from object storage."""

    rate_limit_scope = "search"
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        parameters=[
            SIZE_PARAMETER,
        ],
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The stored cover"),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The stored cover (transparent)"),
            304: OpenApiResponse(description="`If-None-Match` matched the ETag"),
            **api.errors(InvalidIsbn, InvalidRequest, NotFound, RateLimitExceeded),
        },
        tags=["images"],
        summary="A harvested cover (ISBN-13 or ISBN-10), served from object storage",
        description=(
            "Raw image bytes with `Cache-Control: public`, an `ETag` and `If-None-Match` support. "
            "400 INVALID_ISBN for a malformed ISBN, 404 NOT_FOUND when no cover is stored for it."
        ),
    )
    def get(self, request: Request, isbn: str) -> HttpResponse:
        variant = cover_variant_get(isbn=isbn, size=request.query_params.get("size"))
        headers = {"Cache-Control": f"public, max-age={settings.HARVEST_COVER_MAX_AGE}", "ETag": variant.etag}
        if variant.etag in _etags(request.headers.get("If-None-Match", "")):
            return HttpResponse(status=304, headers=headers)
        return HttpResponse(cover_content(variant), content_type=variant.content_type, headers=headers)
