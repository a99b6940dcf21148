"""The one fixed-window counter behind per-IP rate limits and outbound budgets."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from booktrack.core.windows import FixedWindowCounter

T0 = 1_700_000_020.0  # 40 s into a 60 s window


def test_counter_counts_within_a_window_and_starts_over_in_the_next():
    counter = FixedWindowCounter("t")
    states = [counter.hit("ip", limit=2, window=60, now=T0 + i) for i in range(3)]
    assert [s.count for s in states] == [1, 2, 3]
    assert [s.allowed for s in states] == [True, True, False]
    assert [s.remaining for s in states] == [1, 0, 0]
    assert states[0].reset_at == T0 + 20  # aligned to the clock, not to the first hit
    assert states[2].retry_after == 18  # 60 - 42 seconds
    after = counter.hit("ip", limit=2, window=60, now=T0 + 20)
    assert after.count == 1 and after.allowed


def test_counter_counts_amounts_and_gives_units_back():
    counter = FixedWindowCounter("t")
    assert counter.hit("client", limit=100, window=3600, now=T0, amount=60).count == 60
    over = counter.hit("client", limit=100, window=3600, now=T0, amount=50)
    assert over.count == 110 and not over.allowed and over.remaining == 0
    assert counter.hit("client", limit=100, window=3600, now=T0, amount=-50).count == 60
    assert counter.peek("client", limit=100, window=3600, now=T0).remaining == 40


def test_counter_keeps_names_and_window_lengths_apart():
    counter = FixedWindowCounter("t")
    counter.hit("a", limit=5, window=60, now=T0)
    assert counter.hit("b", limit=5, window=60, now=T0).count == 1
    assert counter.hit("a", limit=5, window=1, now=T0).count == 1
    assert counter.peek("a", limit=5, window=60, now=T0).count == 1  # peek does not count


def test_daily_window_is_the_utc_day():
    counter = FixedWindowCounter("t")
    state = counter.hit("google", limit=1, window=86400, now=1_700_000_000.0)  # 2023-11-14 22:13:20 UTC
    assert state.reset_at == 1_700_006_400.0  # 2023-11-15 00:00:00 UTC
    assert counter.hit("google", limit=1, window=86400, now=1_700_006_399.0).count == 2
    assert counter.hit("google", limit=1, window=86400, now=1_700_006_400.0).count == 1


def test_counter_is_atomic_across_threads():
    counter = FixedWindowCounter("t")
    seen: list[int] = []

    def hammer() -> None:
        for _ in range(200):
            seen.append(counter.hit("ip", limit=10_000, window=60, now=T0).count)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 1601))  # every hit got its own number


def test_counter_fails_open_when_the_store_is_down(monkeypatch):
    class BrokenRedis:
        def pipeline(self, **kwargs):
            raise ConnectionError("redis down")

        def get(self, key):
            raise ConnectionError("redis down")

    monkeypatch.setattr("booktrack.core.windows.get_redis", lambda: BrokenRedis())
    counter = FixedWindowCounter("t")
    states = [counter.hit("ip", limit=1, window=60, now=T0) for _ in range(3)]
    assert all(s.allowed and not s.store_ok and s.remaining == 1 for s in states)
    assert counter.peek("ip", limit=1, window=60, now=T0).count == 0


def test_counter_is_shared_through_redis(settings):
    """Service mode: two counters (as in two processes, nothing shared in memory) see one count."""
    redis = pytest.importorskip("redis")
    url = os.environ.get("IT_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        redis.Redis.from_url(url).ping()
    except Exception:
        pytest.skip(f"no Redis at {url}")
    from booktrack.core.redis import reset_redis

    settings.REDIS_URL = url
    reset_redis()
    name = uuid.uuid4().hex
    try:
        first, second = FixedWindowCounter("t"), FixedWindowCounter("t")
        assert first.hit(name, limit=2, window=60, now=T0).count == 1
        assert second.hit(name, limit=2, window=60, now=T0).count == 2
        refused = first.hit(name, limit=2, window=60, now=T0)
        assert not refused.allowed and refused.store_ok
        assert second.peek(name, limit=2, window=60, now=T0).count == 3
        assert first.hit(name, limit=2, window=60, now=T0, amount=50).count == 53  # INCRBY: a batch's units
        assert second.hit(name, limit=2, window=60, now=T0, amount=-50).count == 3  # given back
        ttl = redis.Redis.from_url(url).ttl(f"t:{name}:60:{int(T0 // 60)}")
        assert 0 < ttl <= 61  # the key goes away on its own after its window
    finally:
        reset_redis()
