"""Result decorators: how apps that depend on search (enrichment) add to search answers.

Search must not import enrichment (dependencies point one way), so enrichment registers a function
here at start-up (`EnrichmentConfig.ready()`). `decorate_result` runs every registered decorator, in
registration order, on each answer the book search services return, AFTER the cache tiers: cached
entries stay as the providers gave them and are decorated on every read, so they pick up data
that became available later (author facts) without invalidating anything.

A decorator takes a SearchResult and returns one (DTOs are frozen: `dataclasses.replace`). It must
be cheap and must not call the network. One that raises is logged and skipped: decoration never
fails a search.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from search.dto import SearchResult

logger = logging.getLogger(__name__)

ResultDecorator = Callable[[SearchResult], SearchResult]

_decorators: tuple[ResultDecorator, ...] = ()
_lock = threading.Lock()


def register_result_decorator(fn: ResultDecorator) -> ResultDecorator:
    """Add `fn` (once; registering it again is a no-op). Usable as a decorator."""
    global _decorators
    with _lock:
        if fn not in _decorators:
            _decorators = (*_decorators, fn)
    return fn


def unregister_result_decorator(fn: ResultDecorator) -> None:
    global _decorators
    with _lock:
        _decorators = tuple(d for d in _decorators if d is not fn)


def result_decorators() -> tuple[ResultDecorator, ...]:
    return _decorators


def decorate_result(result: SearchResult) -> SearchResult:
    """`result` passed through every registered decorator (a failing one is skipped)."""
    for fn in _decorators:
        try:
            decorated = fn(result)
        except Exception:  # decoration is best effort; the answer itself is fine
            logger.exception("search result decorator %r failed", getattr(fn, "__qualname__", fn))
            continue
        if isinstance(decorated, SearchResult):
            result = decorated
        else:
            logger.error("search result decorator %r returned %r, ignored", fn, type(decorated))
    return result
