"""Subject tags of search answers through `normalize_genres`: shelf noise ("Accessible book") goes.

Provider-aware: the provider that supplied the subjects, else the work's primary provider.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from enrichment.genres import normalize_genres
from search.dto import WorkDTO


def work_with_genres(work: WorkDTO) -> WorkDTO:
    """`work` with normalized subject tags (the same instance when nothing changes)."""
    if not work.subject_tags:
        return work
    provider = work.provenance.get("subject_tags") or work.provenance.get("subjectTags") or work.primary_provider
    tags = _genres(tuple(work.subject_tags), provider)
    return work if tags == tuple(work.subject_tags) else replace(work, subject_tags=tags)


@lru_cache(maxsize=4096)
def _genres(tags: tuple[str, ...], provider: str | None) -> tuple[str, ...]:
    # Pure and called with the same subject lists again and again (cached answers): memoized.
    return tuple(normalize_genres(tags, provider=provider))
