from __future__ import annotations

import pytest

from booktrack.core import metrics
from booktrack.core.http import reset_clients
from search.budgets import budget_reset_local
from search.cache import cache_reset_local


@pytest.fixture(autouse=True)
def search_clean_state(settings):
    """Every test starts with empty tiers, budgets, clients and metrics."""
    from django.core.cache import cache

    from booktrack.celery import app

    settings.RATE_LIMIT_ENABLED = False
    app.conf.task_always_eager = True
    cache.clear()
    cache_reset_local()
    budget_reset_local()
    reset_clients()
    metrics.reset_local()
    yield
    cache_reset_local()
    reset_clients()
    app.conf.task_always_eager = False


@pytest.fixture(scope="session")
def fake_server():
    from tests.fakes.server import FakeUpstreams

    fake = FakeUpstreams(port=0)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server, settings):
    """The local upstream fakes, wired into settings (ISBNdb enabled with a key)."""
    fake_server.reset()
    for name, url in fake_server.base_urls.items():
        setattr(settings, name, url)
    settings.ISBNDB_API_KEY = "test-key"
    reset_clients()
    yield fake_server
    fake_server.reset()
