"""Request coalescing: concurrent identical misses make one upstream call (CONTRACT 7).

In process, the first caller for a key computes and the others wait on its future (`coalesce_local`;
batch lookups claim many keys at once with `claim` and resolve them with `settle`). Across processes
in service mode, one process takes a Redis `SET NX PX` lock and loads; the others poll the shared
cache for its answer (`coalesce_across_processes`). Generic: the tiers decide what a value is.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

from django.conf import settings

from booktrack.core.redis import get_redis

logger = logging.getLogger(__name__)

T = TypeVar("T")

_inflight: dict[str, Future] = {}
_inflight_lock = threading.Lock()


def coalesce_local(key: str, compute: Callable[[], T]) -> tuple[T, bool]:
    """(value, leader?) - the first caller for `key` computes; concurrent callers share its result."""
    with _inflight_lock:
        future = _inflight.get(key)
        leader = future is None
        if leader:
            future = Future()
            _inflight[key] = future
    if not leader:
        return future.result(), False
    try:
        value = compute()
    except BaseException as exc:
        future.set_exception(exc)
        raise
    else:
        future.set_result(value)
        return value, True
    finally:
        with _inflight_lock:
            _inflight.pop(key, None)


def coalesce_across_processes(
    key: str, *, load: Callable[[], T], poll: Callable[[], T | None], deadline: float
) -> tuple[T, bool]:
    """(value, from_shared_cache?) - one process runs `load` (which stores its answer); the others
    `poll` the shared cache for it until `deadline`, or load themselves when the leader gave up."""
    client = get_redis()
    if client is None:
        return load(), False
    lock_key = f"{key}:lock"
    token = f"{time.time()}:{threading.get_ident()}:{random.random()}"
    try:
        acquired = bool(client.set(lock_key, token, nx=True, px=int(settings.SEARCH_COALESCE_LOCK_SECONDS * 1000)))
    except Exception:  # no lock store: just load
        acquired = True
        client = None
    if not acquired:
        while time.monotonic() < deadline:
            time.sleep(settings.SEARCH_COALESCE_POLL_SECONDS)
            value = poll()
            if value is not None:
                return value, True
            try:
                if not client.exists(lock_key):
                    value = poll()
                    if value is not None:
                        return value, True
                    break  # the leader gave up without an answer: load ourselves
            except Exception:
                break
    try:
        return load(), False
    finally:
        if acquired and client is not None:
            try:
                if client.get(lock_key) == token.encode():
                    client.delete(lock_key)
            except Exception:
                logger.debug("could not release %s", lock_key, exc_info=True)


def claim(keys: Mapping[str, str]) -> tuple[dict[str, Future], dict[str, Future]]:
    """For item -> key: (item -> future this caller must resolve, item -> future another caller in this
    process is already loading). Resolve the first with `settle`."""
    led: dict[str, Future] = {}
    awaited: dict[str, Future] = {}
    with _inflight_lock:
        for item, key in keys.items():
            future = _inflight.get(key)
            if future is None:
                led[item] = _inflight[key] = Future()
            else:
                awaited[item] = future
    return led, awaited


def settle(
    keys: Mapping[str, str], led: Mapping[str, Future], values: Mapping[str, Any], error: BaseException | None = None
) -> None:
    """Resolve claimed futures: each item's value, else `error` (or a LookupError); free the keys."""
    for item, future in led.items():
        if future.done():
            continue
        if item in values:
            future.set_result(values[item])
        else:
            future.set_exception(error or LookupError(f"no answer for {item!r}"))
    with _inflight_lock:
        for item in led:
            if _inflight.get(keys[item]) is led[item]:
                del _inflight[keys[item]]


def coalesce_reset() -> None:
    with _inflight_lock:
        _inflight.clear()
