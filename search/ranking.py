"""Ranking and matching keys (pure): identifier match first, then typo-tolerant title similarity,
then data quality.

Keys compare casefolded NFKD text without combining marks, so "Émile" matches "Emile" and
"Gödel" matches "Godel"; non-Latin letters are kept as they are. Output text is never changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz

from search.dto import SearchHit
from search.providers.base import data_quality

_ARTICLES = {"the", "a", "an", "le", "la", "les", "el", "los", "las", "der", "die", "das", "il", "lo"}
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def text_key(value: str | None) -> str:
    """Comparison form: casefold + NFKD, combining marks dropped, punctuation -> spaces."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", stripped).replace("_", " ").split())


def title_key(title: str | None) -> str:
    """Title comparison form without a leading article and without a subtitle after ':'."""
    if not title:
        return ""
    main = title.split(":", 1)[0] if ":" in title and len(title.split(":", 1)[0].strip()) >= 3 else title
    words = text_key(main).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def author_key(name: str | None) -> str:
    """The surname-ish token: the longest word of the name ("Tolkien, J.R.R." == "J. R. R. Tolkien")."""
    words = text_key(name).split()
    if not words:
        return ""
    return max(words, key=lambda w: (len(w), w))


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
        wanted = author_key(author)
        if wanted and any(author_key(a) == wanted for a in hit.author_names):
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
