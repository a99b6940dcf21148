"""Outbound budgets shared by all processes: OpenLibrary and ISBNdb per second, Google per day.

Installed as the `before_request` hook of the provider clients, so every attempt (retries included)
is counted. The counts are the shared fixed-window counter (`booktrack.core.windows`, the one the
per-IP rate limits use): atomic across processes in service mode, in-process in embedded mode, and
failing open when the store is down. A daily window is the UTC day.

Priority: interactive requests may use the whole budget; background callers (Celery tasks, or code
inside `background_priority()`) may use only `BACKGROUND_SHARE` of it, and wait at most
`BACKGROUND_MAX_WAIT` for a slot before the provider is skipped (ProviderUnavailable), so a batch job
never starves a user's search.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings

from booktrack.core import metrics
from booktrack.core.exceptions import ProviderUnavailable
from booktrack.core.redis import get_redis
from booktrack.core.windows import FixedWindowCounter

logger = logging.getLogger(__name__)

_priority: contextvars.ContextVar[str | None] = contextvars.ContextVar("search_priority", default=None)


@dataclass(frozen=True)
class Clock:
    """Where budgets read time and how they wait: injectable, so window arithmetic is testable exactly.

    `wall` (epoch seconds) picks the fixed window; `monotonic` is compared with callers' deadlines.
    """

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


SYSTEM_CLOCK = Clock()
# The clock used when a caller passes none (tests may swap it for a fake one).
default_clock: Clock = SYSTEM_CLOCK


class BudgetExhausted(ProviderUnavailable):
    """Our own outbound budget said no (not the upstream): never a reason for an upstream cooldown."""


@dataclass(frozen=True)
class Budget:
    upstream: str
    limit: int
    window: int  # seconds: 1 for per-second budgets, 86400 for a daily quota


def budgets() -> dict[str, Budget]:
    """The budgets as data (read from settings at call time, so a settings override applies)."""
    return {
        "openlibrary": Budget("openlibrary", settings.SEARCH_OPENLIBRARY_RPS, 1),
        "isbndb": Budget("isbndb", settings.SEARCH_ISBNDB_RPS, 1),
        "google-books": Budget("google-books", settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA, 86400),
    }


def _background_share(budget: Budget) -> float:
    """Background work's slots per window on average (may be fractional: 60 % of 3 req/s is 1.8)."""
    return max(0.0, budget.limit * settings.SEARCH_BUDGET_BACKGROUND_SHARE)


