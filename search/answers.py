"""The cached answer: the one place where the hot path keeps what it derives from a search answer.

The edge tier (search.cache) holds `CachedAnswer`s. One holds:

- `result`: the answer as loaded, labelled neither as cached nor decorated (the shared tier stores
  the same plain DTOs);
- per label it is served under (cached?, which tier), a `ServedAnswer`: the result labelled and
  passed through search.hooks' decorators, with its v1 `data` rendered to JSON once (`payload`, which
  booktrack.core.rendering splices into the envelope). It is held for as long as the decorators say
  their decoration stays valid (author facts are memoized for minutes), then decorated and rendered
  again, so a hot cached answer costs no per-request work on its books;
- derived answers (the pages of a title window), answers of their own, a bounded number of them.

DTOs stay plain frozen dataclasses: every derived form lives here, in objects of the cache's own,
and nothing of it reaches the shared tier.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from booktrack.core.rendering import PrerenderedJSON
from search import hooks, wire

# Derived answers held per answer (page sizes a client uses, the first pages); others are cut again
# on each request rather than held.
MAX_DERIVED_HELD = 16


class ServedAnswer:
    """An answer as served under one label: the decorated result and its v1 `data` JSON."""

    __slots__ = ("_payload", "generation", "result", "valid_until")

    def __init__(self, result: Any, *, valid_until: float = 0.0, generation: int = -1) -> None:
        self.result = result
        self.valid_until = valid_until  # time.monotonic() until which the decoration holds
        self.generation = generation  # search.hooks' decoration generation it was made under
        self._payload: PrerenderedJSON | None = None

    @property
    def payload(self) -> PrerenderedJSON:
        """The v1 `data` ({works, editions, authors, totalResults}), rendered on first use."""
        payload = self._payload
        if payload is None:
            payload = self._payload = wire.v1_payload(self.result)
        return payload

    def holds(self, now: float) -> bool:
        return now < self.valid_until and self.generation == hooks.decorations_generation()


class CachedAnswer:
    """A search answer as the edge tier holds it (see the module docstring). Thread-safe: concurrent
    callers may both derive a form; either copy is correct and one of them is kept."""

    __slots__ = ("_derived", "_served", "result")

    def __init__(self, result: Any) -> None:
        self.result = result
        self._served: dict[tuple[bool, str | None], ServedAnswer] = {}
        self._derived: dict[Hashable, CachedAnswer] = {}

    @property
    def weight(self) -> int:
        """What the answer costs the edge tier: its hits (a 100-book title window weighs 100)."""
        return max(1, len(getattr(self.result, "hits", ()) or ()))

    def labelled(self, *, cached: bool, cache_source: str | None) -> Any:
        """The result labelled with the tier that served it (not decorated)."""
        return self.result.with_cache(cached=cached, cache_source=cache_source)

    def served(self, *, cached: bool, cache_source: str | None) -> ServedAnswer:
        """The result labelled and decorated (search.hooks), the same object while its decoration holds."""
        label = (cached, cache_source)
        served = self._served.get(label)
        now = time.monotonic()
        if served is not None and served.holds(now):
            return served
        generation = hooks.decorations_generation()  # read first: a bump while decorating wins
        decoration = hooks.decorate(self.labelled(cached=cached, cache_source=cache_source))
        served = ServedAnswer(decoration.result, valid_until=decoration.valid_until, generation=generation)
        if decoration.valid_until > now:
            self._served[label] = served
        else:
            self._served.pop(label, None)
        return served

    def derived(self, key: Hashable, make: Callable[[Any], Any]) -> CachedAnswer:
        """`CachedAnswer(make(result))`, held under `key` (at most MAX_DERIVED_HELD of them)."""
        answer = self._derived.get(key)
        if answer is None:
            answer = CachedAnswer(make(self.result))
            if len(self._derived) < MAX_DERIVED_HELD:
                self._derived[key] = answer
        return answer


class Fetched(NamedTuple):
    """A cached answer and how this read got it: `cached`, and from which tier (`cache_source`)."""

    answer: CachedAnswer
    cached: bool
    cache_source: str | None

    def labelled(self) -> Any:
        return self.answer.labelled(cached=self.cached, cache_source=self.cache_source)

    def served(self) -> ServedAnswer:
        return self.answer.served(cached=self.cached, cache_source=self.cache_source)

    def derived(self, key: Hashable, make: Callable[[Any], Any]) -> Fetched:
        return Fetched(self.answer.derived(key, make), self.cached, self.cache_source)
