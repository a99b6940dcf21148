"""Author facts and genres applied to search answers, without slowing them.

Registered with `search.hooks` in `EnrichmentConfig.ready()`, so it runs on every answer of the book
search services (ISBN, title, advanced, batch lookups), after the cache tiers: cached answers pick up
author facts that arrived since they were cached.

Per answer:

- `WorkDTO.subjectTags` go through `normalize_genres` (provider-aware: the provider that supplied the
  subjects, else the work's primary provider); shelf noise like "Accessible book" disappears.
- Authors get gender, nationality, culturalRegion, birthYear, deathYear and wikidataID from the
  author-facts cache ONLY: one `cache.get_many` per answer (facts + "already queued" markers of
  every author), never the network. A fact the DTO already has is kept; a missing one stays
  "Unknown"/absent.
- Authors never looked up are queued for ONE background task, `enrichment.fill_author_facts`
  (providers queue), at most `MAX_NAMES_PER_TASK` names. A short-lived marker per name
  (`cache.add`, atomic) keeps concurrent answers from queueing the same name twice; it also spaces
  retries when Wikidata or the broker is down. The message is sent after commit, from a small
  background thread, so a slow or dead broker never delays or fails the answer (it is logged).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from typing import Any, Final

from django.db import transaction

from enrichment.authors import (
    AuthorCacheEntry,
    AuthorFacts,
    AuthorQuery,
    author_facts_cached,
    author_facts_cached_many,
    author_facts_lookup_many,
    author_facts_not_found_remember,
    author_facts_queue_claim,
)
from enrichment.genres import normalize_genres
from search.dto import GENDERS, AuthorDTO, SearchHit, SearchResult, WorkDTO
from search.text import name_key

logger = logging.getLogger(__name__)

FILL_TASK_NAME: Final = "enrichment.fill_author_facts"
MAX_NAMES_PER_TASK: Final = 10
MAX_KNOWN_TITLES: Final = 3
# Long enough to cover a queued task's run (a lookup is a few Wikidata calls), short enough that a
# failed one (Wikidata or broker down) is retried by the next answer a few minutes later.
PENDING_TTL: Final = 300
FILL_DEADLINE_SECONDS: Final = 120.0

# One thread sends the task messages: a broker that is slow to connect never holds a request.
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrichment-enqueue")


# --- the decorator -----------------------------------------------------------------------------------


def search_result_decorate(result: SearchResult) -> SearchResult:
    """`result` with normalized subject tags and cached author facts; queues unknown authors."""
    if not result.hits:
        return result
    # A hot cached answer is the same instance request after request: its decoration holds for as
    # long as the memoized author facts it was built from (no per-request work at all).
    held = result.__dict__.get("_decoration")
    if held is not None and held[0] > time.monotonic() and held[1] == _memo_generation:
        return held[2]
    queries = _author_queries(result.hits)
    facts, missing, valid_until = _cached_facts(queries)
    hits = tuple(_hit_decorated(hit, facts) for hit in result.hits)
    if missing:
        author_facts_fill_schedule(queries=missing)
    if all(new is old for new, old in zip(hits, result.hits, strict=True)):
        decorated = result
    else:
        memo = result.__dict__.get("_decorated")  # the same decorated answer again: reuse it
        if memo is not None and all(new is old for new, old in zip(hits, memo.hits, strict=True)):
            decorated = memo
        else:
            decorated = replace(result, hits=hits)
            object.__setattr__(result, "_decorated", decorated)
    if not missing:
        object.__setattr__(result, "_decoration", (valid_until, _memo_generation, decorated))
    return decorated


def _hit_decorated(hit: SearchHit, facts: dict[str, AuthorFacts | None]) -> SearchHit:
    work = _work_with_genres(hit.work)
    authors = tuple(_author_with_facts(a, facts.get(_name_key(a.name))) for a in hit.authors)
    if work is hit.work and all(new is old for new, old in zip(authors, hit.authors, strict=True)):
        return hit
    # The same decorations again (a cached answer served again): the same decorated hit, so the
    # decorated answer below is reused too, with its rendered wire form.
    memo = hit.__dict__.get("_decorated")
    if memo is not None and memo[0] is work and all(a is b for a, b in zip(memo[1], authors, strict=True)):
        return memo[2]
    decorated = replace(hit, work=work, authors=authors)
    object.__setattr__(hit, "_decorated", (work, authors, decorated))
    return decorated


@lru_cache(maxsize=8192)
def _name_key(name: str) -> str:
    return name_key(name)


def _author_queries(hits: Sequence[SearchHit]) -> dict[str, AuthorQuery]:
    """Normalized name -> the lookup for that author, with the answer's titles and OpenLibrary id."""
    titles: dict[str, list[str]] = {}
    queries: dict[str, AuthorQuery] = {}
    for hit in hits:
        for author in hit.authors:
            key = _name_key(author.name)
            if not key:
                continue
            known = titles.setdefault(key, [])
            if hit.work.title and hit.work.title not in known and len(known) < MAX_KNOWN_TITLES:
                known.append(hit.work.title)
            previous = queries.get(key)
            queries[key] = AuthorQuery(
                name=previous.name if previous else author.name,
                known_titles=tuple(known),
                openlibrary_id=(previous.openlibrary_id if previous else None) or author.open_library_id,
            )
    return queries


