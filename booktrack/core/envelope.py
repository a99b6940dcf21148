"""The v1 envelope and the contract's error body, rendered in one place (CONTRACT section 2).

success: {"success": true,  "data": T,    "metadata": {...}}
error:   {"success": false, "data": null, "metadata": {...}, "error": {"code", "message", "details"?}}
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from booktrack.core.exceptions import (
    STATUS_TO_ERROR,
    DomainError,
    FileTooLarge,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    RateLimitExceeded,
    Unauthorized,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResponseMeta:
    provider: str | None = None
    cached: bool | None = None
    cache_source: str | None = None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_id_of(request: HttpRequest | None) -> str | None:
    return getattr(request, "request_id", None) if request is not None else None


def elapsed_ms(request: HttpRequest | None) -> int:
    started = getattr(request, "started_at", None) if request is not None else None
    return int((time.perf_counter() - started) * 1000) if started else 0


def metadata(request: HttpRequest | None, meta: ResponseMeta | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "timestamp": _now_iso(),
        "requestId": request_id_of(request),
        "processingTime": elapsed_ms(request),
    }
    if meta is not None:
        if meta.provider is not None:
            body["provider"] = meta.provider
        if meta.cached is not None:
            body["cached"] = meta.cached
        if meta.cache_source is not None:
            body["cacheSource"] = meta.cache_source
    return body


def success_body(request: HttpRequest | None, data: Any, meta: ResponseMeta | None = None) -> dict[str, Any]:
    return {"success": True, "data": data, "metadata": metadata(request, meta)}


def error_body(
    request: HttpRequest | None, *, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"success": False, "data": None, "metadata": metadata(request), "error": error}


def success(
    request: HttpRequest,
    data: Any,
    *,
    status: int = 200,
    meta: ResponseMeta | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A DRF response carrying the v1 envelope."""
    return Response(success_body(request, data, meta), status=status, headers=headers)


def error_response(request: HttpRequest | None, exc: DomainError) -> JsonResponse:
    """A plain Django JSON response for a domain error (used outside DRF: middleware, handlers)."""
    response = JsonResponse(
        error_body(request, code=exc.code, message=exc.message, details=exc.details),
        status=exc.status,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in exc.headers.items():
        response[name] = value
    return response


def as_domain_error(exc: Exception) -> DomainError | None:
    """Map DRF and Django exceptions onto the contract's codes."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, drf_exceptions.ValidationError):
        return InvalidRequest(_validation_message(exc.detail), details={"fields": exc.detail})
    if isinstance(exc, drf_exceptions.ParseError):
        return InvalidRequest(f"Malformed request body: {exc.detail}")
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return Unauthorized(str(exc.detail))
    if isinstance(exc, drf_exceptions.PermissionDenied):
        return STATUS_TO_ERROR[403](str(exc.detail))
    if isinstance(exc, drf_exceptions.NotFound):
        return NotFound(str(exc.detail))
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return MethodNotAllowed(str(exc.detail))
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return UnsupportedMediaType(str(exc.detail))
    if isinstance(exc, drf_exceptions.Throttled):
        return RateLimitExceeded(str(exc.detail))
    if isinstance(exc, drf_exceptions.APIException):
        error_cls = STATUS_TO_ERROR.get(exc.status_code, InternalError)
        return error_cls(str(exc.detail))
    from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
    from django.http import Http404

    if isinstance(exc, Http404):
        return NotFound()
    if isinstance(exc, RequestDataTooBig):
        return FileTooLarge("The request body is too large.")
    if isinstance(exc, SuspiciousOperation):
        # TooManyFieldsSent, TooManyFilesSent, a malformed multipart body...: the client's input, a 400.
        return InvalidRequest("The request is malformed or exceeds a limit.", details={"reason": type(exc).__name__})
    return None


def _validation_message(detail: Any) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, errors in detail.items():
            first = errors[0] if isinstance(errors, list) and errors else errors
            if isinstance(first, dict):
                first = _validation_message(first)
            parts.append(f"{field}: {first}")
        return "; ".join(parts) or "Invalid request."
    if isinstance(detail, list) and detail:
        return str(detail[0])
    return str(detail) or "Invalid request."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler: every error a view raises becomes the contract's error body."""
    request = context.get("request")
    error = as_domain_error(exc)
    if error is None:
        logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        error = InternalError()
    response = Response(
        error_body(request, code=error.code, message=error.message, details=error.details),
        status=error.status,
    )
    for name, value in error.headers.items():
        response[name] = value
    if isinstance(exc, drf_exceptions.Throttled) and exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    return response
