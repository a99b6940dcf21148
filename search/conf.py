"""Search settings read from the environment (documented in docs/search.md), with sane defaults.

Kept here, not in booktrack/settings, so the search app owns its knobs. Read once, when this module is
imported: changing the environment afterwards changes nothing. The search modules read `conf.NAME`
when they use it, so tests monkeypatch these attributes (the edge tier's size is fixed when
search.cache.tiers is imported).
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


# Outbound budgets shared by every process (CONTRACT 4 upstreams; OpenLibrary asks for <= 3 req/s).
OPENLIBRARY_RPS = _int("SEARCH_OPENLIBRARY_RPS", 3)
ISBNDB_RPS = _int("SEARCH_ISBNDB_RPS", 1)
GOOGLE_BOOKS_DAILY_QUOTA = _int("SEARCH_GOOGLE_BOOKS_DAILY_QUOTA", 1000)
# Share of a budget background callers (Celery workers) may use; the rest is kept for interactive search.
BACKGROUND_SHARE = _float("SEARCH_BUDGET_BACKGROUND_SHARE", 0.6)
# Longest a background caller waits for a budget slot before skipping the provider (seconds).
BACKGROUND_MAX_WAIT = _float("SEARCH_BUDGET_BACKGROUND_MAX_WAIT", 5.0)

# One total deadline for a search fan-out (seconds).
DEADLINE_SECONDS = _float("SEARCH_DEADLINE_SECONDS", 6.0)
FANOUT_WORKERS = _int("SEARCH_FANOUT_WORKERS", 32)

# Edge (in-process LRU): entries, and how long an entry is fresh before it is served stale
# while being revalidated from the shared cache.
EDGE_MAX_ENTRIES = _int("SEARCH_EDGE_MAX_ENTRIES", 2048)
# Hits held by the edge tier in all (an answer weighs its hits): bounds its memory (~5-10 KB a hit).
EDGE_MAX_HITS = _int("SEARCH_EDGE_MAX_HITS", 40_000)
EDGE_FRESH_SECONDS = _int("SEARCH_EDGE_FRESH_SECONDS", 300)
EDGE_STALE_SECONDS = _int("SEARCH_EDGE_STALE_SECONDS", 3600)

# Catalog records younger than this answer ISBN lookups without calling a provider (days).
CATALOG_FRESH_DAYS = _int("SEARCH_CATALOG_FRESH_DAYS", 30)

# Cross-process coalescing: lock lifetime and how long waiters poll the shared cache (seconds).
COALESCE_LOCK_SECONDS = _float("SEARCH_COALESCE_LOCK_SECONDS", 15.0)
COALESCE_POLL_SECONDS = _float("SEARCH_COALESCE_POLL_SECONDS", 0.05)

# Cache TTLs (seconds) per kind (CONTRACT 7).
DAY = 86400
TTL_SECONDS = {
    "title": _int("SEARCH_TTL_TITLE", 7 * DAY),
    "advanced": _int("SEARCH_TTL_TITLE", 7 * DAY),
    "editions": _int("SEARCH_TTL_TITLE", 7 * DAY),
    "isbn": _int("SEARCH_TTL_ISBN", 365 * DAY),
    "author": _int("SEARCH_TTL_AUTHOR", 7 * DAY),
    "enrichment": _int("SEARCH_TTL_ENRICHMENT", 180 * DAY),
}
NOT_FOUND_TTL = _int("SEARCH_TTL_NOT_FOUND", 300)
# An answer some provider failed to contribute to is cached briefly, so it heals soon.
DEGRADED_TTL = _int("SEARCH_TTL_DEGRADED", 300)
