"""Result decorators: how apps that depend on search (enrichment) add to search answers.

Search must not import enrichment (dependencies point one way), so enrichment registers a function
here at start-up (`EnrichmentConfig.ready()`). `decorate` runs every registered decorator, in
registration order, on each answer the book search services return, AFTER the cache tiers: cached
entries stay as the providers gave them and are decorated when read, so they pick up data that
became available later (author facts) without invalidating anything.

A decorator takes a SearchResult and returns one (DTOs are frozen: `dataclasses.replace`), or a
`Decoration`: the result plus until when (`time.monotonic()`) the same answer would be decorated the
same way. A cached answer keeps its decoration that long (search.answers) instead of being decorated
on every read; a plain SearchResult means "decorate again next time". A decorator must be cheap and
must not call the network. One that raises is logged and skipped: decoration never fails a search.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from search.dto import SearchResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decoration:
    """A decorated answer and the monotonic time until which it holds (0: decorate on the next read)."""

    result: SearchResult
    valid_until: float = 0.0


ResultDecorator = Callable[[SearchResult], "SearchResult | Decoration"]

_decorators: tuple[ResultDecorator, ...] = ()
_lock = threading.Lock()
# Bumped whenever what decorators would answer changes wholesale (a decorator added or removed, or a
# decorator's own memo dropped): decorations held by cached answers are dropped with it.
_generation = 0


def register_result_decorator(fn: ResultDecorator) -> ResultDecorator:
    """Add `fn` (once; registering it again is a no-op). Usable as a decorator."""
    global _decorators
    with _lock:
        if fn not in _decorators:
            _decorators = (*_decorators, fn)
    decorations_expire()
    return fn


def unregister_result_decorator(fn: ResultDecorator) -> None:
    global _decorators
    with _lock:
        _decorators = tuple(d for d in _decorators if d is not fn)
    decorations_expire()


def result_decorators() -> tuple[ResultDecorator, ...]:
    return _decorators


def decorations_expire() -> None:
    """Drop every decoration cached answers hold (they are decorated again on their next read)."""
    global _generation
    _generation += 1


def decorations_generation() -> int:
    return _generation


def decorate(result: SearchResult) -> Decoration:
    """`result` passed through every registered decorator (a failing one is skipped), held for as long
    as the shortest-lived decoration says."""
    valid_until = math.inf
    for fn in _decorators:
        try:
            decorated = fn(result)
        except Exception:  # decoration is best effort; the answer itself is fine
            logger.exception("search result decorator %r failed", getattr(fn, "__qualname__", fn))
            valid_until = 0.0  # try again next time
            continue
        if isinstance(decorated, Decoration):
            result, valid_until = decorated.result, min(valid_until, decorated.valid_until)
        elif isinstance(decorated, SearchResult):
            result, valid_until = decorated, 0.0
        else:
            logger.error("search result decorator %r returned %r, ignored", fn, type(decorated))
    return Decoration(result, valid_until)


def decorate_result(result: SearchResult) -> SearchResult:
    """`decorate(result).result`: for answers nobody holds (a batch lookup's)."""
    return decorate(result).result
