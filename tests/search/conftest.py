from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def search_clean_state(search_state):
    """Every search test starts with empty tiers, budgets, clients and metrics (tests/conftest.py)."""
    yield


@pytest.fixture
def upstream(settings):
    """Upstreams faked by `responses` (keyless: no ISBNdb, no Google key); unregistered URLs fail."""
    import responses

    settings.ISBNDB_API_KEY = None
    settings.GOOGLE_BOOKS_API_KEY = None
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def ttls(monkeypatch):
    """The TTL of every write to the shared tier, in order."""
    from search.cache import tiers

    written: list[int] = []
    original = tiers.kv_set

    def spy(key, value, ttl):
        written.append(ttl)
        original(key, value, ttl)

    monkeypatch.setattr(tiers, "kv_set", spy)
    return written
