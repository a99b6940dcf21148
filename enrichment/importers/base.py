"""The importer base: a format is a header signature, a column table and a few hooks (BookWyrm-style).

An importer is bound to one file's header (`Importer.bind`) into a `Plan` (our key -> column index);
`Plan.convert` turns one record into an `ImportRow` or a `RowProblem`. Subclasses override only
the hooks whose source words or layout differ; every cell is parsed by `cells` (pure).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from enrichment.importers import cells
from enrichment.importers.dto import ImportRow, ReadingSpan, ReadingStatus, RowProblem
from enrichment.importers.reading import Record

Values = Mapping[str, str]

# Our column keys -> the wire field they feed (for the preview's column mapping).
KEY_FIELDS: dict[str, str] = {
    "title": "title",
    "author": "author",
    "authors": "author",
    "additional_authors": "authors",
    "isbn": "isbn",
    "isbn13": "isbn13",
    "isbns": "isbn",
    "identifiers": "sourceIds",
    "publisher": "publisher",
    "year": "publicationYear",
    "pages": "pageCount",
    "rating": "rating",
    "status": "readingStatus",
    "collections": "readingStatus",
    "date_read": "dateRead",
    "date_started": "datesRead",
    "dates_read": "datesRead",
    "readings": "datesRead",
    "read_count": "readCount",
    "shelves": "shelves",
    "shelf_name": "shelves",
    "format": "format",
    "book_id": "sourceIds",
    "asin": "asin",
    "work_id": "sourceIds",
    "edition_id": "sourceIds",
    "goodreads_id": "sourceIds",
    "deleted": "deleted",
    "stopped": "readingStatus",
}


def header_key(name: str) -> str:
    """How header names are compared: trimmed, case-folded, inner whitespace collapsed."""
    return re.sub(r"\s+", " ", name.strip().strip("\ufeff").casefold())


class Importer:
    """One export format. Class attributes are data; hooks read the bound row's values."""

    name: ClassVar[str]
    signature: ClassVar[tuple[str, ...]] = ()  # header names (as header_key) that identify the format
    columns: ClassVar[dict[str, tuple[str, ...]]] = {}  # our key -> header names, first present wins
    min_score: ClassVar[float] = 0.8
    status_words: ClassVar[dict[str, ReadingStatus]] = {}
    id_scheme: ClassVar[str | None] = None  # the source's own book id column ("book_id")
    isbn_id_scheme: ClassVar[str] = "id"  # what a non-ISBN id in an ISBN column is called
    author_separator: ClassVar[str | None] = None  # split "author" into several names
    shelf_separator: ClassVar[str] = ","
    unflip_authors: ClassVar[bool] = False

    def score(self, keys: frozenset[str]) -> float:
        """Share of the signature present in a header (0-1)."""
        if not self.signature:
            return 0.0
        return sum(1 for name in self.signature if name in keys) / len(self.signature)

    def bind(self, header: Sequence[str]) -> Plan:
        positions: dict[str, int] = {}
        for i, name in enumerate(header):
            positions.setdefault(header_key(name), i)
        index = {}
        for key, names in self.columns.items():
            for name in names:
                if name in positions:
                    index[key] = positions[name]
                    break
        return Plan(self, tuple(header), index)

    # --- hooks -----------------------------------------------------------------------------------

    def title(self, v: Values) -> str:
        return re.sub(r"\s+", " ", v.get("title", "")).strip()

    def authors(self, v: Values) -> tuple[str, ...]:
        raw = v.get("author", "")
        names = (
            cells.list_split(raw, self.author_separator)
            if self.author_separator
            else ((raw.strip(),) if raw.strip() else ())
        )
        if self.unflip_authors:
            names = tuple(cells.name_unflip(name) for name in names)
        extra = cells.list_split(v.get("additional_authors", ""))
        return tuple(dict.fromkeys((*names, *extra)))

    def isbn_cells(self, v: Values) -> list[str]:
        return [v.get("isbn13", ""), v.get("isbn", ""), v.get("isbns", "")]

    def publisher(self, v: Values) -> str | None:
        return cells.unwrap(v.get("publisher")) or None

    def year(self, v: Values) -> int | None:
        return cells.year_parse(v.get("year"))

    def pages(self, v: Values) -> int | None:
        return cells.int_parse(v.get("pages"))

    def rating(self, v: Values) -> float | None:
        return cells.rating_parse(v.get("rating"))

    def status(self, v: Values) -> ReadingStatus | None:
        return cells.status_parse(v.get("status"), words=self.status_words)

    def reads(self, v: Values) -> tuple[ReadingSpan, ...]:
        spans = cells.spans_parse(v.get("dates_read"))
        if spans:
            return spans
        started, finished = cells.date_parse(v.get("date_started")), cells.date_parse(v.get("date_read"))
        return (ReadingSpan(started, finished),) if started or finished else ()

    def read_count(self, v: Values, reads: tuple[ReadingSpan, ...]) -> int | None:
        count = cells.int_parse(v.get("read_count"))
        return count or (len([r for r in reads if r.finished]) or None)

    def shelves(self, v: Values) -> tuple[str, ...]:
        names = cells.list_split(v.get("shelves"), self.shelf_separator)
        return tuple(name for name in names if cells.status_key(name) not in cells.STATUS_WORDS)

    def format(self, v: Values) -> str | None:
        return cells.format_parse(v.get("format"))

    def source_ids(self, v: Values) -> tuple[tuple[str, str], ...]:
        book_id = cells.unwrap(v.get("book_id"))
        return ((self.id_scheme, book_id),) if self.id_scheme and book_id else ()

    def skip_reason(self, v: Values) -> str | None:
        """Why a row is not a book to import (a deleted entry...), or None."""
        return None


