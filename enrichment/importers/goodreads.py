"""Goodreads "Export Library": the current 23-column file and the older 31-column one.

The reader's rating is "My Rating" (0 = not rated); "Average Rating" (legacy) is the site's and
is never read. Status is the "Exclusive Shelf" (read, currently-reading, to-read, or a custom
exclusive shelf such as did-not-finish); "Date Read" is the last reading and "Read Count" counts
re-reads. ISBNs come wrapped in Excel's ="...".
"""

from __future__ import annotations

from enrichment.importers import cells
from enrichment.importers.base import Importer, Values
from enrichment.importers.dto import ReadingSpan

CURRENT_HEADER: tuple[str, ...] = (
    "book id", "title", "author", "author l-f", "additional authors", "isbn", "isbn13", "my rating",
    "publisher", "binding", "number of pages", "year published", "original publication year",
    "date read", "date added", "bookshelves", "bookshelves with positions", "exclusive shelf",
    "my review", "spoiler", "private notes", "read count", "owned copies",
)  # fmt: skip
LEGACY_EXTRA: tuple[str, ...] = (
    "average rating", "recommended for", "recommended by", "original purchase date",
    "original purchase location", "condition", "condition description", "bcid",
)  # fmt: skip


class GoodreadsImporter(Importer):
    name = "goodreads"
    signature = CURRENT_HEADER
    id_scheme = "goodreads"
    columns = {
        "book_id": ("book id",),
        "title": ("title",),
        "author": ("author",),
        "additional_authors": ("additional authors",),
        "isbn": ("isbn",),
        "isbn13": ("isbn13",),
        "rating": ("my rating",),
        "publisher": ("publisher",),
        "format": ("binding",),
        "pages": ("number of pages",),
        "year": ("year published", "original publication year"),
        "date_read": ("date read",),
        "shelves": ("bookshelves",),
        "status": ("exclusive shelf",),
        "read_count": ("read count",),
    }

    def year(self, v: Values) -> int | None:
        return cells.year_parse(v.get("year"))

    def read_count(self, v: Values, reads: tuple[ReadingSpan, ...]) -> int | None:
        # Goodreads writes 1 for books on to-read too; a count without a finished read says nothing.
        count = cells.int_parse(v.get("read_count"))
        return count if count and (reads or self.status(v) == "read") else None


class GoodreadsLegacyImporter(GoodreadsImporter):
    name = "goodreads-legacy"
    signature = CURRENT_HEADER + LEGACY_EXTRA
