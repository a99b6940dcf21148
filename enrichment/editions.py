"""Edition discovery: every edition of a work, deduplicated by ISBN-13, scored and sorted.

Serves `GET /v1/editions/search`. The scoring half is pure (`edition_score`, `editions_rank`);
`editions_discover_result` takes its candidates from `search.services.editions_search_result`
(cached, all providers, all OpenLibrary editions of the work) and ranks them.

Order of the answer, first key first:

1. language: with a `language` preference, editions in that language, then editions whose language
   is unknown, then the others (an edition you cannot read is no use in a better binding);
2. format priority: `DEFAULT_FORMAT_ORDER` (Hardcover > Paperback > Mass Market > E-book >
   Audiobook), with the preferred `format` moved to the front. A "Paperback" no provider stated
   (the contract's default for an unknown binding) never counts as the preferred format and sorts
   after stated paperbacks;
3. editions with an ISBN-13 before editions without one (nothing can be looked up or added by ISBN);
4. quality, 0-100: cover size 40 + completeness 40 + recency 20;
5. ISBN-13, for a stable order.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from search.dto import DEFAULT_FORMAT, FORMATS, EditionDTO, SearchHit, SearchResult, WorkDTO
from search.isbn import isbn_to_13
from search.services import editions_search_result

DEFAULT_FORMAT_ORDER: Final[tuple[str, ...]] = ("Hardcover", "Paperback", "Mass Market", "E-book", "Audiobook")
assert set(DEFAULT_FORMAT_ORDER) == set(FORMATS)

COVER_WEIGHT: Final = 40
COMPLETENESS_WEIGHT: Final = 40
RECENCY_WEIGHT: Final = 20
# Recency is linear over this many years before the current one: a 50-year-old printing scores 0.
RECENCY_SPAN_YEARS: Final = 50
# Editions asked from search: all of them (search caches up to 100 per work), ranked here.
CANDIDATE_LIMIT: Final = 100

COMPLETENESS_FIELDS: Final[tuple[str, ...]] = (
    "title", "publisher", "publicationDate", "pageCount", "coverImageURL", "language", "description",
)  # fmt: skip

# Longest edge in pixels of each size a host serves (measured on real answers; approximate).
# OpenLibrary covers: -S ~ 45x68, -M ~ 180x270, -L ~ 400x600 (the fakes serve exactly these).
_OPENLIBRARY_SIZES: Final = {"S": 68, "M": 270, "L": 600}
# Google Books `zoom=`: 5 smallThumbnail, 1 thumbnail, 2 small, 3 medium, 4 large, 6 extraLarge.
_GOOGLE_ZOOM: Final = {"5": 80, "1": 128, "0": 128, "2": 300, "3": 575, "4": 800, "6": 1280}
# ISBNdb `image` covers are mid-sized JPEGs (its signed `image_original` expires, so search never keeps it).
_ISBNDB_IMAGE: Final = 300
_UNKNOWN_HOST: Final = 250  # a cover from elsewhere: assume medium
_OPENLIBRARY_SUFFIX = re.compile(r"-([SML])\.jpe?g$", re.IGNORECASE)
_GOOGLE_FIFE = re.compile(r"w(\d+)")


@dataclass(frozen=True)
class CoverSize:
    """What a cover URL tells about its size: a class and the approximate longest edge."""

    size: str  # "none" | "small" | "medium" | "large"
    pixels: int

    @property
    def score(self) -> float:
        """0-1: none 0, then by the longest edge, saturating at 600 px (a sharp phone-screen cover)."""
        return 0.0 if self.size == "none" else min(1.0, 0.2 + 0.8 * self.pixels / 600)


def cover_size(url: str | None) -> CoverSize:
    """Pure: the size a cover URL promises, from each host's conventions (no download)."""
    if not url:
        return CoverSize("none", 0)
    parts = urlsplit(url)
    host = parts.netloc.lower()
    query = parse_qs(parts.query)
    match = _OPENLIBRARY_SUFFIX.search(parts.path)
    if match and ("/b/" in parts.path or "openlibrary" in host):
        pixels = _OPENLIBRARY_SIZES[match.group(1).upper()]
    elif "fife" in query and (fife := _GOOGLE_FIFE.search(query["fife"][0])):
        pixels = int(fife.group(1))
    elif "zoom" in query:
        pixels = _GOOGLE_ZOOM.get(query["zoom"][0], 128)
    elif "isbndb" in host:
        pixels = _ISBNDB_IMAGE
    else:
        pixels = _UNKNOWN_HOST
    size = "small" if pixels < 150 else "medium" if pixels < 400 else "large"
    return CoverSize(size, pixels)


