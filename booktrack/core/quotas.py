"""Per-client shares of the shared upstream quotas (issue 13 item 5).

One `/v3/books/enrich` request of 50 ISBNs can cost 50 Google Books calls, so a handful of clients
could spend the whole daily quota for everyone. Routes that take lists of books charge one unit per
book or ISBN they will look up against the client's hourly budget (`CLIENT_ISBN_BUDGET_PER_HOUR`); the
client is the address the rate limiter uses (`client_ip`: the socket peer or the address
`TRUSTED_PROXY_COUNT` proxies vouch for). The count is the shared fixed-window counter, atomic across
processes and failing open like the rate limiter.

A request is admitted while the budget has anything left and charged in full, so the last admitted
request may overdraw by at most its own size (<= 100 units): the 429 then says exactly what the
contract's rate-limit body says (`requestsRemaining: 0`), and a client never has to split a request
to fit a remainder. A refused request is given its units back; so is an admitted one whose start
failed for another reason (a 400, a 409), through `client_lookups_charged`.

`RATE_LIMIT_ENABLED=false` (tests, benchmarks, a deployment behind its own limiter) turns these
per-client limits off with the rate limits.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest

from booktrack.core import metrics
from booktrack.core.exceptions import RateLimitExceeded
from booktrack.core.ratelimit import client_ip
from booktrack.core.windows import FixedWindowCounter, WindowState

HOUR = 3600
# A full job slot frees when one of the client's jobs ends; there is no window to wait for, so the
# 429 suggests a short wait rather than a reset time.
ACTIVE_JOBS_RETRY_AFTER = 30

_windows = FixedWindowCounter("client-budget")


def client_identity(request: HttpRequest) -> str:
    """The client as the rate limiter sees it."""
    return client_ip(request)


def client_key(identity: str) -> str:
    """A fixed-length key stored with a client's jobs (a digest: addresses are not kept in job rows)."""
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def _rate_limited(*, retry_after: int, limit: int, reset_at: float) -> RateLimitExceeded:
    """The contract's 429 (CONTRACT 2): message, details and headers exactly as the rate limiter's."""
    return RateLimitExceeded(
        f"Rate limit exceeded. Please try again in {retry_after} seconds.",
        details={"retryAfter": retry_after, "requestsLimit": limit, "requestsRemaining": 0},
        headers={
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(reset_at)),
        },
    )


def client_lookups_charge(*, identity: str, units: int, now: float | None = None) -> WindowState | None:
    """Charge `units` lookups to the client's hourly budget; RateLimitExceeded (429) when it is spent.

    Returns the window state after the charge (None when the budget is off or nothing is charged).
    """
    limit = settings.CLIENT_ISBN_BUDGET_PER_HOUR
    if limit <= 0 or units <= 0 or not settings.RATE_LIMIT_ENABLED:
        return None
    state = _windows.hit(f"lookups:{identity}", limit=limit, window=HOUR, now=now, amount=units)
    if state.count - units < limit:  # something was left before this request: admitted
        return state
    _windows.hit(f"lookups:{identity}", limit=limit, window=HOUR, now=state.now, amount=-units)
    metrics.record_event("client_budget_exhausted")
    raise _rate_limited(retry_after=state.retry_after, limit=limit, reset_at=state.reset_at)


def client_lookups_refund(*, identity: str, units: int, state: WindowState | None) -> None:
    if state is None or not state.store_ok:
        return
    _windows.hit(f"lookups:{identity}", limit=state.limit, window=HOUR, now=state.now, amount=-units)


@contextlib.contextmanager
def client_lookups_charged(*, identity: str, units: int) -> Iterator[WindowState | None]:
    """Charge on entry; give the units back if the block raises (the work was never started)."""
    state = client_lookups_charge(identity=identity, units=units)
    try:
        yield state
    except BaseException:
        client_lookups_refund(identity=identity, units=units, state=state)
        raise


def client_lookups_remaining(*, identity: str, now: float | None = None) -> int | None:
    limit = settings.CLIENT_ISBN_BUDGET_PER_HOUR
    if limit <= 0:
        return None
    return _windows.peek(f"lookups:{identity}", limit=limit, window=HOUR, now=now).remaining


def active_jobs_refused(*, limit: int) -> RateLimitExceeded:
    """The 429 for a client already holding `limit` queued or running jobs."""
    metrics.record_event("client_active_jobs_cap")
    return _rate_limited(
        retry_after=ACTIVE_JOBS_RETRY_AFTER, limit=limit, reset_at=time.time() + ACTIVE_JOBS_RETRY_AFTER
    )


def client_budget_reset_local() -> None:
    _windows.reset_local()
