"""Search settings live in booktrack/settings (django-environ); search.conf only reads them."""

from __future__ import annotations

import pytest

from search import budgets, conf


def test_search_settings_come_from_django_settings(settings):
    settings.SEARCH_TTL_DEGRADED = 42
    settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA = 7
    assert conf.DEGRADED_TTL == 42
    assert budgets.budgets()["google-books"].limit == 7


def test_search_conf_refuses_writes_that_would_hide_settings():
    with pytest.raises(AttributeError, match="settings.SEARCH_EDGE_FRESH_SECONDS"):
        conf.EDGE_FRESH_SECONDS = 1


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
