from __future__ import annotations

import pytest

from enrichment.importers.dto import ImportRow, RowProblem
from enrichment.importers.service import import_open


def parse_all(data: bytes, filename: str | None = None):
    """(stream, books, problems) for an upload."""
    stream = import_open(data=data, filename=filename)
    items = list(stream)
    books = [i for i in items if isinstance(i, ImportRow)]
    problems = [i for i in items if isinstance(i, RowProblem)]
    return stream, books, problems


@pytest.fixture
def parse():
    return parse_all
