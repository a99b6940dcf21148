"""Per-client-IP fixed-window rate limiting (CONTRACT 8), atomic across processes.

Routes opt in with a `rate_limit_scope` attribute on the view class (or `@rate_limited("search")` on a
function view); scopes and their (limit, window) come from `settings.RATE_LIMITS`. The counter is one
Redis INCR on a key per (scope, ip, window), with the expiry set in the same round trip, so any
number of processes share the window; in embedded mode an in-process counter does the same job. If
the store is down the limiter fails open and logs it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from booktrack.core import metrics
from booktrack.core.envelope import error_response
from booktrack.core.exceptions import RateLimitExceeded
from booktrack.core.redis import get_redis

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends
    retry_after: int  # seconds, >= 1 when refused


def client_ip(request: HttpRequest) -> str:
    """The socket peer, or the address `TRUSTED_PROXY_COUNT` proxies vouch for.

    Each trusted proxy appends the address it saw, so the client is the n-th entry from the right;
    anything further left was written by the client and is ignored (no spoofing out of the limit).
    """
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) >= hops:
        return forwarded[-hops]
    return forwarded[0] if forwarded else remote


class _LocalWindows:
    """Embedded mode's store: one process, so a lock makes the count atomic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def incr(self, key: str, ttl: int) -> int:
        now = time.time()
        with self._lock:
            count, expires = self._counts.get(key, (0, now + ttl))
            if expires <= now:
                count, expires = 0, now + ttl
            count += 1
            self._counts[key] = (count, expires)
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            return count

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


_local = _LocalWindows()


def rate_limit_check(*, scope: str, identity: str, now: float | None = None) -> RateDecision:
    limit, window = settings.RATE_LIMITS[scope]
    now = time.time() if now is None else now
    window_index = int(now // window)
    reset_at = (window_index + 1) * window
    key = f"rl:{scope}:{identity}:{window_index}"
    client = get_redis()
    try:
        if client is None:
            count = _local.incr(key, window)
        else:
            pipe = client.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, window + 1)
            count = int(pipe.execute()[0])
    except Exception:  # noqa: BLE001 - fail open: a broken limiter must not take the API down
        logger.warning("rate limiter store unavailable; allowing %s for %s", scope, identity, exc_info=True)
        return RateDecision(True, limit, limit, reset_at, 0)
    remaining = max(0, limit - count)
    retry_after = max(1, math.ceil(reset_at - now))
    return RateDecision(count <= limit, limit, remaining, int(reset_at), retry_after)


def reset_local_windows() -> None:
    _local.clear()


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
        decision: RateDecision | None = getattr(request, "rate_decision", None)
        if decision is not None and decision.allowed:
            response["X-RateLimit-Limit"] = str(decision.limit)
            response["X-RateLimit-Remaining"] = str(decision.remaining)
            response["X-RateLimit-Reset"] = str(decision.reset_at)
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
                "X-RateLimit-Reset": str(decision.reset_at),
            },
        )
        return error_response(request, error)
