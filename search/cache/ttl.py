"""How long the shared tier keeps an answer (CONTRACT 7).

Per kind (title 7 d, ISBN 365 d, author 7 d, enrichment 180 d), x2 for high-quality data, x0.5 for
low quality, +-10 % jitter; "not found", degraded and provisional answers 5 minutes.
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings


def result_quality(result: Any) -> str:
    """`high` (ISBN, cover and description all present on the top hit), `low` (at most one), else `normal`."""
    hits = getattr(result, "hits", None)
    if not hits:
        return "normal"
    top = hits[0]
    present = sum(
        bool(x)
        for x in (top.edition.isbn, top.work.cover_image_url or top.edition.cover_image_url, top.work.description)
    )
    return "high" if present == 3 else "low" if present <= 1 else "normal"


# A provisional answer (SearchResult.provisional: a background task is completing it and writes the
# completed answer to the shared tier) is fresh on the edge for a few seconds only, so every process
# revalidates it from the shared tier and serves the completed answer seconds after the task wrote it
# (while a hot answer is still served from the edge: a revalidation is one background read); it is
# stored in the shared tier only where nothing is (the task may have finished first), and briefly, like
# a degraded answer: if the task's write is lost, a miss after this reads the catalog, which the task
# completed (search.cache.edge, search.cache.tiers).
PROVISIONAL_EDGE_FRESH_SECONDS = 5
PROVISIONAL_TTL_SECONDS = 300


def cache_ttl(*, kind: str, result: Any, rng: random.Random | None = None) -> int:
    """Seconds to keep an answer in the shared tier."""
    rng = rng or random
    if getattr(result, "degraded", ()):
        base = float(settings.SEARCH_TTL_DEGRADED)
    elif not getattr(result, "found", True):
        base = float(settings.SEARCH_TTL_NOT_FOUND)
    elif getattr(result, "provisional", False):
        base = float(PROVISIONAL_TTL_SECONDS)
    else:
        base = float(settings.SEARCH_TTL_SECONDS.get(kind, settings.SEARCH_TTL_SECONDS["title"]))
        base *= {"high": 2.0, "low": 0.5}.get(result_quality(result), 1.0)
    return max(1, int(base * rng.uniform(0.9, 1.1)))
