"""Column mapping by Gemini, only for a layout no importer recognizes (or a file with no header row).

The model sees the first line and at most `SAMPLE_ROWS` more (cells cut to `CELL_CHARS`), never
the whole file, and answers in JSON mode against a response schema: does the first line name the
columns, and which column (0-based) holds each of our fields. The answer is cached by the header's
hash for 30 days and then applied to every row by the generic importer, deterministically.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache

from booktrack.core.exceptions import InvalidFile, ProviderError, ProviderTimeout, ProviderUnavailable
from booktrack.core.gemini import gemini_generate
from enrichment.importers.base import header_key

if TYPE_CHECKING:
    from google.genai import types

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5
CELL_CHARS = 120
MAX_COLUMNS = 60
CACHE_SECONDS = 30 * 24 * 3600
CACHE_PREFIX = "csv-columns:v1:"

# Wire field asked of the model -> our column key.
FIELDS: dict[str, str] = {
    "title": "title",
    "author": "author",
    "isbn": "isbn",
    "isbn13": "isbn13",
    "publisher": "publisher",
    "publicationYear": "year",
    "pageCount": "pages",
    "rating": "rating",
    "readingStatus": "status",
    "dateRead": "date_read",
    "shelves": "shelves",
    "format": "format",
}

PROMPT = """You map the columns of a spreadsheet of books (a reader's library export) to fields.
Rows is a JSON array: the file's first line, then up to {samples} more lines; cells may be cut.
Answer with hasHeaderRow (true when the first line names the columns rather than holding a book)
and, for each field, the 0-based index of the column that holds it, or null when no column does.
Fields: title; author (the main author's name); isbn (ISBN-10, or the only ISBN column); isbn13;
publisher; publicationYear; pageCount; rating (the reader's own rating, never an average);
readingStatus (read / reading / to read words); dateRead; shelves (tags); format (binding).
Rows: {rows}"""


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    has_header_row: bool
    columns: dict[str, int]  # our column key -> 0-based index


def columns_map(*, header: Sequence[str], samples: Sequence[Sequence[str]]) -> ColumnMapping:
    """The mapping for this layout: from the cache, else from Gemini. Raises InvalidFile when the
    layout cannot be mapped (no key configured, or no title/ISBN column found)."""
    key = CACHE_PREFIX + hashlib.sha256("\x1f".join(header_key(h) for h in header).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return ColumnMapping(has_header_row=cached["hasHeaderRow"], columns=dict(cached["columns"]))
    if not settings.GEMINI_API_KEY:
        raise InvalidFile(
            "The columns of this file match no known export (Goodreads, StoryGraph, LibraryThing, Calibre, "
            "Open Library, Openreads, BookWyrm) and AI column mapping is not configured (GEMINI_API_KEY). "
            "Add a header row naming the Title and Author (or ISBN) columns.",
            details={"header": list(header)[:MAX_COLUMNS]},
        )
    width = min(MAX_COLUMNS, max(len(header), *(len(s) for s in samples)) if samples else len(header))
    rows = [[cell[:CELL_CHARS] for cell in row[:width]] for row in (header, *samples[:SAMPLE_ROWS])]
    answer = _ask(rows)
    mapping = _validated(answer, width)
    cache.set(key, {"hasHeaderRow": mapping.has_header_row, "columns": mapping.columns}, CACHE_SECONDS)
    return mapping


def _schema() -> types.Schema:
    from google.genai import types

    index = types.Schema(type=types.Type.INTEGER, nullable=True)
    return types.Schema(
        type=types.Type.OBJECT,
        properties={
            "hasHeaderRow": types.Schema(type=types.Type.BOOLEAN),
            "columns": types.Schema(
                type=types.Type.OBJECT,
                properties={name: index for name in FIELDS},
                required=["title", "author"],
            ),
        },
        required=["hasHeaderRow", "columns"],
    )


def _ask(rows: list[list[str]]) -> Any:
    prompt = PROMPT.format(samples=SAMPLE_ROWS, rows=json.dumps(rows, ensure_ascii=False))
    try:
        reply = gemini_generate(contents=prompt, response_schema=_schema())
    except (ProviderError, ProviderTimeout, ProviderUnavailable) as exc:
        log.warning("gemini column mapping failed: %s", exc.message)
        raise ProviderUnavailable(
            "The AI column mapping for this file's layout is unavailable right now; try again later.",
            details={"provider": "gemini", "status": (exc.details or {}).get("status")},
        ) from exc
    try:
        return json.loads(reply.text)
    except (ValueError, TypeError) as exc:
        raise InvalidFile("The columns of this file could not be mapped (the AI answer was not JSON).") from exc


def _validated(answer: object, width: int) -> ColumnMapping:
    if not isinstance(answer, dict) or not isinstance(answer.get("columns"), dict):
        raise InvalidFile("The columns of this file could not be mapped.")
    columns: dict[str, int] = {}
    for field, value in answer["columns"].items():
        key = FIELDS.get(field)
        if key and isinstance(value, int) and not isinstance(value, bool) and 0 <= value < width:
            columns.setdefault(key, value)
    if not {"title", "isbn", "isbn13"} & columns.keys():
        raise InvalidFile("No column of this file holds a book title or an ISBN.")
    return ColumnMapping(has_header_row=bool(answer.get("hasHeaderRow", True)), columns=columns)
