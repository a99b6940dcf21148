"""Shared fixtures for every test module."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from booktrack.core import metrics
from booktrack.core.health import health_reset
from booktrack.core.http import reset_clients
from booktrack.core.limits import body_limit_for_path
from booktrack.core.ratelimit import reset_local_windows
from enrichment import search_decoration


@pytest.fixture(autouse=True)
def _isolated_state():
    """Each test starts with empty caches, counters and rate-limit windows."""
    cache.clear()
    search_decoration.memo_clear()
    metrics.reset_local()
    reset_local_windows()
    reset_clients()
    body_limit_for_path.cache_clear()
    health_reset()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


# --- search through the local upstream fakes (tests/search makes search_state autouse) ---------


@pytest.fixture
def search_state(settings):
    """Empty search tiers, budgets, clients and metrics; Celery eager; rate limits off."""
    from django.core.cache import cache

    from booktrack.celery import app
    from booktrack.core import metrics
    from booktrack.core.http import reset_clients
    from search.budgets import budget_reset_local
    from search.cache.tiers import cache_reset_local

    settings.RATE_LIMIT_ENABLED = False
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    cache.clear()
    cache_reset_local()
    budget_reset_local()
    reset_clients()
    metrics.reset_local()
    yield
    cache_reset_local()
    reset_clients()
    app.conf.task_always_eager = eager


@pytest.fixture(scope="session")
def fake_server():
    from tests.fakes.server import FakeUpstreams

    fake = FakeUpstreams(port=0)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server, settings, search_state):
    """The local upstream fakes, wired into settings (ISBNdb enabled with a key)."""
    from booktrack.core.http import reset_clients

    fake_server.reset()
    for name, url in fake_server.base_urls.items():
        setattr(settings, name, url)
    settings.ISBNDB_API_KEY = "test-key"
    reset_clients()
    yield fake_server
    fake_server.reset()


# --- what the outbound client did (booktrack.core.http), observed instead of timed -----------------


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Every wait the outbound client chose (Retry-After, backoff), recorded instead of slept."""
    import time
    import types

    from booktrack.core import http

    waited: list[float] = []
    clock = types.SimpleNamespace(monotonic=time.monotonic, perf_counter=time.perf_counter, sleep=waited.append)
    monkeypatch.setattr(http, "time", clock)
    return waited


@pytest.fixture
def upstream_outcomes(monkeypatch) -> list[tuple[str, int | str]]:
    """(upstream, outcome) of every outbound call in order: an HTTP status, "timeout", "deadline" (cut
    by our own deadline), "breaker_open"..."""
    from booktrack.core import metrics

    seen: list[tuple[str, int | str]] = []
    original = metrics.record_upstream_call

    def spy(upstream, *, status, latency_ms):
        seen.append((upstream, status))
        original(upstream, status=status, latency_ms=latency_ms)

    monkeypatch.setattr(metrics, "record_upstream_call", spy)
    return seen
