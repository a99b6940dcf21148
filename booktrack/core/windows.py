"""One fixed-window counter for every "N per window" rule: per-IP rate limits and outbound budgets.

A window is `[k * window, (k + 1) * window)` in epoch seconds, so every process agrees on where it
starts without talking (a daily window is the UTC day). A hit is one atomic round trip to Redis in
service mode (INCR and EXPIRE in one MULTI/EXEC pipeline), so any number of processes on any number of
machines share the count; in embedded mode (no REDIS_URL: one process) an in-process table under a
lock does the same job. If the store is down the counter fails open: it logs and answers with a count
of 0 (`store_ok=False`), because a broken counter must not take the API or a search down.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from booktrack.core.redis import get_redis

logger = logging.getLogger(__name__)

# The in-process table is swept of expired windows when it grows past this many keys.
LOCAL_SWEEP_AT = 100_000


@dataclass(frozen=True, slots=True)
class WindowState:
    """The count of one window as seen by one hit (or one look)."""

    count: int  # hits in this window, this one included; 0 when the store was down
    limit: int
    reset_at: float  # epoch seconds when this window ends
    now: float  # the time the state was read at
    store_ok: bool = True

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def resets_in(self) -> float:
        """Seconds until the next window starts."""
        return max(0.0, self.reset_at - self.now)

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait, at least 1 (what a `Retry-After` header says)."""
        return max(1, math.ceil(self.reset_at - self.now))


class _LocalWindows:
    """Embedded mode's store: one process, so a lock makes the count atomic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)

    def incr(self, key: str, expires_at: float, now: float, amount: int = 1) -> int:
        with self._lock:
            count, expires = self._counts.get(key, (0, expires_at))
            if expires <= now:
                count, expires = 0, expires_at
            count += amount
            self._counts[key] = (count, expires)
            if len(self._counts) > LOCAL_SWEEP_AT:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            return count

    def get(self, key: str, now: float) -> int:
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            return count if expires > now else 0

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class FixedWindowCounter:
    """Counts hits per (name, window) under `prefix`; `hit` counts one, `peek` only reads."""

    def __init__(self, prefix: str, *, label: str | None = None) -> None:
        self.prefix = prefix
        self.label = label or f"window counter {prefix}"
        self._local = _LocalWindows()
        # An outage is logged once when it starts and once when it ends, not on every hit in between.
        self._store_down = False

    def _store_failed(self, error: Exception) -> None:
        if not self._store_down:
            self._store_down = True
            logger.warning("%s: counter store unavailable (%s); failing open until it is back", self.label, error)

    def _store_ok(self) -> None:
        if self._store_down:
            self._store_down = False
            logger.warning("%s: counter store back; counting again", self.label)

    def _key(self, name: str, window: int, now: float) -> tuple[str, float]:
        index = int(now // window)
        return f"{self.prefix}:{name}:{window}:{index}", float((index + 1) * window)

    def hit(self, name: str, *, limit: int, window: int, now: float | None = None, amount: int = 1) -> WindowState:
        """Count `amount` hits (a negative amount gives units back to the window `now` falls in)."""
        now = time.time() if now is None else now
        key, reset_at = self._key(name, window, now)
        client = get_redis()
        try:
            if client is None:
                count = self._local.incr(key, reset_at, now, amount)
            else:
                pipe = client.pipeline(transaction=True)
                pipe.incrby(key, amount)
                pipe.expire(key, window + 1)
                count = int(pipe.execute()[0])
        except Exception as error:  # fail open: a broken counter store must not stop the caller
            self._store_failed(error)
            return WindowState(0, limit, reset_at, now, store_ok=False)
        if client is not None:
            self._store_ok()
        return WindowState(count, limit, reset_at, now)

    def peek(self, name: str, *, limit: int, window: int, now: float | None = None) -> WindowState:
        now = time.time() if now is None else now
        key, reset_at = self._key(name, window, now)
        client = get_redis()
        try:
            if client is None:
                count = self._local.get(key, now)
            else:
                value = client.get(key)
                count = int(value) if value else 0
        except Exception:  # same rule as hit: unknown counts as unused
            logger.debug("window store unavailable for %s:%s", self.prefix, name, exc_info=True)
            return WindowState(0, limit, reset_at, now, store_ok=False)
        return WindowState(count, limit, reset_at, now)

    def reset_local(self) -> None:
        """Forget the in-process counts (tests; Redis keys expire on their own)."""
        self._local.clear()
