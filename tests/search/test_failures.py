"""A failing provider degrades the answer, never fails it; coalescing makes one upstream call."""

from __future__ import annotations

import threading
import time

import pytest

from search import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "knobs",
    [
        {"latency_ms": 4000},  # slow past the deadline
        {"status": 500},
        {"malformed": True},
        {"retry_after": 2},  # 429 with Retry-After beyond what the deadline allows
    ],
    ids=["slow", "500", "malformed", "429"],
)
def test_search_degrades_when_openlibrary_fails(fake, knobs):
    fake.configure("openlibrary", **knobs)
    started = time.monotonic()
    result = services.book_search_by_title(query="Dune", deadline=time.monotonic() + 1.5)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert result.hits, "the other providers still answer"
    assert "openlibrary" in result.degraded
    assert "openlibrary" not in result.provider


def test_coalescing_50_concurrent_cold_searches_one_call_per_provider(fake):
    fake.configure("all", latency_ms=200)
    results = []
    barrier = threading.Barrier(50)

    def run():
        barrier.wait()
        results.append(services.book_search_by_title(query="Children of Time", deadline=time.monotonic() + 5))

    threads = [threading.Thread(target=run) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 50 and all(r.hits for r in results)
    assert fake.count("GET /google") == 1
    assert fake.count("GET /openlibrary/search.json") == 1
    assert fake.count("GET /isbndb") == 1


def test_coalescing_across_processes_with_redis(fake, settings):
    """Two 'processes' (separate in-process state) share one upstream call through Redis."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url).ping()
    except Exception:
        pytest.skip("no Redis at 127.0.0.1:6379")
    from booktrack.core.redis import reset_redis
    from search import cache as tiers

    settings.REDIS_URL = url
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url}}
    reset_redis()
    from django.core.cache import cache

    cache.clear()
    fake.configure("all", latency_ms=300)
    results = []

    def process_like():
        # A distinct key space for the in-process future so each thread acts like its own process.
        results.append(services.book_search_by_title(query="Project Hail Mary", deadline=time.monotonic() + 5))

    original = tiers._coalesce_local
    tiers._coalesce_local = lambda key, compute: (compute(), True)  # no in-process sharing
    try:
        threads = [threading.Thread(target=process_like) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        tiers._coalesce_local = original
        cache.clear()
        reset_redis()
    assert len(results) == 4 and all(r.hits for r in results)
    assert fake.count("GET /openlibrary/search.json") == 1
    assert sum(1 for r in results if r.cache_source == "KV") == 3


def test_budget_background_waits_and_skips(settings):
    from booktrack.core.exceptions import ProviderUnavailable
    from search import budgets, conf

    conf.OPENLIBRARY_RPS, old = 3, conf.OPENLIBRARY_RPS
    time.sleep(1.0 - time.time() % 1.0 + 0.01)  # start at a window boundary: all calls share one second
    try:
        with budgets.background_priority():
            budgets.budget_acquire(upstream="openlibrary", deadline=time.monotonic() + 0.05)
        # Background share is floor(3 * 0.6) = 1 per second: the next background call must not pass now.
        with pytest.raises(ProviderUnavailable), budgets.background_priority():
            budgets.budget_acquire(upstream="openlibrary", deadline=time.monotonic() + 0.05)
        # Interactive work still has budget left in the same second.
        budgets.budget_acquire(upstream="openlibrary", deadline=time.monotonic() + 0.05, priority="interactive")
        remaining = budgets.budget_remaining()["openlibrary"]
        assert remaining["limit"] == 3 and remaining["remaining"] <= 1
    finally:
        conf.OPENLIBRARY_RPS = old
