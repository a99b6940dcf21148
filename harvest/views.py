"""HTTP views of the harvest app. Thin: validate, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from booktrack.core import openapi as api
from booktrack.core.exceptions import (
    Forbidden,
    InvalidRequest,
    MissingParameter,
    NotFound,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitExceeded,
)
from harvest.images import DEFAULT_SIZE, SIZES, image_proxy_get


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
            OpenApiParameter(
                "size",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(SIZES),
                default=DEFAULT_SIZE,
                description="Longest edge: small 128, medium 320, large 640 px by default (never enlarged)",
            ),
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
