"""Parallel fan-out to providers under ONE total deadline (a shared thread pool).

A provider that times out, errors, is rate limited, is over budget or sends garbage is reported in
`failed` and leaves the answer to the others; the fan-out itself never raises for a provider.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings

from booktrack.core import metrics
from search.budgets import _priority, current_priority
from search.dto import ProviderPage

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(
                    max_workers=settings.SEARCH_FANOUT_WORKERS, thread_name_prefix="search-fanout"
                )
    return _executor


@dataclass(frozen=True)
class FanoutOutcome:
    pages: tuple[ProviderPage, ...]
    failed: tuple[str, ...]


def _with_priority(priority: str, call: Callable[[], ProviderPage]) -> ProviderPage:
    _priority.set(priority)
    return call()


def fanout_run(*, calls: Mapping[str, Callable[[], ProviderPage]], deadline: float) -> FanoutOutcome:
    """Run every call concurrently; collect what finished by `deadline` (time.monotonic())."""
    if not calls:
        return FanoutOutcome(pages=(), failed=())
    priority = current_priority()  # Celery context is thread-local: carry it into the pool threads
    futures: dict[str, Future[ProviderPage]] = {
        name: _pool().submit(contextvars.copy_context().run, _with_priority, priority, call)
        for name, call in calls.items()
    }
    done, _ = wait(list(futures.values()), timeout=max(0.0, deadline - time.monotonic()))
    pages: list[ProviderPage] = []
    failed: list[str] = []
    for name, future in futures.items():
        if future not in done:
            failed.append(name)
            metrics.record_event(f"search_provider_deadline:{name}")
            logger.info("provider %s missed the search deadline", name)
            continue
        try:
            pages.append(future.result())
        except Exception as exc:  # noqa: BLE001 - a provider failure degrades the answer, never fails it
            failed.append(name)
            metrics.record_event(f"search_provider_failed:{name}")
            logger.info("provider %s failed: %s", name, exc)
    return FanoutOutcome(pages=tuple(pages), failed=tuple(failed))
