"""Cache tiers for search answers (CONTRACT 7): edge LRU -> shared cache (KV) -> catalog -> providers.

- Edge: a small in-process LRU. Fresh for EDGE_FRESH_SECONDS (EDGE_FRESH), then served stale
  (EDGE_STALE) while a background refresh re-reads the shared tier.
- KV: Django's cache (Redis in service mode, local memory in embedded mode).
- CATALOG: the stored catalog, for ISBN lookups (a callable passed by the service).
- Misses are coalesced: concurrent identical misses make one upstream call, in process (a per-key
  future) and across processes in service mode (Redis `SET NX PX` lock; waiters poll the shared cache).

TTLs: per kind (title 7 d, ISBN 365 d, author 7 d, enrichment 180 d), x2 for high-quality data, x0.5
for low quality, +-10 % jitter; "not found" and degraded answers 5 minutes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import random
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache as django_cache

from booktrack.core import metrics
from booktrack.core.redis import get_redis
from search import conf
from search.dto import SearchResult

logger = logging.getLogger(__name__)

KEY_VERSION = "v1"


def cache_key(kind: str, *parts: Any) -> str:
    try:
        return _cache_key_memo(kind, parts)  # hot keys (a popular ISBN) are hashed once
    except TypeError:  # an unhashable part
        return _cache_key(kind, parts)


def query_key(text: str | None) -> str:
    """A query as a cache key part: case and spacing do not matter; accents and punctuation do.

    "Dune" and " dune " share an answer; "C++" and "C#", "Brontë" and "Bronte" do not (the providers
    answer them differently, and CONTRACT 4 keeps accents). Lower-cased, not case-folded: folding
    would also merge "Straße" with "Strasse".
    """
    return " ".join(unicodedata.normalize("NFC", text).lower().split()) if text else ""


def _cache_key(kind: str, parts: tuple[Any, ...]) -> str:
    digest = hashlib.sha1(json.dumps(parts, ensure_ascii=False, default=str).encode(), usedforsecurity=False)
    return f"search:{KEY_VERSION}:{kind}:{digest.hexdigest()}"


_cache_key_memo = functools.lru_cache(maxsize=8192, typed=True)(_cache_key)  # typed: 1, 1.0, True differ


def result_quality(result: Any) -> str:
    """`high` (ISBN, cover and description all present on the top hit), `low` (at most one), else `normal`."""
    hits = getattr(result, "hits", None)
    if not hits:
        return "normal"
    top = hits[0]
    present = sum(
        bool(x)
        for x in (top.edition.isbn, top.work.cover_image_url or top.edition.cover_image_url, top.work.description)
    )
    return "high" if present == 3 else "low" if present <= 1 else "normal"


# A provisional answer (SearchResult.provisional: a background task is completing it and writes the
# completed answer to the shared tier) is fresh on the edge for a few seconds only, so every process
# revalidates it from the shared tier and serves the completed answer seconds after the task wrote it
# (while a hot answer is still served from the edge: a revalidation is one background read); it is
# stored in the shared tier only where nothing is (the task may have finished first), and briefly, like
# a degraded answer: if the task's write is lost, a miss after this reads the catalog, which the task
# completed.
PROVISIONAL_EDGE_FRESH_SECONDS = 5
PROVISIONAL_TTL_SECONDS = 300


def cache_ttl(*, kind: str, result: Any, rng: random.Random | None = None) -> int:
    """Seconds to keep an answer in the shared tier."""
    rng = rng or random
    if getattr(result, "degraded", ()):
        base = float(conf.DEGRADED_TTL)
    elif not getattr(result, "found", True):
        base = float(conf.NOT_FOUND_TTL)
    elif getattr(result, "provisional", False):
        base = float(PROVISIONAL_TTL_SECONDS)
    else:
        base = float(conf.TTL_SECONDS.get(kind, conf.TTL_SECONDS["title"]))
        base *= {"high": 2.0, "low": 0.5}.get(result_quality(result), 1.0)
    return max(1, int(base * rng.uniform(0.9, 1.1)))


# --- edge --------------------------------------------------------------------------------------


@dataclass
class _EdgeEntry:
    value: Any
    fresh_until: float
    stale_until: float
    weight: int = 1


def _weight(value: Any) -> int:
    """What an answer costs the edge tier: its hits (a 100-book title window weighs 100)."""
    return max(1, len(getattr(value, "hits", ()) or ()))


class EdgeCache:
    """A thread-safe LRU with fresh and stale windows, bounded by entries and by hits held in total
    (so memory stays bounded however large each answer is)."""

    def __init__(
        self, max_entries: int, clock: Callable[[], float] = time.monotonic, *, max_weight: int | None = None
    ) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight
        self.clock = clock  # monotonic seconds; injectable so fresh/stale windows are testable without waiting
        self._lock = threading.Lock()
        self._data: OrderedDict[str, _EdgeEntry] = OrderedDict()
        self._weight = 0

    def get(self, key: str) -> tuple[Any, str | None]:
        now = self.clock()
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None, None
            if now >= entry.stale_until:
                self._weight -= self._data.pop(key).weight
                return None, None
            self._data.move_to_end(key)
            return entry.value, "EDGE_FRESH" if now < entry.fresh_until else "EDGE_STALE"

    def set(self, key: str, value: Any, ttl: int) -> None:
        now = self.clock()
        fresh = min(ttl, conf.EDGE_FRESH_SECONDS)
        if getattr(value, "provisional", False):
            fresh = min(fresh, PROVISIONAL_EDGE_FRESH_SECONDS)
        stale = max(fresh, min(ttl, conf.EDGE_STALE_SECONDS))
        entry = _EdgeEntry(value, now + fresh, now + stale, _weight(value))
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


edge = EdgeCache(conf.EDGE_MAX_ENTRIES, max_weight=conf.EDGE_MAX_HITS)


# --- shared tier ---------------------------------------------------------------------------------


def kv_get(key: str) -> Any:
    try:
        return django_cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage degrades to the next tier
        logger.warning("shared cache read failed", exc_info=True)
        return None


def kv_get_many(keys: Sequence[str]) -> dict[str, Any]:
    """Present keys -> values, in one round trip; {} when the shared cache is down."""
    if not keys:
        return {}
    try:
        return django_cache.get_many(list(keys))
    except Exception:  # noqa: BLE001 - a cache outage degrades to the next tier
        logger.warning("shared cache read failed", exc_info=True)
        return {}


def kv_add(key: str, value: Any, ttl: int) -> None:
    """Store `value` only where the shared cache holds nothing for `key`."""
    try:
        django_cache.add(key, value, ttl)
    except Exception:  # noqa: BLE001
        logger.warning("shared cache write failed", exc_info=True)


def kv_set(key: str, value: Any, ttl: int) -> None:
    try:
        django_cache.set(key, value, ttl)
    except Exception:  # noqa: BLE001
        logger.warning("shared cache write failed", exc_info=True)


# --- coalescing --------------------------------------------------------------------------------

_inflight: dict[str, Future] = {}
_inflight_lock = threading.Lock()


def _coalesce_local(key: str, compute: Callable[[], Any]) -> tuple[Any, bool]:
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


def _coalesce_across_processes(
    key: str, loader: Callable[[], Any], store: Callable[[Any], None], deadline: float
) -> tuple[Any, bool]:
    """(value, from_shared_cache?) - one process loads; the others poll the shared cache for its answer."""
    client = get_redis()
    if client is None:
        value = loader()
        store(value)
        return value, False
    lock_key = f"{key}:lock"
    token = f"{time.time()}:{threading.get_ident()}:{random.random()}"
    try:
        acquired = bool(client.set(lock_key, token, nx=True, px=int(conf.COALESCE_LOCK_SECONDS * 1000)))
    except Exception:  # noqa: BLE001 - no lock store: just load
        acquired = True
        client = None
    if not acquired:
        while time.monotonic() < deadline:
            time.sleep(conf.COALESCE_POLL_SECONDS)
            value = kv_get(key)
            if value is not None:
                return value, True
            try:
                if not client.exists(lock_key):
                    value = kv_get(key)
                    if value is not None:
                        return value, True
                    break  # the leader gave up without an answer: load ourselves
            except Exception:  # noqa: BLE001
                break
    try:
        value = loader()
        store(value)
        return value, False
    finally:
        if acquired and client is not None:
            try:
                if client.get(lock_key) == token.encode():
                    client.delete(lock_key)
            except Exception:  # noqa: BLE001
                logger.debug("could not release %s", lock_key, exc_info=True)


# --- the tiered read -------------------------------------------------------------------------------


def _store(kind: str, key: str, result: SearchResult) -> None:
    ttl = cache_ttl(kind=kind, result=result)
    value = result.with_cache(cached=False, cache_source=None)
    (kv_add if getattr(result, "provisional", False) else kv_set)(key, value, ttl)
    edge.set(key, value, ttl)


# Keys with a background edge refresh running: a burst of stale hits starts one refresh, not a
# thread per hit.
_refreshing: set[str] = set()
_refreshing_lock = threading.Lock()


def _revalidate(kind: str, key: str, loader: Callable[[float], SearchResult]) -> None:
    with _refreshing_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def store_refresh(value: Any) -> None:
        # A partial answer (some provider failed) must not replace the complete one being served: keep
        # serving it stale (bounded by the stale window) and let a later hit try again.
        if getattr(value, "degraded", ()):
            return
        _store(kind, key, value)

    def run() -> None:
        try:
            value = kv_get(key)
            if value is not None:
                edge.set(key, value, cache_ttl(kind=kind, result=value))
                return
            deadline = time.monotonic() + conf.DEADLINE_SECONDS
            _coalesce_local(
                key, lambda: _coalesce_across_processes(key, lambda: loader(deadline), store_refresh, deadline)
            )
        except Exception:  # noqa: BLE001
            logger.info("edge revalidation of %s failed", key, exc_info=True)
        finally:
            with _refreshing_lock:
                _refreshing.discard(key)

    try:
        threading.Thread(target=run, name="search-edge-revalidate", daemon=True).start()
    except RuntimeError:  # cannot start a thread (interpreter shutdown): serve stale, refresh later
        with _refreshing_lock:
            _refreshing.discard(key)


def _from_catalog(read: Callable[[], SearchResult | None], *, kind: str, key: str) -> SearchResult | None:
    """The catalog tier: an answer it holds is stored in the tiers above and labelled CATALOG."""
    try:
        value = read()
    except Exception:  # noqa: BLE001 - a database hiccup falls through to the providers
        logger.warning("catalog read failed", exc_info=True)
        value = None
    metrics.record_cache("catalog", hit=value is not None)
    if value is None:
        return None
    _store(kind, key, value)
    return value.with_cache(cached=True, cache_source="CATALOG")


def cached_fetch(
    *,
    kind: str,
    key: str,
    loader: Callable[[float], SearchResult],
    deadline: float,
    catalog: Callable[[], SearchResult | None] | None = None,
) -> SearchResult:
    """Answer from the first tier that has `key`, else load once (coalesced) and fill the tiers."""
    value, state = edge.get(key)
    if value is not None:
        metrics.record_cache("edge", hit=True)
        if state == "EDGE_STALE":
            _revalidate(kind, key, loader)
        return value.with_cache(cached=True, cache_source=state)
    metrics.record_cache("edge", hit=False)

    value = kv_get(key)
    metrics.record_cache("kv", hit=value is not None)
    if value is not None:
        edge.set(key, value, cache_ttl(kind=kind, result=value))
        return value.with_cache(cached=True, cache_source="KV")

    if catalog is not None:
        value = _from_catalog(catalog, kind=kind, key=key)
        if value is not None:
            return value

    def compute() -> tuple[SearchResult, bool]:
        return _coalesce_across_processes(key, lambda: loader(deadline), lambda v: _store(kind, key, v), deadline)

    (result, from_shared), _leader = _coalesce_local(key, compute)
    if from_shared:
        return result.with_cache(cached=True, cache_source="KV")
    return result.with_cache(cached=False, cache_source=None)


# --- many keys at once (batch ISBN lookups) -------------------------------------------------------------

BatchLoader = Callable[[list[str], float], Mapping[str, SearchResult]]


def _claim(keys: Mapping[str, str]) -> tuple[dict[str, Future], dict[str, Future]]:
    """(item -> future this caller must resolve, item -> future another caller in this process is loading)."""
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


def _load_claimed(
    kind: str,
    keys: Mapping[str, str],
    led: dict[str, Future],
    loader: BatchLoader,
    deadline: float,
    keep: Callable[[SearchResult], bool],
) -> dict[str, SearchResult]:
    """Load the claimed items in ONE loader call, store each answer `keep` accepts, resolve the futures."""
    results: dict[str, SearchResult] = {}
    try:
        if led:
            results = dict(loader(list(led), deadline))
        for item in led:
            if item in results and keep(results[item]):
                _store(kind, keys[item], results[item])
    except BaseException as exc:
        for future in led.values():
            if not future.done():
                future.set_exception(exc)
        raise
    finally:
        for item, future in led.items():
            if not future.done():
                if item in results:
                    # The same (value, from_shared_cache) pair `cached_fetch` leaders publish.
                    future.set_result((results[item], False))
                else:
                    future.set_exception(LookupError(f"batch loader gave no answer for {item!r}"))
        with _inflight_lock:
            for item in led:
                if _inflight.get(keys[item]) is led[item]:
                    del _inflight[keys[item]]
    return results


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
                    edge.set(key, shared[key], cache_ttl(kind=kind, result=shared[key]))
                    del todo[item]
            led, _ = _claim(todo)  # keys someone else is loading get their answer from that load
            deadline = time.monotonic() + conf.DEADLINE_SECONDS
            # A partial (degraded) refresh never replaces the complete answer being served.
            _load_claimed(kind, todo, led, loader, deadline, lambda r: keep(r) and not r.degraded)
        except Exception:  # noqa: BLE001
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
        value, state = edge.get(key)
        metrics.record_cache("edge", hit=value is not None)
        if value is None:
            rest[item] = key
            continue
        out[item] = value.with_cache(cached=True, cache_source=state)
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
        edge.set(key, value, cache_ttl(kind=kind, result=value))
        out[item] = value.with_cache(cached=True, cache_source="KV")

    if catalog is not None:
        for item, key in list(misses.items()):
            value = _from_catalog(lambda item=item: catalog(item), kind=kind, key=key)
            if value is not None:
                out[item] = value
                del misses[item]

    led, awaited = _claim(misses)
    loaded = _load_claimed(kind, misses, led, loader, deadline, keep)
    out.update({item: value.with_cache(cached=False, cache_source=None) for item, value in loaded.items()})
    for item, future in awaited.items():
        try:
            value, from_shared = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except (FutureTimeout, Exception):  # noqa: BLE001 - the other load failed or is late: no answer
            logger.info("concurrent load of %s gave no answer in time", misses[item], exc_info=True)
            continue
        out[item] = value.with_cache(cached=from_shared, cache_source="KV" if from_shared else None)
    return out


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
    with _inflight_lock:
        _inflight.clear()
    with _refreshing_lock:
        _refreshing.clear()
