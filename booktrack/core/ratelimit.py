"""Per-client-IP fixed-window rate limiting (CONTRACT 8), atomic across processes.

Routes opt in with a `rate_limit_scope` attribute on the view class (or `@rate_limited("search")` on a
function view); scopes and their (limit, window) come from `settings.RATE_LIMITS`. The count is the shared
fixed-window counter (`booktrack.core.windows`): one atomic Redis round trip per request in service
mode, so any number of processes share the window, an in-process table in embedded mode; if the store
is down the limiter fails open and logs it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from booktrack.core import metrics
from booktrack.core.envelope import error_body, error_response
from booktrack.core.exceptions import RateLimitExceeded
from booktrack.core.windows import FixedWindowCounter, WindowState


def client_ip(request: HttpRequest) -> str:
    """The socket peer, or the address `TRUSTED_PROXY_COUNT` proxies vouch for.

    Each trusted proxy appends the address it saw, so the client is the n-th entry from the right;
    anything further left was written by the client and is ignored (no spoofing out of the limit).
    """
    return client_ip_of(
        remote=request.META.get("REMOTE_ADDR", ""), forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", "")
    )


def client_ip_of(*, remote: str, forwarded_for: str) -> str:
    """`client_ip` from the socket peer and the `X-Forwarded-For` header (HTTP and WebSocket alike)."""
    remote = remote or "unknown"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if len(forwarded) >= hops:
        return forwarded[-hops]
    return forwarded[0] if forwarded else remote


_windows = FixedWindowCounter("rl")


def rate_limit_check(*, scope: str, identity: str, now: float | None = None) -> WindowState:
    """Count one request of `identity` against `scope`'s window (fails open if the store is down)."""
    limit, window = settings.RATE_LIMITS[scope]
    return _windows.hit(f"{scope}:{identity}", limit=limit, window=window, now=now)


def reset_local_windows() -> None:
    _windows.reset_local()


def rate_limited(scope: str):
    """Decorator for function views."""

    def decorate(view):
        view.rate_limit_scope = scope
        return view

    return decorate


def _scope_of(view_func: Callable[..., Any]) -> str | None:
    owner = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None) or view_func
    return getattr(owner, "rate_limit_scope", None)


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        decision: WindowState | None = getattr(request, "rate_decision", None)
        if decision is not None and decision.allowed:
            response["X-RateLimit-Limit"] = str(decision.limit)
            response["X-RateLimit-Remaining"] = str(decision.remaining)
            response["X-RateLimit-Reset"] = str(int(decision.reset_at))
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        scope = _scope_of(view_func)
        if scope is None or not settings.RATE_LIMIT_ENABLED or request.method == "OPTIONS":
            return None
        decision = rate_limit_check(scope=scope, identity=client_ip(request))
        request.rate_decision = decision
        if decision.allowed:
            return None
        metrics.record_event(f"rate_limited:{scope}")
        error = RateLimitExceeded(
            f"Rate limit exceeded. Please try again in {decision.retry_after} seconds.",
            details={"retryAfter": decision.retry_after, "requestsLimit": decision.limit, "requestsRemaining": 0},
            headers={
                "Retry-After": str(decision.retry_after),
                "X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(decision.reset_at)),
            },
        )
        return error_response(request, error)


class WebSocketRateLimitASGIMiddleware:
    """Per-IP limit on WebSocket handshakes (scope `websocket` of `RATE_LIMITS`), before any consumer runs.

    Every upgrade counts, authenticated or not, before the consumer looks its job and token up (a
    database read on a thread): a client that opens sockets in a loop, or guesses tokens, is refused
    cheaply. Refused: an HTTP 429 with the contract's body where the server supports the ASGI
    denial-response extension (uvicorn does), else a close before accept (HTTP 403).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket" or not settings.RATE_LIMIT_ENABLED:
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("", 0)
        forwarded = next((v.decode("latin-1") for n, v in scope.get("headers", []) if n == b"x-forwarded-for"), "")
        identity = client_ip_of(remote=client[0], forwarded_for=forwarded)
        # The shared counter is one Redis round trip: off the event loop.
        decision = await asyncio.to_thread(rate_limit_check, scope="websocket", identity=identity)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        metrics.record_event("rate_limited:websocket")
        message = await receive()  # websocket.connect
        if message["type"] != "websocket.connect":
            return
        if "websocket.http.response" in scope.get("extensions", {}):
            body = json.dumps(
                error_body(
                    None,
                    code=RateLimitExceeded.code,
                    message=f"Rate limit exceeded. Please try again in {decision.retry_after} seconds.",
                    details={
                        "retryAfter": decision.retry_after,
                        "requestsLimit": decision.limit,
                        "requestsRemaining": 0,
                    },
                )
            ).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(decision.retry_after).encode()),
                (b"x-ratelimit-limit", str(decision.limit).encode()),
                (b"x-ratelimit-remaining", b"0"),
                (b"x-ratelimit-reset", str(int(decision.reset_at)).encode()),
            ]
            await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
            return
        await send({"type": "websocket.close", "code": 1008})