def format_order(format_preference: str | None = None) -> tuple[str, ...]:
    """The default format order with the preferred format (a contract enum value) moved first."""
    if format_preference not in FORMATS:
        return DEFAULT_FORMAT_ORDER
    return (format_preference, *(f for f in DEFAULT_FORMAT_ORDER if f != format_preference))


def format_stated(edition: EditionDTO) -> bool:
    """False for the contract's default Paperback that no provider supplied (unknown binding)."""
    return edition.format != DEFAULT_FORMAT or bool(edition.provenance.get("format"))


def publication_year(edition: EditionDTO) -> int | None:
    text = edition.publication_date or ""
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None


def edition_isbn13(edition: EditionDTO) -> str | None:
    """The edition's ISBN-13: its primary ISBN, else the first convertible one in `isbns`."""
    if edition.isbn and len(edition.isbn) == 13:
        return edition.isbn
    for candidate in (edition.isbn, *edition.isbns):
        isbn13 = isbn_to_13(candidate) if candidate else None
        if isbn13:
            return isbn13
    return None


@dataclass(frozen=True)
class EditionScore:
    """How one edition ranks, with the reasons (the `quality` total is cover + completeness + recency)."""

    quality: int  # 0-100
    cover: float  # 0-1
    cover_size: str  # none | small | medium | large
    cover_pixels: int
    completeness: float  # 0-1, share of COMPLETENESS_FIELDS present
    missing: tuple[str, ...]  # wire names of the COMPLETENESS_FIELDS that are absent
    recency: float  # 0-1
    year: int | None
    format_rank: int  # index in format_order(format_preference); lower is better
    format_stated: bool
    format_preferred: bool
    language_rank: int  # 0 preferred language (or no preference), 1 unknown language, 2 other
    has_isbn13: bool

    def sort_key(self) -> tuple:
        return (self.language_rank, self.format_rank, not self.format_stated, not self.has_isbn13, -self.quality)


def edition_score(
    edition: EditionDTO,
    *,
    format_preference: str | None = None,
    language: str | None = None,
    work: WorkDTO | None = None,
    current_year: int | None = None,
) -> EditionScore:
    """Pure: the score of one edition. `work` (optional) lends its description when the edition has
    none; `current_year` defaults to this year (pass it for deterministic tests)."""
    cover = cover_size(edition.cover_image_url)
    present = {
        "title": bool(edition.title),
        "publisher": bool(edition.publisher),
        "publicationDate": bool(edition.publication_date),
        "pageCount": bool(edition.page_count),
        "coverImageURL": bool(edition.cover_image_url),
        "language": bool(edition.language),
        "description": bool(edition.edition_description or (work.description if work else None)),
    }
    missing = tuple(name for name in COMPLETENESS_FIELDS if not present[name])
    completeness = 1 - len(missing) / len(COMPLETENESS_FIELDS)
    year = publication_year(edition)
    now = current_year or datetime.date.today().year
    recency = 0.0 if year is None else max(0.0, min(1.0, 1 - (now - year) / RECENCY_SPAN_YEARS))
    quality = round(COVER_WEIGHT * cover.score + COMPLETENESS_WEIGHT * completeness + RECENCY_WEIGHT * recency)

    stated = format_stated(edition)
    order = format_order(format_preference)
    preferred = bool(format_preference) and stated and edition.format == format_preference
    rank = order.index(edition.format)
    if not stated and format_preference == DEFAULT_FORMAT:
        rank = 1  # a guessed Paperback is not the preferred one: it ties the next format (then loses)
    wanted = (language or "").strip().lower()
    have = (edition.language or "").strip().lower()
    language_rank = 0 if not wanted or have == wanted else 1 if not have else 2
    return EditionScore(
        quality=quality,
        cover=round(cover.score, 3),
        cover_size=cover.size,
        cover_pixels=cover.pixels,
        completeness=round(completeness, 3),
        missing=missing,
        recency=round(recency, 3),
        year=year,
        format_rank=rank,
        format_stated=stated,
        format_preferred=preferred,
        language_rank=language_rank,
        has_isbn13=edition_isbn13(edition) is not None,
    )


