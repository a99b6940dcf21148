"""A failing provider degrades the answer, never fails it; coalescing makes one upstream call."""

from __future__ import annotations

import threading
import time

import pytest

from booktrack.core.exceptions import ProviderUnavailable
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
def test_search_degrades_when_openlibrary_fails(fake, knobs, sleeps, upstream_outcomes):
    fake.configure("openlibrary", **knobs)
    result = services.book_search_by_title(query="Dune", deadline=time.monotonic() + 1.5)
    assert result.hits, "the other providers still answer"
    assert "openlibrary" in result.degraded
    assert "openlibrary" not in result.provider
    # The deadline was honoured: no wait reached past it, and a slow answer was cut off, not awaited.
    assert sum(sleeps) < 1.5
    outcomes = [status for upstream, status in upstream_outcomes if upstream == "openlibrary"]
    if "latency_ms" in knobs:
        # Cut off at our deadline (or still in flight), never awaited; not the upstream's failure.
        assert set(outcomes) <= {"deadline"}
    if "retry_after" in knobs:
        assert outcomes == [429] and sleeps == []


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
    from search.cache import tiers

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

    original = tiers.coalesce_local
    tiers.coalesce_local = lambda key, compute: (compute(), True)  # no in-process sharing
    try:
        threads = [threading.Thread(target=process_like) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        tiers.coalesce_local = original
        cache.clear()
        reset_redis()
    assert len(results) == 4 and all(r.hits for r in results)
    assert fake.count("GET /openlibrary/search.json") == 1
    assert sum(1 for r in results if r.cache_source == "KV") == 3


class FakeClock:
    """Budget time under the test's control: `sleep` advances both clocks instead of waiting."""

    def __init__(self, wall: float) -> None:
        self.now = wall
        self.mono = 50_000.0
        self.sleeps: list[float] = []

    def wall(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.mono += seconds


@pytest.fixture
def budget_clock(monkeypatch, settings):
    """OpenLibrary at 3 req/s (background share 3 * 0.6 = 1.8 slots a second: 1 in the first window
    here, then 2, 2, 2, 1, ...), on a fake clock."""
    from search import budgets

    settings.SEARCH_OPENLIBRARY_RPS = 3
    settings.SEARCH_BUDGET_BACKGROUND_SHARE = 0.6
    settings.SEARCH_BUDGET_BACKGROUND_MAX_WAIT = 5.0
    clock = FakeClock(wall=1_700_000_000.0)
    monkeypatch.setattr(budgets, "default_clock", budgets.Clock(clock.wall, clock.monotonic, clock.sleep))
    return clock


# Even 0.999 s into a window (where a real-clock test would straddle two windows) the result is the same.
@pytest.mark.parametrize("into_window", [0.0, 0.5, 0.999])
def test_budget_background_share_spent_skips_provider_interactive_still_passes(budget_clock, into_window):
    from booktrack.core.exceptions import ProviderUnavailable
    from search import budgets

    budget_clock.advance(into_window)
    with budgets.background_priority():
        budgets.budget_acquire(upstream="openlibrary", deadline=budget_clock.mono + 0.0005)
    # The background share is spent for this second and the deadline comes before the next one.
    with pytest.raises(ProviderUnavailable) as excinfo, budgets.background_priority():
        budgets.budget_acquire(upstream="openlibrary", deadline=budget_clock.mono + 0.0005)
    assert excinfo.value.details["provider"] == "openlibrary"
    # Interactive work still has the rest of the same second's budget: two more calls pass, a third does not.
    budgets.budget_acquire(upstream="openlibrary", deadline=budget_clock.mono + 0.0005, priority="interactive")
    budgets.budget_acquire(upstream="openlibrary", deadline=budget_clock.mono + 0.0005, priority="interactive")
    with pytest.raises(ProviderUnavailable):
        budgets.budget_acquire(upstream="openlibrary", deadline=budget_clock.mono + 0.0005, priority="interactive")
    remaining = budgets.budget_remaining()["openlibrary"]
    assert remaining["limit"] == 3 and remaining["remaining"] == 0 and remaining["backgroundLimit"] == 1
    assert budget_clock.sleeps == []


def test_budget_background_share_holds_on_average_when_fractional(budget_clock):
    """60 % of 3 req/s is 1.8 calls a second: over 10 seconds background work makes 18 calls (flooring the
    share to 1 a second made 10, a third of the budget), and never more than 2 in one second."""
    from search import budgets

    per_second: dict[int, int] = {}
    start = budget_clock.now
    with budgets.background_priority():
        while budget_clock.now < start + 10:
            budgets.budget_acquire(upstream="openlibrary", deadline=None)
            if budget_clock.now < start + 10:
                second = int(budget_clock.now)
                per_second[second] = per_second.get(second, 0) + 1
    assert sum(per_second.values()) == 18
    assert max(per_second.values()) == 2 and min(per_second.values()) == 1
    # Interactive work keeps at least one slot of every second.
    assert all(count <= 2 for count in per_second.values())


def test_budget_background_waits_for_the_next_window_within_max_wait(budget_clock):
    from search import budgets

    budget_clock.advance(0.25)
    with budgets.background_priority():
        budgets.budget_acquire(upstream="openlibrary", deadline=None)
        budgets.budget_acquire(upstream="openlibrary", deadline=None)  # waits for the next second
    assert len(budget_clock.sleeps) == 1 and 0.75 <= budget_clock.sleeps[0] <= 0.76
    assert budget_clock.now >= 1_700_000_001.0
    assert budgets.budget_remaining()["openlibrary"]["used"] == 1  # counted in the new window


def test_budget_background_gives_up_after_max_wait(budget_clock, settings):
    from booktrack.core.exceptions import ProviderUnavailable
    from search import budgets

    settings.SEARCH_BUDGET_BACKGROUND_MAX_WAIT = 0.5
    with budgets.background_priority():
        budgets.budget_acquire(upstream="openlibrary", deadline=None)
        with pytest.raises(ProviderUnavailable) as excinfo:
            budgets.budget_acquire(upstream="openlibrary", deadline=None)  # next slot in 1 s > 0.5 s
    assert excinfo.value.details["retryAfter"] == 1
    assert budget_clock.sleeps == []


def test_budget_interactive_waits_for_next_window_before_its_deadline(budget_clock):
    from search import budgets

    budget_clock.advance(0.9)
    for _ in range(4):  # 3 in this second, the 4th in the next one
        budgets.budget_acquire(upstream="openlibrary", deadline=budget_clock.mono + 2.0, priority="interactive")
    assert len(budget_clock.sleeps) == 1 and budget_clock.sleeps[0] == pytest.approx(0.105, abs=0.001)


def test_budget_google_daily_quota_spent_fails_at_once(budget_clock, settings):
    from booktrack.core.exceptions import ProviderUnavailable
    from search import budgets

    settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA = 2
    budgets.budget_acquire(upstream="google-books", deadline=None, priority="interactive")
    budgets.budget_acquire(upstream="google-books", deadline=None, priority="interactive")
    with pytest.raises(ProviderUnavailable):
        budgets.budget_acquire(upstream="google-books", deadline=None, priority="interactive")
    assert budget_clock.sleeps == []  # never waits for tomorrow
    budget_clock.advance(86_400)
    budgets.budget_acquire(upstream="google-books", deadline=None, priority="interactive")  # a new day


def _recover(fake) -> None:
    from booktrack.core.http import reset_clients

    fake.reset()
    reset_clients()  # close the circuit breakers the outage opened


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/search/title", {"q": "Dune"}),
        ("/v1/search/isbn", {"isbn": "9780441172719"}),
        ("/v3/books/9780441172719", {}),
        ("/search/title", {"q": "Dune"}),
    ],
)
def test_total_outage_is_503_and_not_cached(client, fake, path, params):
    fake.configure("all", status=503)
    response = client.get(path, params)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "PROVIDER_UNAVAILABLE"

    _recover(fake)
    response = client.get(path, params)
    assert response.status_code == 200
    body = response.json()
    if path.startswith("/v1/"):
        assert body["data"]["works"] and body["metadata"]["provider"] != "none"
        assert body["metadata"]["cached"] is False
    elif path.startswith("/v3/"):
        assert body["data"]["isbn"] == "9780441172719"
    else:
        assert body["items"]


def test_total_outage_service_raises_and_partial_outage_still_answers(fake):
    fake.configure("all", status=500)
    with pytest.raises(ProviderUnavailable):
        services.book_search_by_title(query="Dune", deadline=time.monotonic() + 3)
    _recover(fake)
    fake.configure("openlibrary", status=500)
    result = services.book_search_by_title(query="Dune", deadline=time.monotonic() + 3)
    assert result.hits and "openlibrary" in result.degraded
