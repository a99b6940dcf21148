"""CSV import matching (pure): which lookup a row needs, duplicates inside a file, and the title +
author score that decides between matched, needs review and not found.

No Django, no network: the job (enrichment.csv_import) feeds rows and candidate books in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from search.isbn import isbn_to_13
from search.text import name_key, similarity, title_key

# A title + author candidate at or above MATCHED is taken; between NEEDS_REVIEW and MATCHED it is kept
# with the row marked for review; below NEEDS_REVIEW the row is "not found". Title counts 70 %,
# author 30 % (a right title by the wrong author is a different book more often than a typo).
MATCHED = 0.85
NEEDS_REVIEW = 0.6
TITLE_WEIGHT = 0.7

Method = Literal["isbn", "title_author"]


@dataclass(frozen=True, slots=True)
class LookupKey:
    """What identifies a row's book for lookup and for duplicate counting."""

    method: Method
    value: str  # ISBN-13, or "title key|author key"


def isbn13_of(isbn13: str | None, isbn10: str | None) -> str | None:
    """The row's ISBN-13 (from the ISBN-10 when that is all the file had), or None."""
    return (isbn_to_13(isbn13) if isbn13 else None) or (isbn_to_13(isbn10) if isbn10 else None)


def lookup_key(*, isbn13: str | None, title: str, author: str | None) -> LookupKey | None:
    """ISBN first; title + author otherwise; None when there is nothing to look up."""
    if isbn13:
        return LookupKey("isbn", isbn13)
    title_part = title_key(title)
    if not title_part:
        return None
    return LookupKey("title_author", f"{title_part}|{name_key(author)}")


def first_rows(keys: Iterable[tuple[int, LookupKey | None]]) -> dict[int, int]:
    """row -> the earlier row it duplicates (same ISBN, or same title + author), in file order."""
    seen: dict[LookupKey, int] = {}
    duplicates: dict[int, int] = {}
    for row, key in keys:
        if key is None:
            continue
        first = seen.setdefault(key, row)
        if first != row:
            duplicates[row] = first
    return duplicates


@dataclass(frozen=True, slots=True)
class Candidate:
    title: str
    authors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scored:
    index: int  # position in the candidates
    score: float  # 0..1
    title_score: float
    author_score: float | None  # None when the row or the candidate names no author


def candidate_score(*, title: str, author: str | None, candidate: Candidate) -> Scored:
    title_score = similarity(title_key(title), title_key(candidate.title))
    wanted = name_key(author)
    if not wanted or not candidate.authors:
        return Scored(index=-1, score=title_score, title_score=title_score, author_score=None)
    author_score = max(similarity(wanted, name_key(name)) for name in candidate.authors)
    score = TITLE_WEIGHT * title_score + (1 - TITLE_WEIGHT) * author_score
    return Scored(index=-1, score=score, title_score=title_score, author_score=author_score)


def best_candidate(*, title: str, author: str | None, candidates: Sequence[Candidate]) -> Scored | None:
    """The best-scoring candidate (earliest on ties: providers rank them), or None when there is none."""
    best: Scored | None = None
    for index, candidate in enumerate(candidates):
        scored = candidate_score(title=title, author=author, candidate=candidate)
        if best is None or scored.score > best.score:
            best = Scored(index, scored.score, scored.title_score, scored.author_score)
    return best


def verdict(score: float) -> Literal["success", "needs_review", "not_found"]:
    if score >= MATCHED:
        return "success"
    if score >= NEEDS_REVIEW:
        return "needs_review"
    return "not_found"
