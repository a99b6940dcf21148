"""The tiered read (CONTRACT 7): edge LRU -> shared cache (KV) -> catalog -> providers.

- Edge (search.cache.edge): fresh answers are EDGE_FRESH; stale ones are served (EDGE_STALE) while one
  background refresh per key re-reads the shared tier, else the providers (a degraded refresh never
  replaces the answer being served).
- KV: Django's cache (Redis in service mode, local memory in embedded mode); a cache outage degrades
  to the next tier.
- CATALOG: the stored catalog, for ISBN lookups (a callable passed by the service).
- Misses are coalesced (search.cache.coalesce) and the answer is stored in KV and the edge, for as
  long as search.cache.ttl says.

The edge holds `search.answers.CachedAnswer`s; reads return them with their label (`Fetched`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.core.cache import cache as django_cache

from booktrack.core import metrics
from search.answers import CachedAnswer, Fetched
from search.cache.coalesce import claim, coalesce_across_processes, coalesce_local, coalesce_reset, settle
from search.cache.edge import EdgeCache
from search.cache.ttl import cache_ttl
from search.dto import SearchResult

logger = logging.getLogger(__name__)

edge = EdgeCache(settings.SEARCH_EDGE_MAX_ENTRIES, max_weight=settings.SEARCH_EDGE_MAX_HITS)


# --- shared tier ---------------------------------------------------------------------------------


def kv_get(key: str) -> Any:
    try:
        return django_cache.get(key)
    except Exception:  # a cache outage degrades to the next tier
        logger.warning("shared cache read failed", exc_info=True)
        return None


def kv_get_many(keys: Sequence[str]) -> dict[str, Any]:
    """Present keys -> values, in one round trip; {} when the shared cache is down."""
    if not keys:
        return {}
    try:
        return django_cache.get_many(list(keys))
    except Exception:  # a cache outage degrades to the next tier
        logger.warning("shared cache read failed", exc_info=True)
        return {}


def kv_add(key: str, value: Any, ttl: int) -> None:
    """Store `value` only where the shared cache holds nothing for `key`."""
    try:
        django_cache.add(key, value, ttl)
    except Exception:
        logger.warning("shared cache write failed", exc_info=True)


def kv_set(key: str, value: Any, ttl: int) -> None:
    try:
        django_cache.set(key, value, ttl)
    except Exception:
        logger.warning("shared cache write failed", exc_info=True)


# --- storing ---------------------------------------------------------------------------------------


def _store(kind: str, key: str, result: Any) -> CachedAnswer:
    """`result` (a fresh answer) kept in the shared tier and the edge; the edge's answer object."""
    ttl = cache_ttl(kind=kind, result=result)
    plain = result.with_cache(cached=False, cache_source=None)
    # A provisional answer never replaces one already stored (the completed answer may be there).
    (kv_add if getattr(result, "provisional", False) else kv_set)(key, plain, ttl)
    answer = CachedAnswer(plain)
    edge.set(key, answer, ttl)
    return answer


def _edge_fill(kind: str, key: str, value: Any) -> CachedAnswer:
    """A shared-tier value put in the edge."""
    answer = CachedAnswer(value)
    edge.set(key, answer, cache_ttl(kind=kind, result=value))
    return answer


def _shared_answer(key: str) -> CachedAnswer | None:
    """What another process stored under `key` (coalescing waiters poll this)."""
    value = kv_get(key)
    return CachedAnswer(value) if value is not None else None


# --- stale-while-revalidate --------------------------------------------------------------------------

# Keys with a background edge refresh running: a burst of stale hits starts one refresh, not a
# thread per hit.
_refreshing: set[str] = set()
_refreshing_lock = threading.Lock()


def _revalidate(kind: str, key: str, loader: Callable[[float], Any]) -> None:
    with _refreshing_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def load(deadline: float) -> CachedAnswer:
        value = loader(deadline)
        # A partial answer (some provider failed) must not replace the complete one being served: keep
        # serving it stale (bounded by the stale window) and let a later hit try again.
        return CachedAnswer(value) if getattr(value, "degraded", ()) else _store(kind, key, value)

    def run() -> None:
        try:
            value = kv_get(key)
            if value is not None:
                _edge_fill(kind, key, value)
                return
            deadline = time.monotonic() + settings.SEARCH_DEADLINE_SECONDS
            coalesce_local(
                key,
                lambda: coalesce_across_processes(
                    key, load=lambda: load(deadline), poll=lambda: _shared_answer(key), deadline=deadline
                ),
            )
        except Exception:
            logger.info("edge revalidation of %s failed", key, exc_info=True)
        finally:
            with _refreshing_lock:
                _refreshing.discard(key)

    try:
        threading.Thread(target=run, name="search-edge-revalidate", daemon=True).start()
    except RuntimeError:  # cannot start a thread (interpreter shutdown): serve stale, refresh later
        with _refreshing_lock:
            _refreshing.discard(key)