# Process-local memo in front of the shared cache: a hot cached answer decorates with no round trip.
# Answers (facts, or "Wikidata has nobody") are stable for days; "not looked up yet" is re-read soon
# so facts a background task just stored show up within seconds.
_MEMO_ANSWERED_SECONDS: Final = 300.0
_MEMO_PENDING_SECONDS: Final = 5.0
_MEMO_MAX: Final = 20_000
_memo: dict[str, tuple[float, AuthorCacheEntry | None]] = {}
# Names this process tried to queue, and when it may try again (the shared marker lasts PENDING_TTL).
_RETRY_LOCALLY_AFTER: Final = 30.0
_tried: dict[str, float] = {}
# Bumped by memo_clear(): decorations held on answers (see search_result_decorate) are dropped too.
_memo_generation = 0


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


def memo_clear() -> None:
    """Forget the process-local memo (tests)."""
    global _memo_generation
    _memo.clear()
    _tried.clear()
    _memo_generation += 1


def _cached_facts(
    queries: dict[str, AuthorQuery],
) -> tuple[dict[str, AuthorFacts | None], list[AuthorQuery], float]:
    """(name key -> facts for authors already looked up, authors to queue, valid until) from at most
    ONE cache read."""
    if not queries:
        return {}, [], math.inf
    try:
        entries, valid_until = _entries([q.name for q in queries.values()])
    except Exception:  # noqa: BLE001 - no cache: no facts, and nothing queued (no way to dedupe)
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


def _author_with_facts(author: AuthorDTO, facts: AuthorFacts | None) -> AuthorDTO:
    """Facts fill what the DTO lacks; what a provider or a user already set is kept.

    The result is remembered on the (immutable) DTO: a cached answer served again gets the same
    decorated instance back, whose wire form is already computed.
    """
    if facts is None:
        return author
    memo = author.__dict__.get("_with_facts")
    if memo is not None and memo[0] == facts:
        return memo[1]
    decorated = _author_filled(author, facts)
    object.__setattr__(author, "_with_facts", (facts, decorated))
    return decorated


def _author_filled(author: AuthorDTO, facts: AuthorFacts) -> AuthorDTO:
    changes: dict[str, Any] = {}
    if author.gender == "Unknown" and facts.gender in GENDERS and facts.gender != "Unknown":
        changes["gender"] = facts.gender
    for field, value in (
        ("nationality", facts.nationality),
        ("cultural_region", facts.cultural_region),
        ("birth_year", facts.birth_year),
        ("death_year", facts.death_year),
        ("wikidata_id", facts.wikidata_id),
    ):
        if value is not None and getattr(author, field) is None:
            changes[field] = value
    return replace(author, **changes) if changes else author


def _work_with_genres(work: WorkDTO) -> WorkDTO:
    if not work.subject_tags:
        return work
    memo = work.__dict__.get("_with_genres")  # same instance back for a cached answer (see above)
    if memo is not None:
        return memo
    decorated = _work_genres_normalized(work)
    object.__setattr__(work, "_with_genres", decorated)
    return decorated


