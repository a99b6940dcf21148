"""BookWyrm's user export CSV: shelf is to-read | reading | read | stopped-reading or a custom
shelf (then "shelf_name" is kept as a shelf), start/finish/stopped dates, isbn_10/isbn_13, and the
ids BookWyrm knows (openlibrary_key, goodreads_key, asin...). Review fields are never read.
"""

from __future__ import annotations

from enrichment.importers import cells
from enrichment.importers.base import Importer, Values
from enrichment.importers.dto import ReadingStatus


class BookWyrmImporter(Importer):
    name = "bookwyrm"
    signature = (
        "title", "author_text", "remote_id", "openlibrary_key", "inventaire_id", "librarything_key",
        "goodreads_key", "isbn_10", "isbn_13", "start_date", "finish_date", "stopped_date", "rating",
        "review_name", "review_content", "shelf", "shelf_name",
    )  # fmt: skip
    columns = {
        "title": ("title",),
        "author": ("author_text",),
        "book_id": ("remote_id",),
        "edition_id": ("openlibrary_key",),
        "goodreads_id": ("goodreads_key",),
        "asin": ("asin",),
        "isbn": ("isbn_10",),
        "isbn13": ("isbn_13",),
        "date_started": ("start_date",),
        "date_read": ("finish_date",),
        "stopped": ("stopped_date",),
        "rating": ("rating",),
        "status": ("shelf",),
        "shelf_name": ("shelf_name",),
    }
    id_scheme = "bookwyrm"

    def status(self, v: Values) -> ReadingStatus | None:
        found = super().status(v)
        if found is None and cells.date_parse(v.get("stopped")):
            return "dnf"
        return found

    def shelves(self, v: Values) -> tuple[str, ...]:
        if super().status(v) is not None:
            return ()
        name = cells.unwrap(v.get("shelf_name")) or cells.unwrap(v.get("status"))
        return (name,) if name else ()

    def source_ids(self, v: Values) -> tuple[tuple[str, str], ...]:
        ids = list(super().source_ids(v))
        for scheme, key in (("openlibrary_edition", "edition_id"), ("goodreads", "goodreads_id")):
            if value := cells.unwrap(v.get(key)):
                ids.append((scheme, value))
        return tuple(ids)
