"""Cross-cutting HTTP middleware: request id and timing, JSON errors, body limits, CORS preflight."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from booktrack.core import metrics
from booktrack.core.envelope import as_domain_error, error_response
from booktrack.core.exceptions import STATUS_TO_ERROR, FileTooLarge, InternalError
from booktrack.core.limits import BODY_LIMIT_SCOPE_KEY, body_limit_for_path

logger = logging.getLogger(__name__)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class RequestContextMiddleware:
    """Gives each request an id and a start time; stamps X-Request-ID / X-Response-Time; counts it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID_RE.match(incoming) else str(uuid.uuid4())
        request.started_at = time.perf_counter()
        response = self.get_response(request)
        elapsed = (time.perf_counter() - request.started_at) * 1000
        response["X-Request-ID"] = request.request_id
        response["X-Response-Time"] = f"{elapsed:.1f}ms"
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "unmatched"
        metrics.record_request(
            route=route or "/", method=request.method or "GET", status=response.status_code, latency_ms=elapsed
        )
        return response


class CorsPreflightStatusMiddleware:
    """CONTRACT 8 wants 204 for a preflight; django-cors-headers answers 200 with an empty body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method == "OPTIONS"
            and "access-control-request-method" in request.headers
            and response.status_code == 200
        ):
            response.status_code = 204
            response.content = b""
            if "Content-Length" in response:
                del response["Content-Length"]
        return response


class BodySizeLimitMiddleware:
    """413 before any view runs.

    The ASGI layer (`booktrack.core.limits.BodySizeLimitASGIMiddleware`) counts the bytes actually
    received and stops reading at the route's cap, leaving a marker in the scope; this middleware
    turns that marker (or a declared Content-Length over the cap, e.g. under WSGI or the test client)
    into the contract's 413, inside the CORS middleware so the answer carries CORS headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Under the ASGI entry point the HTTP scope rides along in the WSGI environ (a2wsgi).
        scope = request.META.get("asgi.scope") or getattr(request, "scope", None) or {}
        marker = scope.get(BODY_LIMIT_SCOPE_KEY)
        if marker is None:
            limit = body_limit_for_path(request.path_info)
            declared = request.META.get("CONTENT_LENGTH")
            if declared and declared.isdigit() and int(declared) > limit.max_bytes:
                marker = {
                    "receivedBytes": int(declared),
                    "maxBytes": limit.max_bytes,
                    "resourceType": limit.resource_type,
                }
        if marker is not None:
            metrics.record_event("body_too_large")
            return error_response(
                request,
                FileTooLarge(
                    f"The request body exceeds the limit of {marker['maxBytes']} bytes.",
                    details=marker,
                ),
            )
        return self.get_response(request)


class JsonErrorMiddleware:
    """Every error of every route is JSON with the contract's code; a 500 never leaks a traceback."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            error_cls = STATUS_TO_ERROR.get(response.status_code)
            if error_cls is None:
                error_cls = STATUS_TO_ERROR[500] if response.status_code >= 500 else STATUS_TO_ERROR[400]
            error = error_cls()
            if response.status_code == 405:
                allowed = response.get("Allow")
                replacement = error_response(request, error)
                if allowed:
                    replacement["Allow"] = allowed
                return replacement
            if response.status_code == 404:
                error = error_cls(f"No route for {request.method} {request.path}.")
            replacement = error_response(request, error)
            replacement.status_code = response.status_code
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        error = as_domain_error(exception)
        if error is None:
            logger.exception("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
            error = InternalError()
        return error_response(request, error)


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")
