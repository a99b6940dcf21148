"""Edge tier stale-while-revalidate (CONTRACT 7), on a fake edge clock instead of waiting minutes."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
import responses
from django.core.cache import cache as django_cache

from search import services
from search.cache import tiers
from tests.factories import google_volume, google_volumes

GOOGLE_VOLUMES = "http://upstream.test/google/books/v1/volumes"
OL_SEARCH = "http://upstream.test/openlibrary/search.json"
REFRESH_THREAD = "search-edge-revalidate"

pytestmark = pytest.mark.django_db


def volumes(description: str) -> dict:
    """Google's answer: one book, Annihilation, with this description."""
    book = google_volume(
        title="Annihilation",
        isbn13="9780374104092",
        authors=("Jeff VanderMeer",),
        description=description,
        volume_id="annihilation1",
    )
    return google_volumes(book)


class EdgeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def edge_clock(monkeypatch, settings):
    settings.ISBNDB_API_KEY = None
    settings.SEARCH_EDGE_FRESH_SECONDS = 300
    settings.SEARCH_EDGE_STALE_SECONDS = 3600
    clock = EdgeClock()
    monkeypatch.setattr(tiers.edge, "clock", clock)
    return clock


@pytest.fixture
def upstream():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(OL_SEARCH, json={"numFound": 0, "docs": []})
        yield mock


def google_calls(upstream) -> int:
    return sum(1 for c in upstream.calls if c.request.url.startswith(GOOGLE_VOLUMES))


def refresh_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == REFRESH_THREAD]


def join_refreshes() -> None:
    for thread in refresh_threads():
        thread.join(timeout=10)
    assert not refresh_threads()


def search():
    return services.book_search_by_title(query="Annihilation")


def test_edge_fresh_then_stale_then_fresh_again_after_one_upstream_refresh(upstream, edge_clock, settings):
    """Shared tier expired too: the stale answer is served at once; one refresh reaches the upstream."""
    upstream.get(GOOGLE_VOLUMES, json=volumes("old description"))
    first = search()
    assert first.cached is False and google_calls(upstream) == 1
    edge_clock.now += 100
    assert search().cache_source == "EDGE_FRESH"

    edge_clock.now += settings.SEARCH_EDGE_FRESH_SECONDS  # past fresh, within stale
    django_cache.clear()  # the shared copy is gone: the refresh must ask the provider
    release = threading.Event()
    refreshed = volumes("new description")

    def slow_google(request):
        release.wait(timeout=10)
        return 200, {"Content-Type": "application/json"}, json.dumps(refreshed)

    upstream.remove(responses.GET, GOOGLE_VOLUMES)
    upstream.add_callback(responses.GET, GOOGLE_VOLUMES, callback=slow_google)
    try:
        # The upstream is blocked, yet every stale hit answers now, with the old data.
        burst = [search() for _ in range(10)]
        assert {r.cache_source for r in burst} == {"EDGE_STALE"}
        assert all(r.cached is True and r.hits[0].work.description == "old description" for r in burst)
        assert len(refresh_threads()) == 1  # one refresh for the burst, not a thread per hit
    finally:
        release.set()
    join_refreshes()
    assert google_calls(upstream) == 2  # the first load + exactly one refresh

    after = search()
    assert after.cache_source == "EDGE_FRESH"
    assert after.hits[0].work.description == "new description"
    assert google_calls(upstream) == 2


def test_edge_stale_refresh_takes_a_newer_shared_copy_without_an_upstream_call(upstream, edge_clock, settings):
    """Another process refreshed the shared tier: the stale edge entry is renewed from it."""
    upstream.get(GOOGLE_VOLUMES, json=volumes("old description"))
    search()
    (key,) = list(tiers.edge._data)
    newer = search()  # the edge copy, as a template
    hit = newer.hits[0]
    updated = replace(newer, hits=(replace(hit, work=replace(hit.work, description="from another process")),))
    django_cache.set(key, updated.with_cache(cached=False, cache_source=None), 3600)

    edge_clock.now += settings.SEARCH_EDGE_FRESH_SECONDS + 1
    stale = search()
    assert stale.cache_source == "EDGE_STALE" and stale.hits[0].work.description == "old description"
    join_refreshes()
    fresh = search()
    assert fresh.cache_source == "EDGE_FRESH" and fresh.hits[0].work.description == "from another process"
    assert google_calls(upstream) == 1


def test_edge_past_stale_window_falls_through_to_the_shared_tier(upstream, edge_clock, settings):
    upstream.get(GOOGLE_VOLUMES, json=volumes("d"))
    search()
    edge_clock.now += settings.SEARCH_EDGE_STALE_SECONDS + 1
    result = search()
    assert result.cache_source == "KV" and result.cached is True
    assert not refresh_threads()
    assert search().cache_source == "EDGE_FRESH"  # the edge was refilled from the shared tier
    assert google_calls(upstream) == 1


def test_edge_stale_refresh_during_an_outage_keeps_the_good_answer(upstream, edge_clock, settings):
    """A refresh that comes back degraded (provider 5xx) must not replace a complete answer with a worse one."""
    settings.OUTBOUND_HTTP = {**settings.OUTBOUND_HTTP, "MAX_RETRIES": 0}
    upstream.get(GOOGLE_VOLUMES, json=volumes("old description"))
    search()
    edge_clock.now += settings.SEARCH_EDGE_FRESH_SECONDS + 1
    django_cache.clear()
    upstream.remove(responses.GET, GOOGLE_VOLUMES)
    upstream.get(GOOGLE_VOLUMES, status=503)
    assert search().cache_source == "EDGE_STALE"
    join_refreshes()
    assert google_calls(upstream) == 2  # the refresh did run
    again = search()
    assert again.cache_source == "EDGE_STALE" and again.hits[0].work.description == "old description"
    join_refreshes()  # and the next stale hit tries again (the key is not stuck as "refreshing")
    assert google_calls(upstream) == 3

    upstream.remove(responses.GET, GOOGLE_VOLUMES)
    upstream.get(GOOGLE_VOLUMES, json=volumes("healed"))
    search()
    join_refreshes()
    healed = search()
    assert healed.cache_source == "EDGE_FRESH" and healed.hits[0].work.description == "healed"
