"""Core routes: health, liveness, JSON handlers for 404/500, 426 for a plain GET on the socket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from booktrack.core import metrics
from booktrack.core.envelope import error_body, error_response
from booktrack.core.exceptions import Forbidden, InternalError, InvalidQuery, InvalidRequest, NotFound
from booktrack.core.health import health_report
from booktrack.core.permissions import IsStaffOrOpsToken


def health_live(request: HttpRequest) -> JsonResponse:
    """Liveness: answers from memory with no I/O (also the benchmark floor)."""
    return JsonResponse({"status": "ok"})


@extend_schema(
    summary="Readiness: real checks of database, cache, broker and storage",
    responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT},
    tags=["health"],
)
@api_view(["GET"])
@permission_classes([AllowAny])
def health(request: Request) -> Response:
    healthy, body = health_report()
    return Response(body, status=200 if healthy else 503)


health.cls.rate_limit_scope = "health"  # per IP (RATE_LIMIT_HEALTH); the middleware reads the view class


def websocket_upgrade_required(request: HttpRequest) -> JsonResponse:
    """A plain HTTP request on the WebSocket route: 426 with the usual error body."""
    response = JsonResponse(
        error_body(
            request,
            code="INVALID_REQUEST",
            message="This route speaks WebSocket: connect with an Upgrade: websocket request.",
        ),
        status=426,
    )
    response["Upgrade"] = "websocket"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's own 400s (a disallowed Host header, a malformed request) as JSON too."""
    return error_response(request, InvalidRequest("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(request, Forbidden())


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(request, NotFound(f"No route for {request.method} {request.path}."))


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(request, InternalError())


@extend_schema(
    summary="Operational figures from counters shared by every process (ops: staff or OPS_TOKEN)",
    parameters=[
        OpenApiParameter("period", str, enum=list(metrics.PERIODS), default="1h"),
        OpenApiParameter(
            "format",
            str,
            enum=["json", "prometheus"],
            default="json",
            description="prometheus: cumulative counters and histograms of every process (period ignored)",
        ),
    ],
    responses={200: OpenApiTypes.OBJECT},
    tags=["ops"],
)
@api_view(["GET"])
@permission_classes([IsStaffOrOpsToken])
def metrics_view(request: Request) -> Response | HttpResponse:
    period = request.query_params.get("period", "1h")
    if period not in metrics.PERIODS:
        raise InvalidQuery(f"period must be one of {', '.join(metrics.PERIODS)}.")
    metrics.flush()
    if request.query_params.get("format") == "prometheus":
        # Cumulative counters and histograms: Prometheus takes rates and quantiles over its own ranges,
        # so `period` does not apply here.
        body, content_type = metrics.prometheus_exposition(request.headers.get("Accept", ""))
        return HttpResponse(body, content_type=content_type)
    return Response(metrics.metrics_report(period))
