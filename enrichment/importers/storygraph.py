"""The StoryGraph export: "Read Status" words (read, currently-reading, to-read, did-not-finish,
paused), "Star Rating" (the reader's, in halves), "Dates Read" as ranges ``2025/04/19-2025/04/21``
(several for re-reads) with "Read Count", and "ISBN/UID": an ISBN, or StoryGraph's own id when the
edition has none (kept as an id, never as an ISBN). "Authors" lists several names, comma-separated.
"""

from __future__ import annotations

from enrichment.importers.base import Importer


class StoryGraphImporter(Importer):
    name = "storygraph"
    signature = (
        "title", "authors", "contributors", "isbn/uid", "format", "read status", "date added",
        "last date read", "dates read", "read count", "moods", "pace", "star rating", "review",
        "content warnings", "tags", "owned?",
    )  # fmt: skip
    columns = {
        "title": ("title",),
        "author": ("authors",),
        "isbn": ("isbn/uid",),
        "format": ("format",),
        "status": ("read status",),
        "dates_read": ("dates read",),
        "date_read": ("last date read",),
        "read_count": ("read count",),
        "rating": ("star rating",),
        "shelves": ("tags",),
    }
    author_separator = ","
    isbn_id_scheme = "storygraph"
    status_words = {"paused": "currently-reading"}