# --- one key ---------------------------------------------------------------------------------------


def _from_catalog(read: Callable[[], Any], *, kind: str, key: str) -> CachedAnswer | None:
    """The catalog tier: an answer it holds is stored in the tiers above."""
    try:
        value = read()
    except Exception:  # a database hiccup falls through to the providers
        logger.warning("catalog read failed", exc_info=True)
        value = None
    metrics.record_cache("catalog", hit=value is not None)
    return _store(kind, key, value) if value is not None else None


def answer_fetch(
    *,
    kind: str,
    key: str,
    loader: Callable[[float], Any],
    deadline: float,
    catalog: Callable[[], Any] | None = None,
) -> Fetched:
    """The answer from the first tier that has `key`, else loaded once (coalesced) into the tiers."""
    answer, state = edge.get(key)
    if answer is not None:
        metrics.record_cache("edge", hit=True)
        if state == "EDGE_STALE":
            _revalidate(kind, key, loader)
        return Fetched(answer, True, state)
    metrics.record_cache("edge", hit=False)

    value = kv_get(key)
    metrics.record_cache("kv", hit=value is not None)
    if value is not None:
        return Fetched(_edge_fill(kind, key, value), True, "KV")

    if catalog is not None:
        answer = _from_catalog(catalog, kind=kind, key=key)
        if answer is not None:
            return Fetched(answer, True, "CATALOG")

    def compute() -> tuple[CachedAnswer, bool]:
        return coalesce_across_processes(
            key, load=lambda: _store(kind, key, loader(deadline)), poll=lambda: _shared_answer(key), deadline=deadline
        )

    (answer, from_shared), _leader = coalesce_local(key, compute)
    return Fetched(answer, from_shared, "KV" if from_shared else None)


def cached_fetch(
    *,
    kind: str,
    key: str,
    loader: Callable[[float], Any],
    deadline: float,
    catalog: Callable[[], Any] | None = None,
) -> Any:
    """`answer_fetch`'s result, labelled with its tier (for callers that serve no rendered form)."""
    return answer_fetch(kind=kind, key=key, loader=loader, deadline=deadline, catalog=catalog).labelled()


# --- many keys at once (batch ISBN lookups) -------------------------------------------------------------

BatchLoader = Callable[[list[str], float], Mapping[str, SearchResult]]


def _load_claimed(
    kind: str,
    keys: Mapping[str, str],
    led: Mapping[str, Any],
    loader: BatchLoader,
    deadline: float,
    keep: Callable[[SearchResult], bool],
) -> dict[str, CachedAnswer]:
    """Load the claimed items in ONE loader call, store each answer `keep` accepts, resolve the futures
    with the same (answer, from_shared_cache) pair `answer_fetch` leaders publish."""
    answers: dict[str, CachedAnswer] = {}
    try:
        results = dict(loader(list(led), deadline)) if led else {}
        for item in led:
            if item in results:
                result = results[item]
                answers[item] = _store(kind, keys[item], result) if keep(result) else CachedAnswer(result)
    except BaseException as exc:
        settle(keys, led, {}, exc)
        raise
    settle(keys, led, {item: (answer, False) for item, answer in answers.items()})
    return answers


def _revalidate_many(
    kind: str, keys: Mapping[str, str], loader: BatchLoader, keep: Callable[[SearchResult], bool]
) -> None:
    """Refresh stale edge entries in ONE background batch (one refresh per key, as `_revalidate`)."""
    with _refreshing_lock:
        todo = {item: key for item, key in keys.items() if key not in _refreshing}
        _refreshing.update(todo.values())
    if not todo:
        return
    claimed = list(todo.values())

    def run() -> None:
        try:
            shared = kv_get_many(list(todo.values()))
            for item, key in list(todo.items()):
                if key in shared:
                    _edge_fill(kind, key, shared[key])
                    del todo[item]
            led, _ = claim(todo)  # keys someone else is loading get their answer from that load
            deadline = time.monotonic() + settings.SEARCH_DEADLINE_SECONDS
            # A partial (degraded) refresh never replaces the complete answer being served.
            _load_claimed(kind, todo, led, loader, deadline, lambda r: keep(r) and not r.degraded)
        except Exception:
            logger.info("batch edge revalidation failed", exc_info=True)
        finally:
            with _refreshing_lock:
                _refreshing.difference_update(claimed)

    try:
        threading.Thread(target=run, name="search-edge-revalidate-many", daemon=True).start()
    except RuntimeError:
        with _refreshing_lock:
            _refreshing.difference_update(claimed)