@dataclass(frozen=True, slots=True)
class Plan:
    """An importer bound to one header: our key -> column index."""

    importer: Importer
    header: tuple[str, ...]
    index: dict[str, int]
    format_name: str | None = None  # a mapping applied by the generic importer names its origin

    @property
    def format(self) -> str:
        return self.format_name or self.importer.name

    def mapping(self) -> dict[str, str]:
        """Column as written in the file -> the wire field it feeds (the preview's ``mapping``)."""
        out: dict[str, str] = {}
        for key, i in sorted(self.index.items(), key=lambda item: item[1]):
            column = self.header[i].strip() if i < len(self.header) else f"column {i + 1}"
            out.setdefault(column or f"column {i + 1}", KEY_FIELDS.get(key, key))
        return out

    def convert(self, number: int, record: Record) -> ImportRow | RowProblem:
        row = record.cells
        size = len(row)
        v = {key: (row[i] if i < size else "") for key, i in self.index.items()}
        imp = self.importer
        title = imp.title(v)
        if reason := imp.skip_reason(v):
            return RowProblem(row=number, title=title or None, error=reason)
        pick = cells.isbns_pick(imp.isbn_cells(v))
        source_ids = imp.source_ids(v) + tuple((imp.isbn_id_scheme, other) for other in pick.other_ids)
        if not title and not pick.isbn13 and not source_ids:
            error = "The row has no title, no valid ISBN and no book id."
            if pick.warnings:
                error += " " + " ".join(pick.warnings)
            return RowProblem(row=number, error=error)
        warnings = list(pick.warnings)
        for i in sorted(record.damaged):
            column = self.header[i].strip() if i < len(self.header) else f"column {i + 1}"
            warnings.append(f"Column '{column}' held bytes that are not UTF-8; they were read as MARC-8/cp1252.")
        reads = imp.reads(v)
        return ImportRow(
            row=number,
            title=title,
            authors=imp.authors(v),
            isbn=pick.isbn10,
            isbn13=pick.isbn13,
            publisher=imp.publisher(v),
            publication_year=imp.year(v),
            page_count=imp.pages(v),
            rating=imp.rating(v),
            reading_status=imp.status(v),
            reads=reads,
            read_count=imp.read_count(v, reads),
            shelves=imp.shelves(v),
            format=imp.format(v),
            asin=pick.asin or cells.unwrap(v.get("asin")) or None,
            source_ids=source_ids,
            warnings=tuple(warnings),
        )
