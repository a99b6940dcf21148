"""LibraryThing export (TSV or CSV, same columns): "[2070291340]" bracketed ISBNs plus an "ISBNs"
list, "Primary Author" as ``Last, First``, "Publication" as ``Publisher (1979), Binding``, dates
in brackets. Status comes from the "Collections" (Currently reading, To read, Read but unowned,
Wishlist), else from the dates (read, or started). Review, Comment and Private Comment are never read.
"""

from __future__ import annotations

import re

from enrichment.importers import cells
from enrichment.importers.base import Importer, Values
from enrichment.importers.dto import ReadingStatus


class LibraryThingImporter(Importer):
    name = "librarything"
    signature = (
        "book id", "title", "sort character", "primary author", "primary author role", "secondary author",
        "publication", "date", "review", "rating", "comment", "private comment", "summary", "media",
        "page count", "date started", "date read", "tags", "collections", "isbn", "isbns", "work id",
    )  # fmt: skip
    columns = {
        "book_id": ("book id",),
        "title": ("title",),
        "author": ("primary author",),
        "publisher": ("publication",),
        "year": ("date",),
        "rating": ("rating",),
        "format": ("media",),
        "pages": ("page count",),
        "date_started": ("date started",),
        "date_read": ("date read",),
        "shelves": ("tags",),
        "collections": ("collections",),
        "isbn": ("isbn",),
        "isbns": ("isbns",),
    }
    id_scheme = "librarything"
    unflip_authors = True

    def publisher(self, v: Values) -> str | None:
        text = cells.unwrap(v.get("publisher"))
        return re.split(r"\s*[(,]", text, maxsplit=1)[0].strip() or None

    def status(self, v: Values) -> ReadingStatus | None:
        for collection in cells.list_split(v.get("collections")):
            if found := cells.status_parse(collection):
                return found
        if cells.date_parse(v.get("date_read")):
            return "read"
        if cells.date_parse(v.get("date_started")):
            return "currently-reading"
        return None
