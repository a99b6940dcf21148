"""Google Books `volumes`: transport + pure normalizers (raw JSON -> DTOs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings

from search.dto import AuthorDTO, EditionDTO, ProviderPage, SearchHit, WorkDTO, clean_text
from search.isbn import isbns_collect
from search.normalize import (
    clean_author_name,
    clean_description,
    clean_subjects,
    hit_with_quality,
    https_url,
    normalize_date,
    normalize_language,
    positive_int,
    provenance_of,
    year_of,
)
from search.providers.base import Provider

NAME = "google-books"
# imageLinks keys, largest first.
IMAGE_SIZES = ("extraLarge", "large", "medium", "small", "thumbnail", "smallThumbnail")


def best_cover(image_links: Any) -> str | None:
    """The largest imageLinks URL, https, without the page-curl effect."""
    if not isinstance(image_links, Mapping):
        return None
    for size in IMAGE_SIZES:
        url = https_url(image_links.get(size))
        if url:
            parts = urlsplit(url)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "edge"]
            return urlunsplit(parts._replace(query=urlencode(query)))
    return None


def normalize_volume(item: Any) -> SearchHit | None:
    """One `books#volume` -> a hit; None when it has no title."""
    if not isinstance(item, Mapping):
        return None
    info = item.get("volumeInfo")
    if not isinstance(info, Mapping):
        return None
    title = clean_text(info.get("title"))
    if not title:
        return None
    volume_id = clean_text(item.get("id"))
    identifiers = info.get("industryIdentifiers") or []
    raw_isbns = [
        i.get("identifier") for i in identifiers if isinstance(i, Mapping) and i.get("type") in ("ISBN_13", "ISBN_10")
    ]
    isbns, isbn13 = isbns_collect(raw_isbns)
    cover = best_cover(info.get("imageLinks"))
    description = clean_description(info.get("description"))
    published = normalize_date(info.get("publishedDate"))
    language = normalize_language(info.get("language"))
    subjects = clean_subjects(info.get("categories"))
    subtitle = clean_text(info.get("subtitle"))
    pages = positive_int(info.get("pageCount")) or positive_int(info.get("printedPageCount"))
    publisher = clean_text(info.get("publisher"))
    sale = item.get("saleInfo") if isinstance(item.get("saleInfo"), Mapping) else {}
    volume_ids = (volume_id,) if volume_id else ()

    work_values = {
        "title": title,
        "subject_tags": subjects,
        "description": description,
        "cover_image_url": cover,
        "first_publication_year": year_of(published),
        "original_language": language,
        "google_books_volume_id": volume_id,
        "google_books_volume_ids": volume_ids,
    }
    edition_values = {
        "isbns": isbns,
        "isbn": isbn13,
        "title": title,
        "edition_title": subtitle,
        "publisher": publisher,
        "publication_date": published,
        "page_count": pages,
        "cover_image_url": cover,
        "language": language,
        "google_books_volume_id": volume_id,
        "google_books_volume_ids": volume_ids,
    }
    if sale.get("isEbook") is True and info.get("printType") == "BOOK" and not isbns:
        edition_values["format"] = "E-book"
    work = WorkDTO(
        **work_values,
        year_from_edition=work_values["first_publication_year"] is not None,  # publishedDate is the volume's
        primary_provider=NAME,
        contributors=(NAME,),
        provenance=provenance_of(NAME, work_values),
    )
    edition = EditionDTO(
        **edition_values,
        primary_provider=NAME,
        contributors=(NAME,),
        provenance=provenance_of(NAME, edition_values),
    )
    authors = tuple(AuthorDTO(name=name) for name in (clean_author_name(a) for a in info.get("authors") or ()) if name)
    return hit_with_quality(work, edition, authors)


def normalize_volumes(raw: Any) -> ProviderPage:
    """A `books#volumes` search answer (or one `books#volume`) -> a page of hits."""
    if not isinstance(raw, Mapping):
        return ProviderPage(provider=NAME)
    if raw.get("kind") == "books#volume" or "volumeInfo" in raw:
        hit = normalize_volume(raw)
        return ProviderPage(provider=NAME, hits=(hit,) if hit else (), total=1 if hit else 0)
    items = raw.get("items") if isinstance(raw.get("items"), list) else []
    hits = tuple(h for h in (normalize_volume(i) for i in items) if h)
    total = raw.get("totalItems")
    total = total if isinstance(total, int) and total >= len(hits) else len(hits)
    return ProviderPage(provider=NAME, hits=hits, total=total)


def _quote_term(value: str) -> str:
    value = value.replace('"', " ").strip()
    return f'"{value}"' if " " in value else value


class GoogleBooksProvider(Provider):
    name = NAME
    v3_name = "google_books"
    base_url_setting = "GOOGLE_BOOKS_BASE_URL"
    priority = 10

    def _params(self, **params: Any) -> dict[str, Any]:
        # Google works without a key; with GOOGLE_BOOKS_API_KEY the quota is the project's own.
        key = getattr(settings, "GOOGLE_BOOKS_API_KEY", None)
        if key:
            params["key"] = key
        return params

    def _volumes(self, params: dict[str, Any], deadline: float | None) -> ProviderPage:
        raw = self.get_json("volumes", params=self._params(**params), deadline=deadline)
        return normalize_volumes(raw)

    def search_isbn(self, *, isbn13: str, deadline: float | None) -> ProviderPage:
        return self._volumes({"q": f"isbn:{isbn13}", "maxResults": 10}, deadline)

    def search_title(self, *, query: str, limit: int, offset: int, deadline: float | None) -> ProviderPage:
        # A plain `q` (not `intitle:`) lets Google's own spelling tolerance help ("Grate Gatsby").
        return self._volumes(
            {"q": query, "maxResults": min(max(limit, 1), 40), "startIndex": max(offset, 0), "printType": "books"},
            deadline,
        )

    def search_advanced(
        self, *, title: str | None, author: str | None, limit: int, deadline: float | None
    ) -> ProviderPage:
        terms = []
        if title:
            terms.append(f"intitle:{_quote_term(title)}")
        if author:
            terms.append(f"inauthor:{_quote_term(author)}")
        return self._volumes(
            {"q": " ".join(terms), "maxResults": min(max(limit, 1), 40), "printType": "books"}, deadline
        )

    def volume_by_id(self, *, volume_id: str, deadline: float | None) -> ProviderPage:
        raw = self.get_json(f"volumes/{volume_id}", params=self._params(), deadline=deadline)
        return normalize_volumes(raw)