def cached_fetch_many(
    *,
    kind: str,
    keys: Mapping[str, str],
    loader: BatchLoader,
    deadline: float,
    catalog: Callable[[str], SearchResult | None] | None = None,
    keep: Callable[[SearchResult], bool] = lambda result: True,
) -> dict[str, SearchResult]:
    """`cached_fetch` for many items (item -> cache key): every tier per item, then ONE loader call.

    Edge per key, the shared tier in one `get_many`, the catalog per item; the misses go to
    `loader(items, deadline)` together, and each answer is stored under its own key (so a later single
    lookup is a hit), with the usual TTL rules (not found / degraded: 5 minutes). `keep(answer)` False
    = serve it but store nothing (an item no provider answered taught us nothing).

    Misses that this process is already loading (a concurrent single or batch lookup) are awaited,
    not asked again. Across processes batch misses take no lock: one lock per key would cost a round
    trip per ISBN, and the batch already asks each provider once for all of them. An item with no
    answer by the deadline is left out of the returned dict.
    """
    out: dict[str, SearchResult] = {}
    stale: dict[str, str] = {}
    rest: dict[str, str] = {}
    for item, key in keys.items():
        answer, state = edge.get(key)
        metrics.record_cache("edge", hit=answer is not None)
        if answer is None:
            rest[item] = key
            continue
        out[item] = answer.labelled(cached=True, cache_source=state)
        if state == "EDGE_STALE":
            stale[item] = key
    if stale:
        _revalidate_many(kind, stale, loader, keep)

    shared = kv_get_many(list(rest.values()))
    misses: dict[str, str] = {}
    for item, key in rest.items():
        value = shared.get(key)
        metrics.record_cache("kv", hit=value is not None)
        if value is None:
            misses[item] = key
            continue
        out[item] = _edge_fill(kind, key, value).labelled(cached=True, cache_source="KV")

    if catalog is not None:
        for item, key in list(misses.items()):
            answer = _from_catalog(lambda item=item: catalog(item), kind=kind, key=key)
            if answer is not None:
                out[item] = answer.labelled(cached=True, cache_source="CATALOG")
                del misses[item]

    led, awaited = claim(misses)
    loaded = _load_claimed(kind, misses, led, loader, deadline, keep)
    out.update({item: answer.labelled(cached=False, cache_source=None) for item, answer in loaded.items()})
    for item, future in awaited.items():
        try:
            answer, from_shared = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except (FutureTimeout, Exception):  # the other load failed or is late: no answer
            logger.info("concurrent load of %s gave no answer in time", misses[item], exc_info=True)
            continue
        out[item] = answer.labelled(cached=from_shared, cache_source="KV" if from_shared else None)
    return out


# --- metrics and tests ------------------------------------------------------------------------------------


def cache_tier_stats(period: str = "1h") -> dict[str, Any]:
    """Hit rates per tier from the shared metrics counters (all processes)."""
    totals = metrics.read_totals(period)
    tiers: dict[str, Any] = {}
    for tier in ("edge", "kv", "catalog"):
        hits = int(totals.get(f"cache|{tier}|hit", 0))
        misses = int(totals.get(f"cache|{tier}|miss", 0))
        lookups = hits + misses
        tiers[tier] = {
            "hits": hits,
            "misses": misses,
            "hitRate": round(hits / lookups, 4) if lookups else 0.0,
        }
    requests = tiers["edge"]["hits"] + tiers["edge"]["misses"]
    served = tiers["edge"]["hits"] + tiers["kv"]["hits"] + tiers["catalog"]["hits"]
    return {
        "period": period,
        "tiers": tiers,
        "overall": {"lookups": requests, "hitRate": round(served / requests, 4) if requests else 0.0},
        "edgeEntries": len(edge),
    }


def cache_reset_local() -> None:
    edge.clear()
    coalesce_reset()
    with _refreshing_lock:
        _refreshing.clear()
