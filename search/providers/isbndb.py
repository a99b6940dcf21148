"""ISBNdb v2: transport (header `Authorization: <key>`; disabled without ISBNDB_API_KEY) + normalizers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from search.dto import AuthorDTO, EditionDTO, ProviderPage, SearchHit, WorkDTO, clean_text
from search.isbn import isbns_collect
from search.normalize import (
    clean_author_name,
    clean_description,
    clean_subjects,
    dedupe_authors,
    hit_with_quality,
    https_url,
    normalize_date,
    normalize_format,
    normalize_language,
    positive_int,
    provenance_of,
    year_of,
)
from search.providers.base import Provider

NAME = "isbndb"


def normalize_book(raw: Any) -> SearchHit | None:
    """One ISBNdb Book object -> a hit (int or string `date_published`, `Https://` images, `~autofilled~`)."""
    if not isinstance(raw, Mapping):
        return None
    title = clean_text(raw.get("title")) or clean_text(raw.get("title_long"))
    if not title:
        return None
    isbns, isbn13 = isbns_collect([raw.get("isbn13"), raw.get("isbn"), raw.get("isbn10")])
    published = normalize_date(raw.get("date_published"))
    # `image` only: `image_original` is a signed URL that expires 2 hours after the response
    # (ISBNdb API v2.7 Book schema), and answers are cached for days. Never stored, not even as a fallback.
    cover = https_url(raw.get("image"))
    description = clean_description(raw.get("synopsis")) or clean_description(raw.get("overview"))
    language = normalize_language(raw.get("language"))
    title_long = clean_text(raw.get("title_long"))
    work_values = {
        "title": title,
        "subject_tags": clean_subjects(raw.get("subjects"), limit=10),
        "description": description,
        "cover_image_url": cover,
        "first_publication_year": year_of(published),
        "isbndb_id": isbn13,
    }
    edition_values = {
        "isbns": isbns,
        "isbn": isbn13,
        "title": title,
        "edition_title": title_long if title_long and title_long != title else None,
        "publisher": clean_text(raw.get("publisher")),
        "publication_date": published,
        "page_count": positive_int(raw.get("pages")),
        "cover_image_url": cover,
        "language": language,
        "format": normalize_format(raw.get("binding")),
        "isbndb_id": isbn13,
    }
    if edition_values["format"] is None:
        del edition_values["format"]  # unknown binding -> Paperback default, without provenance
    work = WorkDTO(
        **work_values,
        primary_provider=NAME,
        contributors=(NAME,),
        provenance=provenance_of(NAME, work_values),
        year_from_edition=work_values["first_publication_year"] is not None,  # the book's date_published
    )
    edition = EditionDTO(
        **edition_values,
        primary_provider=NAME,
        contributors=(NAME,),
        provenance=provenance_of(NAME, edition_values),
    )
    authors = dedupe_authors(
        AuthorDTO(name=name) for name in (clean_author_name(a) for a in raw.get("authors") or ()) if name
    )
    return hit_with_quality(work, edition, authors)


def normalize_books(raw: Any) -> ProviderPage:
    """`/book/{isbn}` ({book}), `/books/{q}` and `/search/books` ({total, data|books}), `/author/{name}`."""
    if not isinstance(raw, Mapping):
        return ProviderPage(provider=NAME)
    if isinstance(raw.get("book"), Mapping):
        hit = normalize_book(raw["book"])
        return ProviderPage(provider=NAME, hits=(hit,) if hit else (), total=1 if hit else 0)
    items = next((raw[k] for k in ("data", "books") if isinstance(raw.get(k), list)), [])
    hits = tuple(h for h in (normalize_book(b) for b in items) if h)
    total = raw.get("total")
    return ProviderPage(provider=NAME, hits=hits, total=total if isinstance(total, int) else len(hits))


MAX_PAGE_SIZE = 1000  # ISBNdb's largest `pageSize`


def page_window(*, offset: int, limit: int) -> tuple[int, int]:
    """(page, pageSize) of ONE ISBNdb page that covers results [offset, offset + limit).

    ISBNdb pages by number, not by offset: the smallest page size >= limit whose page holds the whole
    window, else one page from the start (offset + limit results) as a last resort.
    """
    for size in range(limit, min(offset + limit, MAX_PAGE_SIZE) + 1):
        if offset // size == (offset + limit - 1) // size:
            return offset // size + 1, size
    return 1, min(offset + limit, MAX_PAGE_SIZE)


class IsbndbProvider(Provider):
    name = NAME
    v3_name = "isbndb"
    base_url_setting = "ISBNDB_BASE_URL"
    key_setting = "ISBNDB_API_KEY"
    priority = 30
    batch_size = 100  # POST /books: the Basic plan's limit per request (Pro/Premium take 1,000)

    def _get(self, path: str, params: dict[str, Any] | None, deadline: float | None) -> ProviderPage:
        raw = self.get_json(path, params=params, headers={"Authorization": self.api_key() or ""}, deadline=deadline)
        return normalize_books(raw)

    def search_isbn(self, *, isbn13: str, deadline: float | None) -> ProviderPage:
        return self._get(f"book/{isbn13}", None, deadline)

    def search_isbns(self, *, isbns13: Sequence[str], deadline: float | None) -> ProviderPage:
        """`POST /books` {"isbns": [...]}: books found (unknown ISBNs are left out). One request, but
        ISBNdb counts every ISBN in it against the daily quota."""
        raw = self.post_json(
            "books",
            json_body={"isbns": list(isbns13)},
            headers={"Authorization": self.api_key() or ""},
            deadline=deadline,
        )
        return normalize_books(raw)

    def search_title(self, *, query: str, limit: int, offset: int, deadline: float | None) -> ProviderPage:
        limit, offset = min(max(limit, 1), 100), max(offset, 0)
        page, page_size = page_window(offset=offset, limit=limit)
        raw = self.get_json(
            f"books/{quote(query, safe='')}",
            params={"page": page, "pageSize": page_size, "column": "title"},
            headers={"Authorization": self.api_key() or ""},
            deadline=deadline,
        )
        # Cut the raw records (before normalizing drops any) to [offset, offset + limit).
        start = offset - (page - 1) * page_size
        if isinstance(raw, Mapping):
            raw = {
                k: v[start : start + limit] if k in ("data", "books") and isinstance(v, list) else v
                for k, v in raw.items()
            }
        return normalize_books(raw)

    def search_advanced(
        self, *, title: str | None, author: str | None, limit: int, deadline: float | None
    ) -> ProviderPage:
        params: dict[str, Any] = {"page": 1, "pageSize": min(max(limit, 1), 100)}
        if title:
            params["text"] = title
        if author:
            params["author"] = author
        return self._get("search/books", params, deadline)

    def author_books(self, *, name: str, limit: int, deadline: float | None) -> ProviderPage:
        return self._get(f"author/{quote(name, safe='')}", {"page": 1, "pageSize": min(max(limit, 1), 100)}, deadline)
