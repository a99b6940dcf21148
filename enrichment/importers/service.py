"""The import entry points: `parse_import` (every data row, lazily) and `preview_import` (no job).

The header (or its absence) is decided eagerly, so a file no importer can read raises InvalidFile
before the first row; rows are then converted one at a time, memory flat in the file size.
Every data row yields exactly one `ImportRow` or `RowProblem`; blank lines are skipped and counted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from booktrack.core.exceptions import InvalidFile
from enrichment.importers.dto import ImportPreview, ImportRow, RowProblem
from enrichment.importers.gemini_mapping import SAMPLE_ROWS, ColumnMapping, columns_map
from enrichment.importers.reading import CsvReader, Record
from enrichment.importers.registry import GENERIC, detect

PREVIEW_ROWS = 20
PREVIEW_PROBLEMS = 200


class ImportStream:
    """An opened upload: its plan (format + column mapping) and its rows, read on iteration."""

    def __init__(self, data: bytes, *, filename: str | None = None, mapping: ColumnMapping | None = None) -> None:
        if not data or data.isspace():  # (strip() would copy the whole upload)
            raise InvalidFile("The file is empty.")
        self.reader = CsvReader(data, filename=filename)
        self.row_count = 0
        records = iter(self.reader)
        header = next(records, None)
        if header is None:
            raise InvalidFile("The file has no rows.")
        self.column_mapping: ColumnMapping | None = None  # set when Gemini mapped an unknown layout
        importer = detect(header.cells)
        if importer is not None:
            self.plan = importer.bind(header.cells)
            self._records: Iterator[Record] = records
            return
        samples = list(itertools.islice(records, SAMPLE_ROWS))
        # A job passes the mapping its upload was checked with: the same columns, with no second Gemini call.
        mapping = mapping or columns_map(header=header.cells, samples=[s.cells for s in samples])
        self.column_mapping = mapping
        if mapping.has_header_row:
            self.plan = GENERIC.bind_indices(header.cells, mapping.columns)
            self._records = itertools.chain(samples, records)
        else:
            width = max(len(r.cells) for r in (header, *samples))
            labels = tuple(f"column {i + 1}" for i in range(width))
            self.plan = GENERIC.bind_indices(labels, mapping.columns)
            self._records = itertools.chain((header,), samples, records)

    @property
    def format(self) -> str:
        return self.plan.format

    def mapping(self) -> dict[str, str]:
        return self.plan.mapping()

    def __iter__(self) -> Iterator[ImportRow | RowProblem]:
        convert = self.plan.convert
        self.row_count = 0
        for number, record in enumerate(self._records, start=1):
            self.row_count = number
            yield convert(number, record)


def import_open(*, data: bytes, filename: str | None = None, mapping: ColumnMapping | None = None) -> ImportStream:
    return ImportStream(data, filename=filename, mapping=mapping)


def parse_import(data: bytes, *, filename: str | None = None) -> Iterator[ImportRow | RowProblem]:
    """Every data row of an upload as an ImportRow or a RowProblem, in file order.

    Raises InvalidFile (eagerly) when the file is empty or its layout cannot be mapped."""
    return iter(import_open(data=data, filename=filename))


def preview_import(data: bytes, *, filename: str | None = None, limit: int = PREVIEW_ROWS) -> ImportPreview:
    """Format, column mapping, row count, the first `limit` parsed rows and the problems."""
    stream = import_open(data=data, filename=filename)
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    truncated = False
    for item in stream:
        if isinstance(item, RowProblem):
            if len(problems) < PREVIEW_PROBLEMS:
                problems.append(item)
            else:
                truncated = True
        elif len(rows) < limit:
            rows.append(item)
    return ImportPreview(
        format=stream.format,
        mapping=stream.mapping(),
        row_count=stream.row_count,
        rows=tuple(rows),
        problems=tuple(problems),
        blank_lines=stream.reader.blank_lines,
        encoding=stream.reader.encoding,
        delimiter=stream.reader.delimiter,
        problems_truncated=truncated,
    )
