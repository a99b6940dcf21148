"""Openreads (the app) CSV export: status finished | in_progress | planned | unfinished, ratings
in halves, tags joined by ``|||||``, "readings" as ``start|finish|time`` entries joined by ``;``,
"olid" (an Open Library edition), and a "deleted" flag (a deleted book is reported, not imported).
"description", "my_review" and "notes" are never read.
"""

from __future__ import annotations

from enrichment.importers import cells
from enrichment.importers.base import Importer, Values
from enrichment.importers.dto import ReadingSpan


class OpenreadsImporter(Importer):
    name = "openreads"
    signature = (
        "title", "subtitle", "author", "description", "status", "favourite", "deleted", "rating",
        "pages", "publication_year", "isbn", "olid", "tags", "my_review", "notes", "book_format",
        "readings", "date_added", "date_modified",
    )  # fmt: skip
    columns = {
        "title": ("title",),
        "author": ("author",),
        "status": ("status",),
        "deleted": ("deleted",),
        "rating": ("rating",),
        "pages": ("pages",),
        "year": ("publication_year",),
        "isbn": ("isbn",),
        "book_id": ("olid",),
        "shelves": ("tags",),
        "format": ("book_format",),
        "readings": ("readings",),
    }
    id_scheme = "openlibrary_edition"
    shelf_separator = "|||||"
    unflip_authors = True
    status_words = {"in-progress": "currently-reading", "unfinished": "dnf"}

    def reads(self, v: Values) -> tuple[ReadingSpan, ...]:
        spans = []
        for entry in (v.get("readings") or "").split(";"):
            parts = entry.split("|")
            started = cells.date_parse(parts[0]) if parts else None
            finished = cells.date_parse(parts[1]) if len(parts) > 1 else None
            if started or finished:
                spans.append(ReadingSpan(started, finished))
        return tuple(spans)

    def skip_reason(self, v: Values) -> str | None:
        if cells.unwrap(v.get("deleted")).lower() == "true":
            return "The book is marked deleted in Openreads."
        return None