@dataclass(frozen=True)
class ScoredEdition:
    edition: EditionDTO
    score: EditionScore
    work: WorkDTO | None = None

    @property
    def isbn13(self) -> str | None:
        return edition_isbn13(self.edition)


def editions_rank(
    hits: Iterable[SearchHit | EditionDTO],
    *,
    format_preference: str | None = None,
    language: str | None = None,
    current_year: int | None = None,
) -> list[ScoredEdition]:
    """Pure: score, deduplicate by ISBN-13 (the best-scored copy wins) and sort, best first.

    Editions without an ISBN-13 are deduplicated by their OpenLibrary edition or Google volume id
    when they have one, and are otherwise kept as they are.
    """
    best: dict[object, ScoredEdition] = {}
    for index, item in enumerate(hits):
        edition, work = (item.edition, item.work) if isinstance(item, SearchHit) else (item, None)
        scored = ScoredEdition(
            edition=edition,
            score=edition_score(
                edition, format_preference=format_preference, language=language, work=work, current_year=current_year
            ),
            work=work,
        )
        key: object = (
            scored.isbn13
            or (edition.open_library_edition_id and ("ol", edition.open_library_edition_id))
            or (edition.google_books_volume_id and ("gb", edition.google_books_volume_id))
            or ("row", index)
        )
        kept = best.get(key)
        if kept is None or _order(scored) < _order(kept):
            best[key] = scored
    return sorted(best.values(), key=_order)


def _order(scored: ScoredEdition) -> tuple:
    return (*scored.score.sort_key(), scored.isbn13 or "~")


# --- service ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionDiscovery:
    """The ranked editions (`editions`, at most `limit`) and where they came from."""

    editions: tuple[ScoredEdition, ...]
    total_results: int  # distinct editions found, before `limit`
    provider: str = "none"
    cached: bool = False
    cache_source: str | None = None
    degraded: tuple[str, ...] = ()


def editions_discover_result(
    *,
    work_title: str,
    author: str | None = None,
    limit: int = 20,
    format_preference: str | None = None,
    language: str | None = None,
    deadline: float | None = None,
) -> EditionDiscovery:
    """Editions of the work titled `work_title`, best first, with the answer's provenance.

    Raises InvalidQuery for a blank title. One cached search answer serves every `limit`,
    format and language (the ranking is applied on read).
    """
    result: SearchResult = editions_search_result(
        work_title=work_title, author=author, limit=CANDIDATE_LIMIT, deadline=deadline
    )
    ranked = editions_rank(result.hits, format_preference=format_preference, language=language)
    limit = min(max(int(limit), 1), 100)
    return EditionDiscovery(
        editions=tuple(ranked[:limit]),
        total_results=len(ranked),
        provider=result.provider,
        cached=result.cached,
        cache_source=result.cache_source,
        degraded=result.degraded,
    )


def scored_editions_wire(editions: Sequence[ScoredEdition]) -> list[dict]:
    """The contract's EditionDTO wire dicts, in order (the score stays internal)."""
    return [s.edition.to_wire() for s in editions]
