"""Builders shared by the test modules: search DTOs and hits, upstream payloads, jobs.

Each builder takes only what a test means to vary; everything else has a plain default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from search.dto import AuthorDTO, EditionDTO, SearchHit, SearchResult, WorkDTO

# --- search DTOs ---------------------------------------------------------------------------------------


def search_hit(
    title: str = "Dune",
    *,
    isbn: str | None = None,
    provider: str | None = None,
    authors: Iterable[str | AuthorDTO] = (),
    credited: bool = False,
    description: str | None = None,
    cover: str | None = None,
    year: int | None = None,
    pages: int | None = None,
    fmt: str | None = None,
    publisher: str | None = None,
    tags: tuple[str, ...] = (),
    **work_fields: Any,
) -> SearchHit:
    """One hit: a work, its edition (with `isbn`, if any) and authors (names or AuthorDTOs).

    `provider` is both DTOs' primary provider; `credited=True` also credits every value set to it in
    their provenance. `work_fields` go to the WorkDTO as they are (e.g. `year_from_edition=True`).
    """
    work_values = {
        "title": title,
        "description": description,
        "cover_image_url": cover,
        "first_publication_year": year,
        "subject_tags": tags,
    }
    edition_values = {
        "isbns": (isbn,) if isbn else (),
        "isbn": isbn,
        "title": title,
        "page_count": pages,
        "cover_image_url": cover,
        "publisher": publisher,
    }
    if fmt:
        edition_values["format"] = fmt

    def provenance(values: dict[str, Any]) -> dict[str, str]:
        if not (credited and provider):
            return {}
        return {k: provider for k, v in values.items() if v not in (None, ())}

    work_extra = {"provenance": provenance(work_values)} | work_fields
    return SearchHit(
        work=WorkDTO(**work_values, primary_provider=provider, **work_extra),
        edition=EditionDTO(**edition_values, primary_provider=provider, provenance=provenance(edition_values)),
        authors=tuple(a if isinstance(a, AuthorDTO) else AuthorDTO(name=a) for a in authors),
    )


def search_result(*hits: SearchHit, provider: str | None = None, total: int | None = None) -> SearchResult:
    """An answer holding `hits` (total: how many there are, unless told otherwise)."""
    extra = {"provider": provider} if provider else {}
    return SearchResult(hits=hits, total_results=len(hits) if total is None else total, **extra)


# --- ISBNs ---------------------------------------------------------------------------------------------


def isbn13(n: int) -> str:
    """The n-th valid ISBN-13 of a made-up 978000 range (distinct books for paging tests)."""
    digits = f"978000{n:06d}"
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


# --- upstream payloads and the calls made to them (`responses`) ------------------------------------

# Where unit-test settings point the upstreams (booktrack/settings/test.py).
GOOGLE = "http://upstream.test/google/books/v1"
OL = "http://upstream.test/openlibrary"
ISBNDB = "http://upstream.test/isbndb"


def google_volume(
    *,
    title: str,
    isbn13: str | None = None,
    authors: Iterable[str] = ("Gabriel García Márquez",),
    cover: bool = False,
    description: str | None = None,
    volume_id: str | None = None,
) -> dict:
    """One Google Books `books#volume`."""
    info: dict = {"title": title, "authors": list(authors)}
    if isbn13:
        info["industryIdentifiers"] = [{"type": "ISBN_13", "identifier": isbn13}]
    if cover:
        info["imageLinks"] = {"thumbnail": "http://books.google.com/books/content?id=x&zoom=1"}
    if description:
        info["description"] = description
    return {"kind": "books#volume", "id": volume_id or f"id-{isbn13 or title}", "volumeInfo": info}


def google_volumes(*items: dict) -> dict:
    """A Google Books `books#volumes` answer listing `items`."""
    return {"kind": "books#volumes", "totalItems": len(items), "items": list(items)}


def query_of(call) -> dict[str, list[str]]:
    """The query parameters of a recorded `responses` call."""
    return parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)


def calls_to(upstream, prefix: str) -> list:
    """The recorded `responses` calls whose URL starts with `prefix`."""
    return [c for c in upstream.calls if c.request.url.startswith(prefix)]


# --- jobs ----------------------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    """The request header a job route wants (`client.get(path, **bearer(token))`)."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def job_complete(job, *, results: dict | None = None, total: int | None = None) -> None:
    """Report `job` started and completed (one book processed) through its progress reporter."""
    from jobs.events import JobSummary
    from jobs.reporter import JobProgressReporter

    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=job.total_count if total is None else total)
    reporter.complete(
        summary=JobSummary(total_processed=1, success_count=1, failure_count=0, duration=1, resource_id=str(job.id)),
        results=results if results is not None else {"books": [{"title": "Dune", "success": True}]},
    )
