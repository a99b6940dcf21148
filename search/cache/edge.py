"""The edge tier: a small in-process LRU of cached answers with fresh and stale windows.

An entry is fresh for `SEARCH_EDGE_FRESH_SECONDS` (EDGE_FRESH), then served stale (EDGE_STALE) up to
`SEARCH_EDGE_STALE_SECONDS` while the tiers refresh it in the background (search.cache.tiers).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from search.answers import CachedAnswer
from search.cache.ttl import PROVISIONAL_EDGE_FRESH_SECONDS


@dataclass
class _EdgeEntry:
    answer: CachedAnswer
    fresh_until: float
    stale_until: float
    weight: int = 1


class EdgeCache:
    """A thread-safe LRU with fresh and stale windows, bounded by entries and by hits held in total
    (an answer weighs its hits, so memory stays bounded however large each answer is)."""

    def __init__(
        self, max_entries: int, clock: Callable[[], float] = time.monotonic, *, max_weight: int | None = None
    ) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight
        self.clock = clock  # monotonic seconds; injectable so fresh/stale windows are testable without waiting
        self._lock = threading.Lock()
        self._data: OrderedDict[str, _EdgeEntry] = OrderedDict()
        self._weight = 0

    def get(self, key: str) -> tuple[CachedAnswer | None, str | None]:
        """(answer, "EDGE_FRESH" or "EDGE_STALE"), or (None, None)."""
        now = self.clock()
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None, None
            if now >= entry.stale_until:
                self._weight -= self._data.pop(key).weight
                return None, None
            self._data.move_to_end(key)
            return entry.answer, "EDGE_FRESH" if now < entry.fresh_until else "EDGE_STALE"

    def set(self, key: str, answer: CachedAnswer, ttl: int) -> None:
        now = self.clock()
        fresh = min(ttl, settings.SEARCH_EDGE_FRESH_SECONDS)
        if getattr(answer.result, "provisional", False):
            fresh = min(fresh, PROVISIONAL_EDGE_FRESH_SECONDS)
        stale = max(fresh, min(ttl, settings.SEARCH_EDGE_STALE_SECONDS))
        entry = _EdgeEntry(answer, now + fresh, now + stale, answer.weight)
        with self._lock:
            previous = self._data.pop(key, None)
            if previous is not None:
                self._weight -= previous.weight
            self._data[key] = entry
            self._weight += entry.weight
            while len(self._data) > self.max_entries or (
                self.max_weight is not None and self._weight > self.max_weight and len(self._data) > 1
            ):
                self._weight -= self._data.popitem(last=False)[1].weight

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._weight = 0

    @property
    def weight(self) -> int:
        return self._weight

    def __len__(self) -> int:
        return len(self._data)
