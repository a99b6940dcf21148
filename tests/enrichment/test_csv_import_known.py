"""CSV import title + author rows (issue 10 item 5): books already known (found by ISBN in the same file,
stored in the catalog) match without an upstream search; identical rows are searched once."""

from __future__ import annotations

import pytest

from enrichment.csv_import import csv_import_run
from jobs.reporter import FakeProgressReporter
from search.catalog import catalog_lookup_titles, catalog_upsert_hits
from tests.enrichment.test_csv_import_service import DUNE, FakeLookup, csv_bytes, hit

PIRANESI = "9781635575637"


class CatalogLookup(FakeLookup):
    """A FakeLookup whose catalog holds `stored` (title key -> hits); counts catalog queries."""

    def __init__(self, stored=None, **kwargs):
        super().__init__(**kwargs)
        self.stored = stored or {}
        self.catalog_calls: list[list[str]] = []

    def by_title_keys(self, title_keys):
        self.catalog_calls.append(list(title_keys))
        return {k: self.stored[k] for k in title_keys if k in self.stored}


def run(data: bytes, lookup) -> dict:
    return csv_import_run(job_id="j", data=data, filename=None, reporter=FakeProgressReporter(), lookup=lookup).results


def test_title_row_of_a_book_matched_by_isbn_in_the_same_file_needs_no_search():
    lookup = FakeLookup(isbns={DUNE: hit("Dune", "Frank Herbert", DUNE)})
    results = run(csv_bytes(f"Dune,Frank Herbert,{DUNE},5,read", "Dune,Frank Herbert,,4,read"), lookup)
    by_row = {b["row"]: b for b in results["books"]}
    assert lookup.title_calls == []
    assert by_row[2]["enrichmentStatus"] == "success" and by_row[2]["match"]["method"] == "title_author"
    assert by_row[2]["match"]["evidence"]["source"] == "catalog" and by_row[2]["isbn13"] == DUNE


def test_title_rows_match_the_catalog_first_in_one_query_per_chunk():
    lookup = CatalogLookup(stored={"piranesi": [hit("Piranesi", "Susanna Clarke", PIRANESI)]})
    results = run(csv_bytes("Piranesi,Susanna Clarke,,0,to-read", "Piranesi,S. Clarke,,0,to-read"), lookup)
    assert lookup.catalog_calls == [["piranesi"]]
    assert lookup.title_calls == []
    assert [b["enrichmentStatus"] for b in results["books"]] == ["success", "success"]
    assert results["outcomes"]["matchedByTitleAuthor"] == 2


def test_a_weak_catalog_candidate_still_searches_upstream():
    lookup = CatalogLookup(
        stored={"piranesi": [hit("Piranesi", "Somebody Else Entirely", "9780000000002")]},
        titles={"Piranesi": [hit("Piranesi", "Susanna Clarke", PIRANESI)]},
    )
    results = run(csv_bytes("Piranesi,Susanna Clarke,,0,to-read"), lookup)
    assert lookup.title_calls == [("Piranesi", "Susanna Clarke")]
    book = results["books"][0]
    assert book["enrichmentStatus"] == "success" and book["isbn13"] == PIRANESI
    assert "source" not in book["match"]["evidence"]


def test_identical_title_rows_are_searched_once():
    lookup = FakeLookup(titles={"Piranesi": [hit("Piranesi", "Susanna Clarke", PIRANESI)]})
    rows = ["Piranesi,Susanna Clarke,,0,to-read"] * 3 + ['piranesi,"Clarke, Susanna",,0,to-read']
    results = run(csv_bytes(*rows), lookup)
    assert len(lookup.title_calls) == 1
    assert results["duplicates"] == 3
    assert all(b["enrichmentStatus"] == "success" for b in results["books"])


@pytest.mark.django_db
def test_catalog_lookup_titles_reads_stored_works_by_title_key():
    catalog_upsert_hits(hits=[hit("The Piranesi", "Susanna Clarke", PIRANESI), hit("Dune", "Frank Herbert", DUNE)])
    found = catalog_lookup_titles(title_keys=["piranesi", "unknown book"])
    assert list(found) == ["piranesi"]
    assert [h.edition.isbn for h in found["piranesi"]] == [PIRANESI]
    assert found["piranesi"][0].author_names == ("Susanna Clarke",)
    assert catalog_lookup_titles(title_keys=[]) == {}
