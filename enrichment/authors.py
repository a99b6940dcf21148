"""Author facts from Wikidata: gender, nationality, cultural region, birth and death years.

`author_facts_lookup` searches Wikidata for the name, looks at several hits (not just the first) and
accepts an entity only when it is a human whose name matches AND who is plausibly the author: a
writer-like occupation, a notable work matching one of the known titles, or the same OpenLibrary id.
Among accepted hits the strongest evidence wins (OpenLibrary id > title > occupation), ties go to
Wikidata's search order. Missing facts stay "Unknown"/None; nothing is guessed.

Caching (Django cache): found authors 7 days (the contract's author TTL); "not found" 1 day, long
enough to stop a search page from re-asking for every unknown name, short enough that a newly created
Wikidata item shows up the next day. Upstream errors are never cached.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Any, Final

from django.conf import settings
from django.core.cache import cache

from booktrack.core.exceptions import ProviderError, ProviderTimeout, ProviderUnavailable
from booktrack.core.http import UpstreamClient, upstream_client
from enrichment.countries import country_by_name, country_by_qid
from enrichment.wikidata import (
    GENDER_UNKNOWN,
    P_NOTABLE_WORK,
    CandidateScore,
    Entity,
    author_claims,
    candidate_score,
    entity_label,
    names_match,
    parse_entity,
    parse_search_hits,
)
from search.dto import AuthorDTO, field_wire_names
from search.text import name_key, title_key, uninvert_name

logger = logging.getLogger(__name__)

POSITIVE_TTL: Final = 7 * 24 * 3600
NEGATIVE_TTL: Final = 24 * 3600
LABEL_TTL: Final = 30 * 24 * 3600
SEARCH_LIMIT: Final = 7  # hits asked from wbsearchentities
MAX_CANDIDATES: Final = 4  # name-matching hits whose entity we fetch
MAX_WORK_LABELS: Final = 5  # notable works fetched per candidate when checking titles
CACHE_PREFIX: Final = "enrichment:author:v1:"
QUEUED_PREFIX: Final = "enrichment:author-fill:v1:"  # "a lookup of this bare name is queued" markers

_UPSTREAM_ERRORS = (ProviderError, ProviderTimeout, ProviderUnavailable)


@dataclass(frozen=True, slots=True)
class AuthorFacts:
    """Author facts: a subset of the contract's AuthorDTO fields, named as on `AuthorDTO`.

    `to_wire()` gives the contract's names (`wikidataID`, `culturalRegion`...), which is also the
    form kept in the cache.
    """

    name: str
    wikidata_id: str
    gender: str = GENDER_UNKNOWN
    nationality: str | None = None
    cultural_region: str | None = None
    birth_year: int | None = None
    death_year: int | None = None

    def to_wire(self) -> dict[str, Any]:
        """The contract's AuthorDTO names; None fields left out."""
        names = field_wire_names(AuthorDTO)
        return {names[f.name]: value for f in fields(self) if (value := getattr(self, f.name)) is not None}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> AuthorFacts:
        """Parse `to_wire()` output back (cache entries); raises TypeError without a name or id."""
        names = field_wire_names(AuthorDTO)
        return cls(**{f.name: data[names[f.name]] for f in fields(cls) if names[f.name] in data})


@dataclass(frozen=True, slots=True)
class AuthorQuery:
    """One author to look up, with the hints that disambiguate namesakes."""

    name: str
    known_titles: tuple[str, ...] = ()
    openlibrary_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorCacheEntry:
    """A cache answer: `facts` is None when Wikidata was asked and had no matching author.

    `queued` (only from `author_facts_cached_many`): no answer yet, but a lookup was claimed with
    `author_facts_queue_claim` and has not expired; `facts` is then None too.
    """

    facts: AuthorFacts | None
    queued: bool = False


# --- public services ------------------------------------------------------------------------------


def author_facts_lookup(
    *,
    name: str,
    known_titles: Sequence[str] = (),
    openlibrary_id: str | None = None,
    deadline: float | None = None,
) -> AuthorFacts | None:
    """The author's facts from Wikidata (cached), or None if no entity is plausibly this author.

    Never raises for upstream trouble: a Wikidata error or timeout returns None (and is not cached).
    `deadline` is a `time.monotonic()` instant.
    """
    if not name_key(name):
        return None
    titles = tuple(t for t in known_titles if t and t.strip())
    key = _cache_key(name, titles, openlibrary_id)
    # Exact key only: a hinted lookup must not settle for the bare name's answer (a namesake).
    cached = _cache_entry(cache.get(key))
    if cached is not None:
        return cached.facts
    try:
        facts = _resolve(name=name, known_titles=titles, openlibrary_id=openlibrary_id, deadline=deadline)
    except _UPSTREAM_ERRORS as exc:
        logger.info("wikidata author lookup failed for %r: %s", name, exc)
        return None
    if facts is None:
        cache.set(key, {"facts": None}, NEGATIVE_TTL)
    else:
        cache.set(key, {"facts": facts.to_wire()}, POSITIVE_TTL)
        if titles or openlibrary_id:
            # A hinted answer is also the best answer for the bare name; never overwrite one.
            cache.add(_cache_key(name, (), None), {"facts": facts.to_wire()}, POSITIVE_TTL)
    return facts


