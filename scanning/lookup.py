"""Where a scanned book is looked up: the catalog first (no upstream call), then the search services.

`CatalogSearchLookup.catalog` answers many candidates from the stored catalog at once (fresh ISBN
records; one query for every title key); `search` asks the search services for one candidate: the
ISBN first (cached tiers, then the providers), else title + author. A title match must score at
least `enrichment.csv_import_match.MATCHED` on title + author (the CSV import's rule) to count: a
wrong book shown as enriched is worse than none. Tests pass a fake with the same two methods.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from booktrack.core.exceptions import DomainError
from enrichment.csv_import_match import MATCHED, Candidate, best_candidate
from scanning.books import BookCandidate, BookMatch
from search.dto import SearchHit
from search.text import title_key

logger = logging.getLogger(__name__)

TITLE_CANDIDATES = 5


class BookLookup(Protocol):
    def catalog(self, candidates: Sequence[BookCandidate]) -> Mapping[str, BookMatch]:
        """Matches found in the stored catalog, by candidate key (no upstream call)."""
        ...

    def search(self, candidate: BookCandidate, *, deadline: float) -> BookMatch:
        """One candidate through the search services; never raises (an error is a `BookMatch`)."""
        ...


def title_match(candidate: BookCandidate, hits: Sequence[SearchHit], *, method: str, provider: str) -> BookMatch | None:
    """The best-scoring hit for the candidate's title + author, when it scores at least MATCHED."""
    if not hits or not candidate.title:
        return None
    scored = best_candidate(
        title=candidate.title,
        author=candidate.author,
        candidates=[Candidate(title=hit.work.title, authors=hit.author_names) for hit in hits],
    )
    if scored is None or scored.score < MATCHED:
        return None
    hit = hits[scored.index]
    return BookMatch(
        status="success",
        hit=hit,
        provider=hit.edition.primary_provider or hit.work.primary_provider or provider,
        method=method,
        score=scored.score,
    )


class CatalogSearchLookup:
    """The real lookup: `search.catalog` for the stored books, `search.services` for the rest."""

    def catalog(self, candidates: Sequence[BookCandidate]) -> dict[str, BookMatch]:
        from search.catalog import catalog_lookup_isbn, catalog_lookup_titles

        found: dict[str, BookMatch] = {}
        for candidate in candidates:
            if candidate.isbn:
                hit = catalog_lookup_isbn(isbn13=candidate.isbn)
                if hit is not None:
                    provider = hit.edition.primary_provider or hit.work.primary_provider or "catalog"
                    found[candidate.key] = BookMatch(
                        status="success", hit=hit, provider=provider, method="catalog_isbn", score=1.0
                    )
        titled = [c for c in candidates if c.key not in found and not c.isbn and title_key(c.title)]
        stored = catalog_lookup_titles(title_keys=[title_key(c.title) for c in titled])
        for candidate in titled:
            match = title_match(
                candidate, stored.get(title_key(candidate.title), ()), method="catalog_title", provider="catalog"
            )
            if match is not None:
                found[candidate.key] = match
        return found

    def search(self, candidate: BookCandidate, *, deadline: float) -> BookMatch:
        from search.services import book_search_advanced, book_search_by_isbn

        try:
            if candidate.isbn:
                result = book_search_by_isbn(isbn=candidate.isbn, deadline=deadline)
                if result.hits:
                    return BookMatch(
                        status="success", hit=result.hits[0], provider=result.provider, method="search_isbn", score=1.0
                    )
            if candidate.title:
                result = book_search_advanced(
                    title=candidate.title[:500],
                    author=(candidate.author or "")[:300] or None,
                    limit=TITLE_CANDIDATES,
                    deadline=deadline,
                )
                match = title_match(candidate, result.hits, method="search_title", provider=result.provider)
                if match is not None:
                    return match
        except DomainError as error:  # providers down, timed out, an ISBN with a bad checksum...
            logger.info("scan lookup of %r failed: %s %s", candidate.key, error.code, error.message)
            return BookMatch(status="error", error=error.message[:300])
        return BookMatch(status="not_found")
