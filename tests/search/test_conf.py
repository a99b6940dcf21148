"""Search settings live in booktrack/settings (django-environ) and are read as settings.SEARCH_*."""

from __future__ import annotations

from types import SimpleNamespace

from search import budgets
from search.cache import ttl


def test_search_settings_come_from_django_settings(settings):
    settings.SEARCH_TTL_NOT_FOUND = 42
    settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA = 7
    not_found = SimpleNamespace(degraded=(), found=False)
    assert 42 * 0.89 <= ttl.cache_ttl(kind="isbn", result=not_found) <= 42 * 1.11
    assert budgets.budgets()["google-books"].limit == 7


def test_search_settings_are_read_from_the_environment(monkeypatch):
    import importlib

    import booktrack.settings.base as base

    monkeypatch.setenv("SEARCH_OPENLIBRARY_RPS", "9")
    monkeypatch.setenv("SEARCH_TTL_TITLE", "60")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.SEARCH_OPENLIBRARY_RPS == 9
        assert reloaded.SEARCH_TTL_SECONDS["advanced"] == 60 and reloaded.SEARCH_TTL_SECONDS["isbn"] == 365 * 86400
    finally:
        monkeypatch.undo()
        importlib.reload(base)
