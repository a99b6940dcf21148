"""Calibre's CSV catalog: "identifiers" (``goodreads:39077187,isbn:9780756411800``), several
authors joined by `` & ``, "pubdate" as an ISO timestamp, "formats" (epub...) and the calibre id.
Calibre has no reading status. The long "comments" (the book's description) are never read.
"""

from __future__ import annotations

from enrichment.importers import cells
from enrichment.importers.base import Importer, Values


class CalibreImporter(Importer):
    name = "calibre"
    signature = (
        "authors", "author_sort", "rating", "library_name", "timestamp", "formats", "isbn",
        "identifiers", "tags", "series", "series_index", "languages", "title", "title_sort",
        "publisher", "pubdate", "id", "uuid",
    )  # fmt: skip
    columns = {
        "book_id": ("id",),
        "title": ("title",),
        "author": ("authors",),
        "isbn": ("isbn",),
        "identifiers": ("identifiers",),
        "publisher": ("publisher",),
        "year": ("pubdate",),
        "rating": ("rating",),
        "shelves": ("tags",),
        "format": ("formats",),
    }
    id_scheme = "calibre"
    author_separator = "&"

    def _identifiers(self, v: Values) -> list[tuple[str, str]]:
        pairs = []
        for item in cells.list_split(v.get("identifiers")):
            scheme, _, value = item.partition(":")
            if value:
                pairs.append((scheme.strip().lower(), value.strip()))
        return pairs

    def isbn_cells(self, v: Values) -> list[str]:
        return [v.get("isbn", "")] + [value for scheme, value in self._identifiers(v) if scheme == "isbn"]

    def source_ids(self, v: Values) -> tuple[tuple[str, str], ...]:
        ids = [pair for pair in self._identifiers(v) if pair[0] not in ("isbn", "amazon", "mobi-asin")]
        return super().source_ids(v) + tuple(ids)

    def format(self, v: Values) -> str | None:
        first = cells.list_split(v.get("format"))
        return cells.format_parse(first[0]) if first else None
