"""Domain errors with the contract's codes (CONTRACT section 2).

Services raise these; one DRF exception handler and one middleware turn them into the
contract's error body, so no view builds an error by hand.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An error a client can act on: a contract `code`, an HTTP status and a message."""

    code = "INTERNAL_ERROR"
    status = 500
    default_message = "Internal server error."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class MissingParameter(DomainError):
    code, status, default_message = "MISSING_PARAMETER", 400, "A required parameter is missing."


class InvalidRequest(DomainError):
    code, status, default_message = "INVALID_REQUEST", 400, "The request is not valid."


class InvalidIsbn(DomainError):
    code, status, default_message = "INVALID_ISBN", 400, "The ISBN is not valid."


class InvalidQuery(DomainError):
    code, status, default_message = "INVALID_QUERY", 400, "The query is not valid."


class InvalidFile(DomainError):
    code, status, default_message = "INVALID_FILE", 400, "The file is not valid."


class EmptyBatch(DomainError):
    code, status, default_message = "EMPTY_BATCH", 400, "The batch is empty."


class BatchTooLarge(DomainError):
    code, status, default_message = "BATCH_TOO_LARGE", 400, "The batch is too large."


class Unauthorized(DomainError):
    code, status, default_message = "UNAUTHORIZED", 401, "Authentication is required."


class Forbidden(DomainError):
    code, status, default_message = "FORBIDDEN", 403, "You may not do this."


class NotFound(DomainError):
    code, status, default_message = "NOT_FOUND", 404, "Not found."


class MethodNotAllowed(DomainError):
    code, status, default_message = "METHOD_NOT_ALLOWED", 405, "Method not allowed."


class RequestTimeout(DomainError):
    """The request body did not arrive within its deadline (the slow-client guard, docs/security.md)."""

    code, status, default_message = "REQUEST_TIMEOUT", 408, "The request body did not arrive in time."


class Conflict(DomainError):
    code, status, default_message = "CONFLICT", 409, "The resource is in a conflicting state."


class FileTooLarge(DomainError):
    code, status, default_message = "FILE_TOO_LARGE", 413, "The request body is too large."


class UnsupportedMediaType(DomainError):
    code, status, default_message = (
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "Unsupported media type.",
    )


class RateLimitExceeded(DomainError):
    code, status, default_message = "RATE_LIMIT_EXCEEDED", 429, "Rate limit exceeded."


class ServerBusy(DomainError):
    """This server process is reading as many request bodies as it may at once; retry shortly."""

    code, status, default_message = "SERVER_BUSY", 503, "The server is busy; retry shortly."


class InternalError(DomainError):
    code, status, default_message = "INTERNAL_ERROR", 500, "Internal server error."


class ProviderError(DomainError):
    """An upstream answered with something unusable (5xx after retries, garbage)."""

    code, status, default_message = "PROVIDER_ERROR", 502, "An upstream provider failed."


class ProviderUnavailable(DomainError):
    """An upstream is disabled, circuit-broken or rate limited."""

    code, status, default_message = (
        "PROVIDER_UNAVAILABLE",
        503,
        "An upstream provider is unavailable.",
    )


class ProviderTimeout(DomainError):
    code, status, default_message = "PROVIDER_TIMEOUT", 504, "An upstream provider timed out."


STATUS_TO_ERROR: dict[int, type[DomainError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    408: RequestTimeout,
    409: Conflict,
    413: FileTooLarge,
    415: UnsupportedMediaType,
    429: RateLimitExceeded,
    500: InternalError,
    502: ProviderError,
    503: ProviderUnavailable,
    504: ProviderTimeout,
}
