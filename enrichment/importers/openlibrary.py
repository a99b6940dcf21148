"""Open Library reading-log exports.

Current (15 columns, ``ReadingLogExport.fieldnames``): Work ID, Title, Authors (joined by " | "),
First Publish Year, Edition ID, ..., Bookshelf (Want to Read, Currently Reading, Already Read,
Stopped Reading), My Ratings (the reader's; "Ratings Average" is the site's and never read).
Legacy: ``Work Id,Edition Id,Bookshelf`` only: no title, so the row is identified by its OL ids.
"""

from __future__ import annotations

from enrichment.importers import cells
from enrichment.importers.base import Importer, Values

CURRENT_HEADER: tuple[str, ...] = (
    "work id", "title", "authors", "first publish year", "edition id", "edition count", "bookshelf",
    "my ratings", "ratings average", "ratings count", "has ebook", "subjects", "subject people",
    "subject places", "subject times",
)  # fmt: skip
LEGACY_HEADER: tuple[str, ...] = ("work id", "edition id", "bookshelf")


class OpenLibraryImporter(Importer):
    name = "openlibrary"
    signature = CURRENT_HEADER
    columns = {
        "work_id": ("work id",),
        "edition_id": ("edition id",),
        "title": ("title",),
        "author": ("authors",),
        "year": ("first publish year",),
        "status": ("bookshelf",),
        "rating": ("my ratings",),
    }
    author_separator = "|"

    def source_ids(self, v: Values) -> tuple[tuple[str, str], ...]:
        ids = []
        for scheme, key in (("openlibrary_work", "work_id"), ("openlibrary_edition", "edition_id")):
            value = cells.unwrap(v.get(key)).removeprefix("/works/").removeprefix("/books/")
            if value:
                ids.append((scheme, value))
        return tuple(ids)


class OpenLibraryLegacyImporter(OpenLibraryImporter):
    name = "openlibrary-legacy"
    signature = LEGACY_HEADER
