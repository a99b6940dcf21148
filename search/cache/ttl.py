"""How long the shared tier keeps an answer (CONTRACT 7).

Per kind (title 7 d, ISBN 365 d, author 7 d, enrichment 180 d), x2 for high-quality data, x0.5 for
low quality, +-10 % jitter; "not found" and degraded answers 5 minutes.
"""

from __future__ import annotations

import random
from typing import Any

from search import conf


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


def cache_ttl(*, kind: str, result: Any, rng: random.Random | None = None) -> int:
    """Seconds to keep an answer in the shared tier."""
    rng = rng or random
    if getattr(result, "degraded", ()):
        base = float(conf.DEGRADED_TTL)
    elif not getattr(result, "found", True):
        base = float(conf.NOT_FOUND_TTL)
    else:
        base = float(conf.TTL_SECONDS.get(kind, conf.TTL_SECONDS["title"]))
        base *= {"high": 2.0, "low": 0.5}.get(result_quality(result), 1.0)
    return max(1, int(base * rng.uniform(0.9, 1.1)))
