"""Ranking (pure): identifier match first, then typo-tolerant title similarity, then data quality.

Titles and names are compared through the keys of `search.text` (accent- and case-insensitive,
non-Latin letters kept); output text is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz

from search.dto import SearchHit
from search.normalize import data_quality
from search.text import surname_key, text_key, title_key


def title_similarity(query: str, title: str | None) -> float:
    """0-100, typo tolerant ("Grate Gatsby" ~ "The Great Gatsby")."""
    q = title_key(query) or text_key(query)
    t = title_key(title)
    if not q or not t:
        return 0.0
    if q == t:
        return 100.0
    full = text_key(title)
    return max(
        fuzz.ratio(q, t),
        fuzz.token_sort_ratio(q, t),
        0.95 * fuzz.token_set_ratio(q, full),
        0.9 * fuzz.partial_ratio(q, t) if len(q) >= 4 else 0.0,
    )


def hit_score(
    hit: SearchHit, *, query: str | None = None, isbn: str | None = None, author: str | None = None
) -> tuple[int, float, int]:
    """Sort key (higher first): (identifier match, title similarity bucket + author bonus, quality)."""
    exact = 1 if isbn and (isbn in hit.edition.isbns or isbn == hit.edition.isbn) else 0
    similarity = title_similarity(query, hit.work.title) if query else 0.0
    if query and hit.edition.title and hit.edition.title != hit.work.title:
        similarity = max(similarity, title_similarity(query, hit.edition.title))
    if author:
        wanted = surname_key(author)
        if wanted and any(surname_key(a) == wanted for a in hit.author_names):
            similarity += 10
    quality = hit.edition.isbndb_quality or data_quality(hit)
    # Similarity in buckets of 5 so small fuzz differences do not beat much better data.
    return exact, round(similarity / 5), quality


def rank_hits(
    hits: Sequence[SearchHit], *, query: str | None = None, isbn: str | None = None, author: str | None = None
) -> list[SearchHit]:
    """Best first; ties keep the merged (provider priority) order."""
    indexed = list(enumerate(hits))
    indexed.sort(key=lambda pair: (*(-x for x in hit_score(pair[1], query=query, isbn=isbn, author=author)), pair[0]))
    return [hit for _, hit in indexed]
