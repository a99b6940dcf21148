"""Every real export in tests/fixtures/upstream/csv parses with every data row accounted for."""

from __future__ import annotations

import csv
import io

import pytest

from enrichment.importers.dto import ImportRow
from tests.enrichment.importers.conftest import parse_all
from tests.samples import UPSTREAM_FIXTURES

CSV_DIR = UPSTREAM_FIXTURES / "csv"

SAMPLES = {
    "goodreads_export_2026_23col.csv": "goodreads",
    "goodreads_export_legacy_31col.csv": "goodreads-legacy",
    "storygraph_export_lectorflow.csv": "storygraph",
    "storygraph_export_bookwyrm.csv": "storygraph",
    "librarything_export.tsv": "librarything",
    "calibre_catalog.csv": "calibre",
    "openlibrary_reading_log_legacy.csv": "openlibrary-legacy",
    "openreads_export.csv": "openreads",
    "bookwyrm_export.csv": "bookwyrm",
    "generic_books.csv": "generic",
    "bookstrack_sample_books.csv": "generic",
}


def _data_rows(name: str) -> int:
    """Counted independently of the importer: csv records minus the header and blank records."""
    text = (CSV_DIR / name).read_bytes().decode("utf-8", errors="replace")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t" if name.endswith(".tsv") else ","))
    return sum(1 for r in records[1:] if any(c.strip() for c in r))


def test_every_sample_is_listed():
    assert sorted(p.name for p in CSV_DIR.iterdir()) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_detected_and_every_row_accounted_for(name):
    stream, books, problems = parse_all((CSV_DIR / name).read_bytes(), filename=name)
    assert stream.format == SAMPLES[name]
    expected = _data_rows(name)
    assert expected > 0
    assert len(books) + len(problems) == expected == stream.row_count
    numbers = sorted(item.row for item in (*books, *problems))
    assert numbers == list(range(1, expected + 1))
    assert not problems


def _book(name: str, row: int) -> ImportRow:
    _, books, _ = parse_all((CSV_DIR / name).read_bytes(), filename=name)
    return next(b for b in books if b.row == row)


def test_goodreads_current_fields_statuses_and_bad_isbn10():
    name = "goodreads_export_2026_23col.csv"
    first = _book(name, 1)
    assert (first.title, first.author, first.isbn, first.isbn13) == (
        "O Amor nos Tempos do Cólera",
        "Gabriel García Márquez",
        "850102872X",
        "9788501028723",
    )
    assert first.reading_status == "to-read" and first.rating is None  # "My Rating" 0 = not rated
    assert first.source_ids == (("goodreads", "510652"),)
    assert _book(name, 2).reading_status == "currently-reading"
    assert _book(name, 4).reading_status == "dnf"  # exclusive shelf did-not-finish
    # "9788566256" is a malformed ISBN-10; the valid ISBN-13 of the pair wins.
    assert _book(name, 9).isbn13 == "9788566256352"
    assert _book(name, 5).isbn13 == "9788565500012"  # ISBN13 without an ISBN
    assert _book(name, 3).isbn13 is None  # both ="" (a Kindle edition)
    little_women = _book(name, 8)
    assert little_women.shelves == ("favorites",) and little_women.rating == 5
    assert little_women.authors[1:] == ("Regina Barreca", "Grzegorz Komerski", "Marta Fihel")
    assert _book(name, 6).read_count == 2
    assert _book(name, 10).page_count is None  # "Number of Pages" 0 = unknown


def test_goodreads_legacy_reads_my_rating_not_the_average():
    gideon = _book("goodreads_export_legacy_31col.csv", 1)
    assert gideon.rating == 3  # "Average Rating" is 4.20
    assert gideon.date_read.isoformat() == "2020-10-25"


def test_storygraph_ranges_rereads_uid_and_formats():
    name = "storygraph_export_lectorflow.csv"
    edgedancer = _book(name, 6)
    assert [(s.started.isoformat(), s.finished.isoformat()) for s in edgedancer.reads] == [("2025-04-19", "2025-04-21")]
    assert edgedancer.rating == 4
    assert _book(name, 10).read_count == 2
    assert _book(name, 17).rating == 4.5
    assert _book(name, 16).reading_status == "currently-reading"
    assert _book(name, 7).title == "Palabras radiantes"  # trailing space dropped
    assert _book(name, 11).isbn == "8447333558"  # ISBN-10 in ISBN/UID
    assert _book(name, 13).format == "audiobook"
    assert _book(name, 5).format == "ebook"


def test_librarything_marc8_row_kept_with_its_report():
    marelle = _book("librarything_export.tsv", 1)
    assert marelle.title == "Marelle" and marelle.author == "Julio Cortazar"
    assert marelle.isbn13 == "9782070291342" and marelle.rating == 4.5
    assert marelle.publisher == "Gallimard" and marelle.publication_year == 1979
    assert marelle.reading_status == "read"
    assert any("Subjects" in w and "UTF-8" in w for w in marelle.warnings)


def test_calibre_identifiers_and_openlibrary_ids():
    calibre = _book("calibre_catalog.csv", 1)
    assert calibre.isbn13 == "9780756411800" and ("goodreads", "39077187") in calibre.source_ids
    assert calibre.reading_status is None  # calibre has no reading status
    log = _book("openlibrary_reading_log_legacy.csv", 4)
    assert log.reading_status == "read" and ("openlibrary_edition", "OL25726365M") in log.source_ids
    assert _book("openlibrary_reading_log_legacy.csv", 3).reading_status == "to-read"


def test_openreads_and_bookwyrm_statuses():
    assert _book("openreads_export.csv", 1).reading_status == "to-read"  # planned
    record = _book("openreads_export.csv", 2)
    assert record.reading_status == "read" and record.date_read.isoformat() == "2023-11-28"
    assert _book("openreads_export.csv", 4).author == "Mark Smith"
    assert _book("bookwyrm_export.csv", 2).shelves == ("Cooking",)
    assert _book("bookwyrm_export.csv", 3).reading_status == "read"


def test_reviews_and_private_notes_are_never_kept():
    for name in SAMPLES:
        _, books, _ = parse_all((CSV_DIR / name).read_bytes(), filename=name)
        text = repr([b.to_wire() for b in books])
        for review in ("mixed feelings", "chef d'oeuvre", "Too much tahini", "in his hummus", "REPLACED COMMENTS"):
            assert review not in text
