"""Shared fixtures for every test module."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from booktrack.core import metrics
from booktrack.core.http import reset_clients
from booktrack.core.limits import body_limit_for_path
from booktrack.core.ratelimit import reset_local_windows


@pytest.fixture(autouse=True)
def _isolated_state():
    """Each test starts with empty caches, counters and rate-limit windows."""
    cache.clear()
    metrics.reset_local()
    reset_local_windows()
    reset_clients()
    body_limit_for_path.cache_clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
