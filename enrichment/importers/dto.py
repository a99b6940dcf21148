"""What an import yields per data row (CONTRACT section 9, CSV results), and the preview.

Reviews and private notes are never carried: no field here can hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Wire = dict[str, object]

ReadingStatus = Literal["read", "currently-reading", "to-read", "dnf"]


@dataclass(frozen=True, slots=True)
class ReadingSpan:
    """One reading of a book: started and/or finished (a re-read is another span)."""

    started: date | None = None
    finished: date | None = None


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One usable data row. ``row`` is the file's 1-based data row (the header is not a row)."""

    row: int
    title: str
    authors: tuple[str, ...] = ()
    isbn: str | None = None  # ISBN-10, only when valid (derived from the ISBN-13 when possible)
    isbn13: str | None = None
    publisher: str | None = None
    publication_year: int | None = None
    page_count: int | None = None
    rating: float | None = None  # the reader's own rating, 0.5-5; never a site's average
    reading_status: ReadingStatus | None = None
    reads: tuple[ReadingSpan, ...] = ()
    read_count: int | None = None
    shelves: tuple[str, ...] = ()
    format: str | None = None
    asin: str | None = None
    source_ids: tuple[tuple[str, str], ...] = ()  # (scheme, id): ("goodreads", "42036538")...
    warnings: tuple[str, ...] = ()  # kept-but-noteworthy: a bad ISBN dropped, bytes repaired...

    @property
    def author(self) -> str | None:
        return self.authors[0] if self.authors else None

    @property
    def date_read(self) -> date | None:
        finished = [span.finished for span in self.reads if span.finished]
        return max(finished) if finished else None

    def to_wire(self) -> Wire:
        """The CONTRACT 9 CSV book fields (camelCase); optional fields are omitted when empty."""
        out: Wire = {"row": self.row, "title": self.title, "author": self.author}
        optional: Wire = {
            "isbn": self.isbn,
            "isbn13": self.isbn13,
            "publisher": self.publisher,
            "publicationYear": self.publication_year,
            "pageCount": self.page_count,
            "rating": self.rating,
            "readingStatus": self.reading_status,
            "dateRead": self.date_read.isoformat() if self.date_read else None,
            "shelves": list(self.shelves) or None,
            "authors": list(self.authors) if len(self.authors) > 1 else None,
            "readCount": self.read_count,
            "datesRead": [
                {
                    "started": s.started.isoformat() if s.started else None,
                    "finished": s.finished.isoformat() if s.finished else None,
                }
                for s in self.reads
            ]
            or None,
            "format": self.format,
            "asin": self.asin,
            "sourceIds": dict(self.source_ids) or None,
            "warnings": list(self.warnings) or None,
        }
        out.update((key, value) for key, value in optional.items() if value is not None)
        return out


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A data row that could not be used; ``title`` when one could be read."""

    row: int
    error: str
    title: str | None = None

    def to_wire(self) -> Wire:
        out: Wire = {"row": self.row, "error": self.error}
        if self.title:
            out["title"] = self.title
        return out


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """What `POST /api/import/csv/preview` answers: no job, the first rows parsed."""

    format: str
    mapping: dict[str, str]  # column as in the file -> our wire field
    row_count: int
    rows: tuple[ImportRow, ...]
    problems: tuple[RowProblem, ...]
    blank_lines: int = 0
    encoding: str = "utf-8"
    delimiter: str = ","
    problems_truncated: bool = False

    def to_wire(self) -> Wire:
        return {
            "format": self.format,
            "mapping": dict(self.mapping),
            "rowCount": self.row_count,
            "rows": [row.to_wire() for row in self.rows],
            "problems": [problem.to_wire() for problem in self.problems],
            "blankLines": self.blank_lines,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "problemsTruncated": self.problems_truncated,
        }