def author_facts_cached(
    *, name: str, known_titles: Sequence[str] = (), openlibrary_id: str | None = None
) -> AuthorCacheEntry | None:
    """Answer from the cache only (never the network). None means "not looked up yet": enqueue it.

    With hints, a found author cached for the bare name is good enough for display; a bare-name
    "not found" is not (the hints may find the author).
    """
    entry = _cache_entry(cache.get(_cache_key(name, tuple(known_titles), openlibrary_id)))
    if entry is None and (known_titles or openlibrary_id):
        bare = _cache_entry(cache.get(_cache_key(name, (), None)))
        if bare is not None and bare.facts is not None:
            entry = bare
    return entry


def author_facts_cached_many(*, names: Sequence[str]) -> dict[str, AuthorCacheEntry | None]:
    """Bare-name answers for many names from the cache only, in ONE `cache.get_many` (answers and
    "lookup queued" markers together). Never the network.

    name -> the entry (facts, or facts None = Wikidata had nobody); `AuthorCacheEntry(None,
    queued=True)` when no answer yet but a lookup is queued; None when neither (enqueue it).
    Duplicates are read once. Raises when the cache itself fails (the caller decides what that means).
    """
    unique = list(dict.fromkeys(names))
    fact_keys = {name: _cache_key(name, (), None) for name in unique}
    queued_keys = {name: _queued_key(key) for name, key in fact_keys.items()}
    values = cache.get_many([*fact_keys.values(), *queued_keys.values()]) if unique else {}
    out: dict[str, AuthorCacheEntry | None] = {}
    for name in unique:
        entry = _cache_entry(values.get(fact_keys[name]))
        if entry is None and queued_keys[name] in values:
            entry = AuthorCacheEntry(facts=None, queued=True)
        out[name] = entry
    return out


def author_facts_queue_claim(*, name: str, ttl: int) -> bool:
    """Mark the bare name's lookup as queued for `ttl` seconds; False when someone already did (atomic)."""
    return bool(cache.add(_queued_key(_cache_key(name, (), None)), 1, ttl))


def author_facts_not_found_remember(*, name: str) -> None:
    """Cache "Wikidata has nobody" for the bare name (NEGATIVE_TTL) unless it already has an answer."""
    cache.add(_cache_key(name, (), None), {"facts": None}, NEGATIVE_TTL)


def _queued_key(fact_key: str) -> str:
    return QUEUED_PREFIX + fact_key.rsplit(":", 1)[-1]


def _cache_entry(value: Any) -> AuthorCacheEntry | None:
    if not isinstance(value, dict) or "facts" not in value:
        return None
    raw = value["facts"]
    try:
        return AuthorCacheEntry(AuthorFacts.from_wire(raw) if raw else None)
    except TypeError:  # an entry of some older or foreign shape: not an answer
        return None


