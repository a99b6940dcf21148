"""Renderings of search results for the v1, legacy, external and v3 bodies (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from booktrack.core.rendering import PrerenderedJSON
from search.dto import SearchHit, SearchResult
from search.isbn import isbn_to_10, isbn_to_13
from search.providers import BY_NAME


def v1_payload(result: SearchResult) -> PrerenderedJSON:
    """The v1 `data` ({works, editions, authors, totalResults}) rendered to JSON bytes. A cached answer
    keeps its rendered payload while its decoration holds (search.answers.ServedAnswer)."""
    return PrerenderedJSON(result.to_wire())


def legacy_volume(hit: SearchHit) -> dict[str, Any]:
    """A Google-Books-like `books#volume` with identifiers, covers and categories filled."""
    work, edition = hit.work, hit.edition
    identifiers = [{"type": "ISBN_13" if len(i) == 13 else "ISBN_10", "identifier": i} for i in edition.isbns]
    cover = edition.cover_image_url or work.cover_image_url
    info: dict[str, Any] = {
        "title": work.title,
        "authors": list(hit.author_names),
        "industryIdentifiers": identifiers,
        "categories": list(work.subject_tags),
    }
    optional = {
        "subtitle": edition.edition_title,
        "publisher": edition.publisher,
        "publishedDate": edition.publication_date
        or (str(work.first_publication_year) if work.first_publication_year else None),
        "description": work.description,
        "pageCount": edition.page_count,
        "language": edition.language,
        "imageLinks": {"thumbnail": cover, "smallThumbnail": cover} if cover else None,
    }
    info.update({k: v for k, v in optional.items() if v is not None})
    return {
        "kind": "books#volume",
        "id": edition.google_books_volume_id
        or work.google_books_volume_id
        or edition.isbn
        or work.open_library_work_id
        or work.title,
        "volumeInfo": info,
    }


def legacy_volumes(result: SearchResult) -> dict[str, Any]:
    return {
        "kind": "books#volumes",
        "totalItems": result.total_results,
        "items": [legacy_volume(h) for h in result.hits],
        "provider": result.provider,
        "cached": result.cached,
    }


def legacy_advanced(result: SearchResult) -> dict[str, Any]:
    """`/search/advanced`'s body: the legacy volumes with `success: true`, as the apps expect."""
    return {"success": True, **legacy_volumes(result)}


def legacy_author(works: Any, *, limit: int, offset: int) -> dict[str, Any]:
    if not works.found:
        return {
            "success": False,
            "provider": "openlibrary",
            "author": None,
            "works": [],
            "pagination": None,
            "cached": works.cached,
        }
    next_offset = offset + len(works.works)
    has_more = next_offset < works.total
    return {
        "success": True,
        "provider": "openlibrary",
        "author": {"name": works.name, "openLibraryKey": works.open_library_key, "totalWorks": works.total_works},
        "works": [
            {
                "title": w.title,
                "openLibraryWorkKey": w.open_library_work_id,
                "firstPublicationYear": w.first_publication_year,
                "editions": [],
            }
            for w in works.works
        ],
        "pagination": {
            "total": works.total,
            "limit": limit,
            "offset": offset,
            "hasMore": has_more,
            "nextOffset": next_offset if has_more else None,
        },
        "cached": works.cached,
    }


def external(result: SearchResult, *, provider: str) -> dict[str, Any]:
    return {
        **result.to_wire(),
        "provider": result.provider if result.hits else "none",
        "cached": result.cached,
        "source": provider,
    }


def v3_book(hit: SearchHit) -> dict[str, Any] | None:
    """The web client's Book; None when there is no ISBN-13 (left out of v3 results)."""
    work, edition = hit.work, hit.edition
    isbn13 = edition.isbn
    if not isbn13 or len(isbn13) != 13:
        return None
    primary = edition.primary_provider or work.primary_provider or "google-books"
    provider = BY_NAME[primary].v3_name if primary in BY_NAME else "google_books"
    book: dict[str, Any] = {
        "isbn": str(isbn13),
        "title": str(work.title or edition.title or ""),
        "authors": [str(a) for a in hit.author_names],
        "provider": provider,
        "quality": int(max(0, min(100, round(edition.isbndb_quality or work.isbndb_quality or 0)))),
    }
    cover = edition.cover_image_url or work.cover_image_url
    optional: dict[str, Any] = {
        "isbn10": isbn_to_10(isbn13),
        "subtitle": edition.edition_title,
        "publisher": edition.publisher,
        "publishedDate": edition.publication_date,
        "description": work.description,
        "pageCount": int(edition.page_count) if edition.page_count and edition.page_count >= 1 else None,
        "categories": list(work.subject_tags) or None,
        "language": edition.language or work.original_language,
        "coverUrl": cover,
        "thumbnailUrl": cover,
        "coverUrls": {"small": cover, "medium": cover, "large": cover} if cover else None,
        "workKey": work.open_library_work_id,
        "editionKey": edition.open_library_edition_id,
    }
    book.update({k: v for k, v in optional.items() if v is not None})
    return book


def isbns_valid(raw: Sequence[str]) -> list[str]:
    """The distinct ISBN-13s of the valid ISBNs among `raw`, in order."""
    return list(dict.fromkeys(i for i in (isbn_to_13(r) for r in raw) if i))


def v3_enrich(raw: Sequence[str], hits: Mapping[str, SearchHit | None]) -> dict[str, Any]:
    """`POST /v3/books/enrich` data. Each ISBN sent counts once: found, or listed (as sent) in
    `notFound`, so found + len(notFound) == requested; `books` holds each book once (an ISBN-10 and
    its ISBN-13 are one book), in request order, so it can be shorter than `found`."""
    sent = [(isbn, isbn_to_13(isbn)) for isbn in raw]
    wanted = list(dict.fromkeys(i for _, i in sent if i))
    by_isbn = {i: book for i in wanted if (hit := hits.get(i)) and (book := v3_book(hit))}
    return {
        "books": [by_isbn[i] for i in wanted if i in by_isbn],
        "found": sum(1 for _, i in sent if i in by_isbn),
        "requested": len(sent),
        "notFound": [isbn for isbn, i in sent if i not in by_isbn],
    }


def v3_total_count(*, total: int, hits: int, kept: int, limit: int, offset: int) -> int:
    """`totalCount` of a v3 search page, counting only results v3 can show (those with an ISBN-13).

    Hits dropped on this page (no ISBN-13) are taken off the upstream total; on the last page (fewer
    hits than `limit`) the count is exact: offset + results. Never less than what was shown so far; a
    page past the end reports the same count whatever its offset.
    """
    if hits == 0:
        # Nothing found: not found (first page), or a page past the end, where both the upstream
        # total and the offset bound what exists; the smaller does not grow with the offset.
        return 0 if offset == 0 else max(0, min(total, offset))
    if kept == 0 and offset == 0:
        return 0
    if hits < limit:
        return offset + kept
    return max(total - (hits - kept), offset + kept)
