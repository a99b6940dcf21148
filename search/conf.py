"""The search app's short names for its settings, read from `django.conf.settings` at each access.

The settings themselves live in `booktrack/settings/base.py` (`SEARCH_*`, read from the environment
through django-environ like every other setting, listed in `.env.example`). New code reads
`settings.SEARCH_*` directly; this view remains for the modules that still say `conf.NAME`. It is
read-only: a test changes a value with pytest-django's `settings` fixture (or `override_settings`),
which this view then sees, instead of patching an attribute here.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from django.conf import settings

SETTING_NAMES = {
    "DEADLINE_SECONDS": "SEARCH_DEADLINE_SECONDS",
    "FANOUT_WORKERS": "SEARCH_FANOUT_WORKERS",
    "OPENLIBRARY_RPS": "SEARCH_OPENLIBRARY_RPS",
    "ISBNDB_RPS": "SEARCH_ISBNDB_RPS",
    "GOOGLE_BOOKS_DAILY_QUOTA": "SEARCH_GOOGLE_BOOKS_DAILY_QUOTA",
    "BACKGROUND_SHARE": "SEARCH_BUDGET_BACKGROUND_SHARE",
    "BACKGROUND_MAX_WAIT": "SEARCH_BUDGET_BACKGROUND_MAX_WAIT",
    "EDGE_MAX_ENTRIES": "SEARCH_EDGE_MAX_ENTRIES",
    "EDGE_MAX_HITS": "SEARCH_EDGE_MAX_HITS",
    "EDGE_FRESH_SECONDS": "SEARCH_EDGE_FRESH_SECONDS",
    "EDGE_STALE_SECONDS": "SEARCH_EDGE_STALE_SECONDS",
    "CATALOG_FRESH_DAYS": "SEARCH_CATALOG_FRESH_DAYS",
    "COALESCE_LOCK_SECONDS": "SEARCH_COALESCE_LOCK_SECONDS",
    "COALESCE_POLL_SECONDS": "SEARCH_COALESCE_POLL_SECONDS",
    "TTL_SECONDS": "SEARCH_TTL_SECONDS",
    "NOT_FOUND_TTL": "SEARCH_TTL_NOT_FOUND",
    "DEGRADED_TTL": "SEARCH_TTL_DEGRADED",
}


class _SettingsView(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(settings, SETTING_NAMES[name])
        except KeyError:
            raise AttributeError(f"search.conf has no setting {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SETTING_NAMES:
            raise AttributeError(f"search.conf is read-only: set settings.{SETTING_NAMES[name]} instead")
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _SettingsView