def _background_limit(budget: Budget, *, now: float) -> int:
    """Background work's slots in the window holding `now`.

    A fractional share is spread over consecutive windows (1.8 per second: 2, 2, 1, 2, 2, ...), so the
    configured share holds on average instead of being rounded down to 1 slot, a third of 3 req/s.
    A share under one slot per window still leaves background work one slot now and then.
    """
    # In thousandths of a slot, in integers: float products of epoch-sized window numbers drift.
    share_milli = round(_background_share(budget) * 1000)
    n = int(now // budget.window)
    return ((n + 1) * share_milli) // 1000 - (n * share_milli) // 1000


@contextlib.contextmanager
def background_priority() -> Iterator[None]:
    """Mark outbound calls made inside as background work."""
    token = _priority.set("background")
    try:
        yield
    finally:
        _priority.reset(token)


@contextlib.contextmanager
def interactive_priority() -> Iterator[None]:
    token = _priority.set("interactive")
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> str:
    explicit = _priority.get()
    if explicit:
        return explicit
    from celery import current_task

    # Outside a worker, current_task is None (or has no request id): the caller is interactive.
    request = getattr(current_task, "request", None)
    return "background" if getattr(request, "id", None) else "interactive"


_windows = FixedWindowCounter("search:budget")

# Upstream-imposed pauses (a 429's Retry-After): epoch second until which an upstream is not called.
_cooldowns: dict[str, float] = {}
_cooldowns_lock = threading.Lock()
MAX_COOLDOWN_SECONDS = 3600.0


def _cooldown_key(upstream: str) -> str:
    return f"search:cooldown:{upstream}"


def budget_cooldown(*, upstream: str, seconds: float | None, clock: Clock | None = None) -> None:
    """Stop calling `upstream` for `seconds` (its 429 Retry-After), in every process.

    Honouring Retry-After means not asking again before it passes, not only in the retry loop: the
    fan-out skips the provider (a degraded answer) instead of hammering it on every search.
    """
    if not seconds or seconds <= 0:
        return
    seconds = min(float(seconds), MAX_COOLDOWN_SECONDS)
    until = (clock or default_clock).wall() + seconds
    with _cooldowns_lock:
        _cooldowns[upstream] = max(until, _cooldowns.get(upstream, 0.0))
    client = get_redis()
    if client is None:
        return
    try:
        client.set(_cooldown_key(upstream), repr(until), px=max(1, int(seconds * 1000)))
    except Exception:  # the local pause still applies
        logger.warning("could not share the %s cooldown", upstream, exc_info=True)


def budget_cooldown_remaining(upstream: str, *, clock: Clock | None = None) -> float:
    """Seconds until `upstream` may be called again (0 when it may be called now)."""
    now = (clock or default_clock).wall()
    with _cooldowns_lock:
        until = _cooldowns.get(upstream, 0.0)
    client = get_redis()
    if client is not None:
        try:
            shared = client.get(_cooldown_key(upstream))
            if shared:
                until = max(until, float(shared))
        except Exception:
            logger.debug("cooldown store unavailable", exc_info=True)
    return max(0.0, until - now)


def budget_acquire(
    *, upstream: str, deadline: float | None, priority: str | None = None, clock: Clock | None = None
) -> None:
    """Take one slot of `upstream`'s budget, waiting for the next window when allowed.

    Raises ProviderUnavailable when no slot comes before the deadline (or, for background work, within
    BACKGROUND_MAX_WAIT), or when the daily quota is spent. `deadline` is on `clock.monotonic`.
    """
    clock = clock or default_clock
    paused = budget_cooldown_remaining(upstream, clock=clock)
    if paused > 0:
        metrics.record_event(f"upstream_cooldown:{upstream}")
        raise BudgetExhausted(
            f"{upstream} asked us to wait (Retry-After).",
            details={"provider": upstream, "retryAfter": max(1, math.ceil(paused))},
        )
    budget = budgets().get(upstream)
    if budget is None or budget.limit <= 0:
        return
    priority = priority or current_priority()
    limit = budget.limit
    give_up_at = deadline
    if priority == "background":
        cap = clock.monotonic() + settings.SEARCH_BUDGET_BACKGROUND_MAX_WAIT
        give_up_at = cap if give_up_at is None else min(give_up_at, cap)
    while True:
        now = clock.wall()
        if priority == "background":
            limit = _background_limit(budget, now=now)
        # A background caller whose share is spent looks without counting: it must not eat the rest.
        state = (
            _windows.peek(upstream, limit=limit, window=budget.window, now=now) if priority == "background" else None
        )
        if state is None or state.count < limit:
            state = _windows.hit(upstream, limit=limit, window=budget.window, now=now)
            if state.allowed:
                return
        wait = state.resets_in
        if budget.window >= 86400 or (give_up_at is not None and clock.monotonic() + wait >= give_up_at):
            metrics.record_event(f"budget_exhausted:{upstream}:{priority}")
            raise BudgetExhausted(
                f"{upstream}: outbound budget exhausted for {priority} work.",
                details={"provider": upstream, "retryAfter": state.retry_after},
            )
        clock.sleep(min(wait + 0.005, 1.0))


def budget_before_request(upstream: str, deadline: float | None) -> None:
    """The `before_request` hook installed on provider clients."""
    budget_acquire(upstream=upstream, deadline=deadline)


def budget_remaining(*, clock: Clock | None = None) -> dict[str, dict[str, int | str]]:
    """Remaining budget per upstream in the current window (for /api/cache/metrics)."""
    now = (clock or default_clock).wall()
    out: dict[str, dict[str, int | str]] = {}
    for name, budget in budgets().items():
        state = _windows.peek(name, limit=budget.limit, window=budget.window, now=now)
        out[name] = {
            "limit": budget.limit,
            "used": min(state.count, budget.limit),
            "remaining": state.remaining,
            "window": "day" if budget.window >= 86400 else f"{budget.window}s",
            "resetsIn": math.ceil(state.resets_in),
            "backgroundLimit": _background_limit(budget, now=now),
            "backgroundShare": round(_background_share(budget), 3),
        }
    return out


def budget_reset_local() -> None:
    _windows.reset_local()
    with _cooldowns_lock:
        _cooldowns.clear()