def _work_genres_normalized(work: WorkDTO) -> WorkDTO:
    provider = work.provenance.get("subject_tags") or work.provenance.get("subjectTags") or work.primary_provider
    tags = _genres(tuple(work.subject_tags), provider)
    return work if tags == tuple(work.subject_tags) else replace(work, subject_tags=tags)


@lru_cache(maxsize=4096)
def _genres(tags: tuple[str, ...], provider: str | None) -> tuple[str, ...]:
    # Pure and called with the same subject lists again and again (cached answers): memoized.
    return tuple(normalize_genres(tags, provider=provider))


# --- queueing ---------------------------------------------------------------------------------------


def author_facts_fill_schedule(*, queries: Sequence[AuthorQuery]) -> list[str]:
    """Queue one `enrichment.fill_author_facts` task for the authors nobody has queued yet.

    Returns the names queued (at most MAX_NAMES_PER_TASK). Never raises.
    """
    claimed: list[AuthorQuery] = []
    now = time.monotonic()
    for query in queries:
        if len(claimed) >= MAX_NAMES_PER_TASK:
            break  # the rest is picked up by a later answer
        if _tried.get(query.name, 0.0) > now:
            continue  # this process asked recently: no shared-cache round trip on every hot answer
        try:
            if author_facts_queue_claim(name=query.name, ttl=PENDING_TTL):
                claimed.append(query)
        except Exception:  # noqa: BLE001
            logger.warning("could not mark author %r as queued", query.name, exc_info=True)
            return []
        if len(_tried) > _MEMO_MAX:
            _tried.clear()
        _tried[query.name] = now + _RETRY_LOCALLY_AFTER
    if not claimed:
        return []
    payload = [
        {"name": q.name, "knownTitles": list(q.known_titles), "openLibraryID": q.openlibrary_id} for q in claimed
    ]
    transaction.on_commit(lambda: _sender.submit(_send, payload))
    return [q.name for q in claimed]


def _send(payload: list[dict[str, Any]]) -> None:
    from enrichment.tasks_authors import fill_author_facts

    try:
        fill_author_facts.apply_async(args=[payload], retry=False)
    except Exception:  # noqa: BLE001 - the markers expire; a later answer queues these names again
        logger.warning("could not queue %s for %d authors", FILL_TASK_NAME, len(payload), exc_info=True)


def queries_from_payload(payload: Sequence[dict[str, Any]]) -> list[AuthorQuery]:
    out = []
    for item in payload:
        name = str(item.get("name") or "").strip()
        if name:
            titles = tuple(str(t) for t in item.get("knownTitles") or () if t)
            out.append(AuthorQuery(name=name, known_titles=titles, openlibrary_id=item.get("openLibraryID") or None))
    return out


# --- the background fill ------------------------------------------------------------------------------


def author_facts_fill(
    *, queries: Sequence[AuthorQuery], deadline: float | None = None
) -> dict[str, AuthorFacts | None]:
    """Look up (Wikidata) the authors whose bare name has no cached answer yet. Idempotent.

    A found author is cached under the hinted and the bare name (by `author_facts_lookup`). When the
    hinted lookup finds nobody, the bare name is cached as "not found" too: hints only add evidence,
    so the bare lookup could not do better, and search answers read the bare name. Upstream errors
    are not cached; the author is retried when the queue marker expires.
    """
    todo = [q for q in queries if author_facts_cached(name=q.name) is None]
    if not todo:
        return {}
    end = deadline if deadline is not None else time.monotonic() + FILL_DEADLINE_SECONDS
    found = author_facts_lookup_many(names=todo, deadline=end)
    for query in todo:
        if found.get(query.name) is not None:
            continue
        entry = author_facts_cached(
            name=query.name, known_titles=query.known_titles, openlibrary_id=query.openlibrary_id
        )
        if entry is not None and entry.facts is None:
            author_facts_not_found_remember(name=query.name)
    for query in todo:  # this process (embedded mode) sees the new answers at once
        _memo.pop(query.name, None)
    return found
