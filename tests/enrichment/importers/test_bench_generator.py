from __future__ import annotations

from benchmarks.bench_csv import goodreads_csv, measure_parse
from tests.enrichment.importers.conftest import parse_all


def test_generated_goodreads_file_is_detected_and_every_row_accounted_for():
    data = goodreads_csv(300)
    stream, books, problems = parse_all(data)
    assert stream.format == "goodreads"
    assert len(books) + len(problems) == 300
    assert sum(1 for b in books if b.asin) == 15  # one row in 20 is a Kindle edition
    assert all(b.isbn13 is None for b in books if b.asin)
    assert measure_parse(data).rows == 300