def author_facts_lookup_many(
    *,
    names: Sequence[str | AuthorQuery],
    max_workers: int = 4,
    deadline: float | None = None,
) -> dict[str, AuthorFacts | None]:
    """Look up many authors with at most `max_workers` concurrent Wikidata lookups.

    Keys are the given names; duplicates are looked up once. Whatever is not done by `deadline`
    comes back as None.
    """
    queries: dict[str, AuthorQuery] = {}
    for item in names:
        query = item if isinstance(item, AuthorQuery) else AuthorQuery(name=item)
        queries.setdefault(query.name, query)
    if not queries:
        return {}
    results: dict[str, AuthorFacts | None] = dict.fromkeys(queries)
    workers = max(1, min(max_workers, len(queries)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wikidata-author") as pool:
        futures = {
            pool.submit(
                author_facts_lookup,
                name=q.name,
                known_titles=q.known_titles,
                openlibrary_id=q.openlibrary_id,
                deadline=deadline,
            ): key
            for key, q in queries.items()
        }
        for future, key in futures.items():
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                results[key] = future.result(timeout=timeout)
            except Exception:  # a timeout here or a bug in one lookup must not sink the batch
                logger.exception("author lookup for %r did not finish", key)
                future.cancel()
    return results


# --- resolution -----------------------------------------------------------------------------------


def _client() -> UpstreamClient:
    return upstream_client("wikidata", base_url=settings.WIKIDATA_BASE_URL)


def _resolve(
    *, name: str, known_titles: Sequence[str], openlibrary_id: str | None, deadline: float | None
) -> AuthorFacts | None:
    client = _client()
    payload = client.get_json(
        "w/api.php",
        params={
            "action": "wbsearchentities",
            "search": _display_name(name),
            "language": "en",
            "uselang": "en",
            "format": "json",
            "type": "item",
            "limit": SEARCH_LIMIT,
        },
        deadline=deadline,
    )
    hits = [h for h in parse_search_hits(payload) if names_match(name, h.names)][:MAX_CANDIDATES]
    best_possible = 1 + (2 if known_titles else 0) + (4 if openlibrary_id else 0)

    scored: list[tuple[CandidateScore, Entity, tuple[str, ...]]] = []
    for hit in hits:
        entity = _fetch_entity(client, hit.qid, deadline)
        if entity is None:
            continue
        score = candidate_score(entity, name=name, hit_names=hit.names, known_titles=(), openlibrary_id=openlibrary_id)
        if not (score.human and score.name_match):
            continue
        scored.append((score, entity, hit.names))
        if score.openlibrary_match or (score.score == best_possible):
            break

    if known_titles and not any(s.openlibrary_match for s, _, _ in scored):
        # Only pay for notable-work labels when they can change the outcome: a human who is not
        # (yet) accepted, or several accepted namesakes to choose between.
        accepted = sum(1 for s, _, _ in scored if s.score > 0)
        for index, (score, entity, hit_names) in enumerate(scored):
            if score.score > 0 and accepted < 2:
                continue
            works = entity.item_ids(P_NOTABLE_WORK)[:MAX_WORK_LABELS]
            if not works:
                continue
            labels = [label for qid in works if (label := _label(client, qid, deadline))]
            scored[index] = (
                candidate_score(
                    entity,
                    name=name,
                    known_titles=known_titles,
                    openlibrary_id=openlibrary_id,
                    work_labels=labels,
                    hit_names=hit_names,
                ),
                entity,
                hit_names,
            )
            if scored[index][0].score == best_possible:
                break

    best: tuple[CandidateScore, Entity] | None = None
    for score, entity, _ in scored:
        if score.score > 0 and (best is None or score.score > best[0].score):
            best = (score, entity)
    if best is None:
        return None
    return _facts_from_entity(client, best[1], fallback_name=name, deadline=deadline)


def _facts_from_entity(
    client: UpstreamClient, entity: Entity, *, fallback_name: str, deadline: float | None
) -> AuthorFacts:
    claims = author_claims(entity)
    label = None
    if claims.citizenship_qid and country_by_qid(claims.citizenship_qid) is None:
        # Not in the table (a rare historical state): fetch its English label.
        label = _label(client, claims.citizenship_qid, deadline)
    return author_facts_from_entity(entity, fallback_name=fallback_name, country_label=label)


def author_facts_from_entity(entity: Entity, *, fallback_name: str, country_label: str | None = None) -> AuthorFacts:
    """Pure: facts from an accepted entity. The citizenship maps by QID, else by `country_label`
    (the country entity's label); an unmappable label is kept as the nationality, region unknown."""
    claims = author_claims(entity)
    nationality = region = None
    if claims.citizenship_qid:
        country = country_by_qid(claims.citizenship_qid) or country_by_name(country_label)
        if country is not None:
            nationality, region = country.nationality, country.cultural_region
        else:
            nationality = country_label or None
    return AuthorFacts(
        name=claims.label or fallback_name.strip(),
        wikidata_id=claims.qid,
        gender=claims.gender,
        nationality=nationality,
        cultural_region=region,
        birth_year=claims.birth_year,
        death_year=claims.death_year,
    )


def _fetch_entity(client: UpstreamClient, qid: str, deadline: float | None) -> Entity | None:
    payload = client.get_json(f"wiki/Special:EntityData/{qid}.json", deadline=deadline)
    return parse_entity(payload, qid)


def _label(client: UpstreamClient, qid: str, deadline: float | None) -> str | None:
    """English label of an item (cached 30 days; labels of works and states rarely change)."""
    key = f"enrichment:wikidata-label:v1:{qid}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    payload = client.get_json(f"wiki/Special:EntityData/{qid}.json", deadline=deadline)
    label = entity_label(payload, qid)
    cache.set(key, label or "", LABEL_TTL)
    return label


def _display_name(name: str) -> str:
    """ "Rowling, J.K." -> "J.K. Rowling": Wikidata labels are in display order."""
    return uninvert_name(" ".join(name.split()))


def _cache_key(name: str, known_titles: Sequence[str], openlibrary_id: str | None) -> str:
    titles = "|".join(sorted({title_key(t) for t in known_titles if t and t.strip()}))
    ol = (openlibrary_id or "").strip().rstrip("/").rsplit("/", 1)[-1].upper()
    raw = f"{name_key(name)}\x1f{titles}\x1f{ol}"
    return CACHE_PREFIX + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]
