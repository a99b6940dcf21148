"""Harvested covers in search answers: a result decorator (search.hooks) that points the cover fields
of every edition whose cover is stored at `/covers/{isbn13}`.

Cheap on the hot path: each process holds the set of harvested ISBN-13s in memory. It re-reads it
from the database only when a shared version (one cache key, bumped whenever a cover is stored) has
moved, checked at most every `HARVEST_COVERS_REFRESH_SECONDS`; a decoration holds until that next
check, so a cached answer is not re-decorated on every read.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from search.dto import SearchHit, SearchResult
from search.hooks import Decoration, decorations_expire

logger = logging.getLogger(__name__)

VERSION_KEY = "harvest:covers:version"
_T = TypeVar("_T")


@dataclass
class _Memo:
    isbns: frozenset[str] = frozenset()
    version: object = None
    loaded: bool = False
    checked_at: float = float("-inf")


_memo = _Memo()
_lock = threading.Lock()


def cover_public_url(isbn13: str, size: str | None = None) -> str:
    """What search answers' cover fields say for a harvested cover."""
    base = settings.COVERS_PUBLIC_BASE_URL.rstrip("/")
    return f"{base}/covers/{isbn13}?size={size or settings.HARVEST_DTO_COVER_SIZE}"


def covers_changed() -> None:
    """A cover was stored: bump the shared version (other processes re-read at their next check) and
    forget this process's set and held decorations at once."""
    try:
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)
    except Exception:  # the local reset still applies; others catch up at their next successful check
        logger.warning("could not bump the harvested covers version", exc_info=True)
    memo_clear()


def memo_clear() -> None:
    global _memo
    with _lock:
        _memo = _Memo()
    decorations_expire()


def _load() -> frozenset[str]:
    from harvest.models import Cover, CoverStatus

    return frozenset(Cover.objects.filter(status=CoverStatus.STORED).values_list("isbn13", flat=True))


def harvested_isbns() -> tuple[frozenset[str], float]:
    """The harvested ISBN-13s and the monotonic time until which they are taken as current."""
    global _memo
    refresh = float(settings.HARVEST_COVERS_REFRESH_SECONDS)
    now = time.monotonic()
    memo = _memo
    if memo.loaded and now - memo.checked_at < refresh:
        return memo.isbns, memo.checked_at + refresh
    with _lock:
        memo = _memo
        if memo.loaded and now - memo.checked_at < refresh:
            return memo.isbns, memo.checked_at + refresh
        try:
            version = cache.get(VERSION_KEY)
        except Exception:
            version = memo.version
        isbns = memo.isbns
        if not memo.loaded or version != memo.version:
            try:
                isbns = _load()
            except Exception:  # no database here (or it is down): keep what we had, try at the next check
                logger.debug("harvested covers could not be read", exc_info=True)
        _memo = _Memo(isbns=isbns, version=version, loaded=True, checked_at=now)
        return isbns, now + refresh


def _with(obj: _T, **changes: object) -> _T:
    """A copy of a frozen DTO with `changes`: `dataclasses.replace` re-runs `__init__` over every field
    (~30 us for an EditionDTO), too slow for every hit of every answer; the DTOs hold plain fields."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__, **changes)
    return new


def _hit_with_cover(hit: SearchHit, isbns: frozenset[str], prefix: str, suffix: str) -> SearchHit:
    isbn13 = hit.edition.isbn
    if not isbn13 or isbn13 not in isbns:
        return hit
    url = prefix + isbn13 + suffix
    if hit.edition.cover_image_url == url:
        return hit
    return _with(hit, edition=_with(hit.edition, cover_image_url=url))


def harvested_cover_decoration(result: SearchResult) -> Decoration:
    """`result` with harvested covers in its editions' cover fields (registered in HarvestConfig.ready)."""
    isbns, valid_until = harvested_isbns()
    if not isbns or not result.hits:
        return Decoration(result, valid_until)
    prefix, suffix = cover_public_url("\0").split("\0")
    hits = tuple(_hit_with_cover(hit, isbns, prefix, suffix) for hit in result.hits)
    if all(new is old for new, old in zip(hits, result.hits, strict=True)):
        return Decoration(result, valid_until)
    return Decoration(replace(result, hits=hits), valid_until)
