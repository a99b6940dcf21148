"""A process-local memo in front of the shared author-facts cache, for decorating search answers.

A hot cached answer decorates with no cache round trip. Answers (facts, or "Wikidata has nobody")
are stable for days and held `_MEMO_ANSWERED_SECONDS`; "queued, not looked up yet" is re-read after
`_MEMO_PENDING_SECONDS`, so facts a background task just stored show up within seconds. Every read
says until when all it returned stays memoized: a decorated answer holds that long (search.answers).
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache
from typing import Final

from enrichment.authors import AuthorCacheEntry, AuthorFacts, AuthorQuery, author_facts_cached_many
from search.hooks import decorations_expire
from search.text import name_key as text_name_key

logger = logging.getLogger(__name__)

_MEMO_ANSWERED_SECONDS: Final = 300.0
_MEMO_PENDING_SECONDS: Final = 5.0
_MEMO_MAX: Final = 20_000
_memo: dict[str, tuple[float, AuthorCacheEntry | None]] = {}


# Names longer than this are keyed each time, not memoized (bounded memo keys, issue 13).
_NAME_MEMO_MAX = 200


def name_key(name: str) -> str:
    """The key one author goes by in an answer, however a provider wrote the name."""
    if len(name) > _NAME_MEMO_MAX:
        return text_name_key(name)
    return _name_key(name)


@lru_cache(maxsize=8192)
def _name_key(name: str) -> str:
    return text_name_key(name)


def _entries(names: list[str]) -> tuple[dict[str, AuthorCacheEntry | None], float]:
    """(name -> cache entry, monotonic time until which every one of them stays memoized)."""
    now = time.monotonic()
    out: dict[str, AuthorCacheEntry | None] = {}
    valid_until = math.inf
    wanted: list[str] = []
    for name in names:
        memo = _memo.get(name)
        if memo is not None and memo[0] > now:
            out[name] = memo[1]
            valid_until = min(valid_until, memo[0])
        else:
            wanted.append(name)
    if wanted:
        fetched = author_facts_cached_many(names=wanted)
        if len(_memo) > _MEMO_MAX:
            _memo.clear()
        for name in wanted:
            entry = fetched.get(name)
            answered = entry is not None and not entry.queued
            expires = now + (_MEMO_ANSWERED_SECONDS if answered else _MEMO_PENDING_SECONDS)
            _memo[name] = (expires, entry)
            out[name] = entry
            valid_until = min(valid_until, expires)
    return out, valid_until


def author_facts_memoized(
    *, queries: dict[str, AuthorQuery]
) -> tuple[dict[str, AuthorFacts | None], list[AuthorQuery], float]:
    """For name key -> lookup: (name key -> facts of the authors already looked up, the authors nobody
    has queued yet, monotonic time until which this answer holds), from at most ONE cache read."""
    if not queries:
        return {}, [], math.inf
    try:
        entries, valid_until = _entries([q.name for q in queries.values()])
    except Exception:  # no cache: no facts, and nothing queued (no way to dedupe)
        logger.warning("author facts cache read failed", exc_info=True)
        return {}, [], 0.0
    facts: dict[str, AuthorFacts | None] = {}
    missing: list[AuthorQuery] = []
    for key, query in queries.items():
        entry = entries.get(query.name)
        if entry is None:
            missing.append(query)
        elif not entry.queued:
            facts[key] = entry.facts
    return facts, missing, valid_until


def memo_mark_queued(names: list[str]) -> None:
    """These names' lookups are queued: memoized as such (no shared-cache read to learn it again)."""
    expires = time.monotonic() + _MEMO_PENDING_SECONDS
    for name in names:
        _memo[name] = (expires, AuthorCacheEntry(facts=None, queued=True))


def memo_forget(names: list[str]) -> None:
    """Read these names from the shared cache next time (this process just stored their facts)."""
    for name in names:
        _memo.pop(name, None)


def memo_clear() -> None:
    """Forget every memoized entry, and the decorations cached answers built from them."""
    _memo.clear()
    decorations_expire()
