"""Author facts and genres applied to search answers, without slowing them.

Registered with `search.hooks` in `EnrichmentConfig.ready()`, so it runs on the answers of the book
search services (ISBN, title, advanced, batch lookups), after the cache tiers: cached answers pick up
author facts that arrived since they were cached.

Per answer:

- `WorkDTO.subjectTags` go through `normalize_genres` (enrichment.genre_decoration).
- Authors get gender, nationality, culturalRegion, birthYear, deathYear and wikidataID from the
  author-facts cache ONLY, through a process-local memo (enrichment.author_facts_memo): at most one
  `cache.get_many` per answer, never the network. A fact the DTO already has is kept; a missing one
  stays "Unknown"/absent.
- Authors never looked up are queued for one background task (enrichment.author_facts_fill).

The decoration says how long it holds (until the first memoized fact it used expires; not at all
while an author waits to be queued), and a cached answer keeps it that long (search.answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from enrichment.author_facts_fill import author_facts_fill_schedule, tried_clear
from enrichment.author_facts_memo import author_facts_memoized, name_key
from enrichment.author_facts_memo import memo_clear as facts_memo_clear
from enrichment.authors import AuthorFacts, AuthorQuery
from enrichment.genre_decoration import work_with_genres
from search.dto import GENDERS, AuthorDTO, SearchHit, SearchResult
from search.hooks import Decoration

MAX_KNOWN_TITLES: Final = 3


def search_result_decoration(result: SearchResult) -> Decoration:
    """`result` with normalized subject tags and cached author facts, and until when that holds;
    queues the authors nobody looked up yet."""
    if not result.hits:
        return Decoration(result, float("inf"))
    queries = _author_queries(result.hits)
    facts, missing, valid_until = author_facts_memoized(queries=queries)
    hits = tuple(_hit_decorated(hit, facts) for hit in result.hits)
    if missing:
        author_facts_fill_schedule(queries=missing)
        valid_until = 0.0  # decorate again next time: the author may be answered by then
    if all(new is old for new, old in zip(hits, result.hits, strict=True)):
        return Decoration(result, valid_until)
    return Decoration(replace(result, hits=hits), valid_until)


def search_result_decorate(result: SearchResult) -> SearchResult:
    """`search_result_decoration(result).result`."""
    return search_result_decoration(result).result


def author_queries_of(hits: Sequence[SearchHit]) -> list[AuthorQuery]:
    """The author-facts lookups decorating these hits would need (cache warming fills them ahead)."""
    return list(_author_queries(hits).values())


def memo_clear() -> None:
    """Forget this process's decoration state: memoized facts, queued names, held decorations (tests)."""
    facts_memo_clear()
    tried_clear()


def _hit_decorated(hit: SearchHit, facts: dict[str, AuthorFacts | None]) -> SearchHit:
    work = work_with_genres(hit.work)
    authors = tuple(_author_with_facts(a, facts.get(name_key(a.name))) for a in hit.authors)
    if work is hit.work and all(new is old for new, old in zip(authors, hit.authors, strict=True)):
        return hit
    return replace(hit, work=work, authors=authors)


def _author_queries(hits: Sequence[SearchHit]) -> dict[str, AuthorQuery]:
    """Normalized name -> the lookup for that author, with the answer's titles and OpenLibrary id."""
    titles: dict[str, list[str]] = {}
    queries: dict[str, AuthorQuery] = {}
    for hit in hits:
        for author in hit.authors:
            key = name_key(author.name)
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


def _author_with_facts(author: AuthorDTO, facts: AuthorFacts | None) -> AuthorDTO:
    """Facts fill what the DTO lacks; what a provider or a user already set is kept."""
    if facts is None:
        return author
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
