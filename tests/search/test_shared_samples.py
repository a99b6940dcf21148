"""Every real upstream sample in tests/fixtures/upstream goes through the normalizers."""

from __future__ import annotations

import json

import pytest

from search.dto import FORMATS
from search.providers import google_books, isbndb, openlibrary
from tests.samples import UPSTREAM_FIXTURES, sample_json, sample_lines

SHARED = UPSTREAM_FIXTURES
load = sample_json


def assert_clean_hit(hit):
    wire_work, wire_edition = hit.work.to_wire(), hit.edition.to_wire()
    assert wire_work["title"]
    assert wire_edition["format"] in FORMATS
    assert 0 <= wire_work["isbndbQuality"] <= 100
    for url in (hit.work.cover_image_url, hit.edition.cover_image_url):
        assert url is None or url.startswith(("https://", "http://upstream.test", "http://127.0.0.1"))
    if hit.edition.page_count is not None:
        assert hit.edition.page_count >= 1
    if hit.work.description:
        assert "<" not in hit.work.description or ">" not in hit.work.description
    if hit.edition.publication_date:
        assert len(hit.edition.publication_date) in (4, 7, 10)
    for author in hit.authors:
        assert "~" not in author.name


def test_shared_samples_every_file_is_covered():
    covered = set(SAMPLE_HANDLERS)
    on_disk = {
        str(p.relative_to(SHARED))
        for folder in ("google_books", "openlibrary", "isbndb")
        for p in (SHARED / folder).iterdir()
    }
    assert on_disk <= covered, on_disk - covered


def test_google_isbn_search_annihilation():
    page = google_books.normalize_volumes(load("google_books/volumes_q_isbn_9780374104092.json"))
    hit = page.hits[0]
    assert hit.edition.isbn == "9780374104092"
    assert "0374104093" in hit.edition.isbns
    assert hit.edition.edition_title
    assert hit.edition.cover_image_url.startswith("https://")
    assert_clean_hit(hit)


def test_google_volume_html_description_is_plain_text():
    raw = load("google_books/volume_by_id_2cl7AgAAQBAJ.json")
    hit = google_books.normalize_volumes(raw).hits[0]
    assert "<" not in hit.work.description and "&" not in hit.work.description[:50]
    largest = raw["volumeInfo"]["imageLinks"]["extraLarge"]
    assert hit.edition.cover_image_url.split("?")[0] == "https://" + largest.split("://", 1)[1].split("?")[0]
    assert_clean_hit(hit)


def test_google_escaped_html_and_bom():
    hit = google_books.normalize_volumes(load("google_books/volume_by_id_49T5twEACAAJ.json")).hits[0]
    assert "<b>" not in hit.work.description
    assert_clean_hit(hit)


def test_google_mojibake_description_cleaned():
    hit = google_books.normalize_volumes(load("google_books/volumes_q_isbn_9781761186769.json")).hits[0]
    assert "\u0096" not in hit.work.description and "\u0097" not in hit.work.description
    assert_clean_hit(hit)


def test_google_timestamp_date_and_zero_pages():
    page = google_books.normalize_volumes(load("google_books/volumes_search_children_of_time.json"))
    english, french = page.hits
    assert english.edition.page_count is None  # pageCount 0 means unknown
    assert "pageCount" not in english.edition.to_wire()
    assert french.edition.publication_date == "2019-10-03"
    assert page.total == 1499


def test_google_edge_cases_no_isbn_no_cover_no_authors():
    page = google_books.normalize_volumes(load("google_books/volumes_search_edge_cases.json"))
    assert len(page.hits) == 5
    years = {h.edition.publication_date for h in page.hits}
    assert "1808" in years
    assert any(h.edition.isbn is None for h in page.hits)
    assert any(not h.authors for h in page.hits)
    assert any(h.work.cover_image_url is None for h in page.hits)
    for hit in page.hits:
        assert_clean_hit(hit)
        assert "isbn" not in hit.edition.to_wire() or hit.edition.isbn


def test_ol_search_2024_format_last_doc_sparse():
    page = openlibrary.normalize_search(load("openlibrary/search_title_lord_of_the_rings.json"))
    assert len(page.hits) == 5
    assert page.hits[0].work.open_library_work_id.endswith("W")
    last = page.hits[-1]
    assert last.edition.isbn is None and last.work.cover_image_url is None
    assert last.work.first_publication_year is None
    for hit in page.hits:
        assert_clean_hit(hit)


def test_ol_search_2020_format():
    page = openlibrary.normalize_search(load("openlibrary/search_time_war_2020_format.json"))
    assert page.hits and page.hits[0].work.title
    for hit in page.hits:
        assert_clean_hit(hit)


def test_ol_search_default_fields_without_isbn():
    page = openlibrary.normalize_search(load("openlibrary/search_q_isbn_9788466358804_default_fields_2025.json"))
    hit = page.hits[0]
    assert hit.work.title == "Billy Summers" and hit.edition.isbn is None
    assert hit.work.cover_image_url.endswith("/b/id/14654070-L.jpg")
    assert "fields" not in openlibrary.SEARCH_FIELDS and "isbn" in openlibrary.SEARCH_FIELDS.split(",")


def test_ol_author_search():
    authors = openlibrary.normalize_author_search(load("openlibrary/search_authors_j_k_rowling.json"))
    assert authors[0].name == "J. K. Rowling" and authors[0].open_library_id == "OL23919A"
    assert authors[0].book_count == 1146 and authors[0].birth_year == 1965


def test_ol_edition_by_isbn():
    hit = openlibrary.normalize_edition(load("openlibrary/isbn_9780140328721_edition.json"))
    assert hit.edition.isbn == "9780140328721"
    assert hit.edition.publication_date == "1988-10-01"
    assert hit.work.open_library_work_id
    assert_clean_hit(hit)


def test_ol_edition_with_only_isbn10_gets_isbn13():
    hit = openlibrary.normalize_edition(load("openlibrary/isbn_9781888363432_edition_isbn10_only.json"))
    assert hit.edition.isbn == "9781888363432"
    assert hit.edition.publication_date == "1997"
    assert hit.work.description and "/type/text" not in hit.work.description
    assert_clean_hit(hit)


def test_ol_edition_sabriel_three_isbn10_no_covers():
    hit = openlibrary.normalize_edition(load("openlibrary/edition_OL22951843M_sabriel.json"))
    assert hit.edition.isbn and len(hit.edition.isbn) == 13
    assert hit.edition.cover_image_url is None
    assert_clean_hit(hit)


def test_ol_edition_markdown_description():
    hit = openlibrary.normalize_edition(load("openlibrary/edition_OL36884359M_markdown_description.json"))
    assert hit.work.description is None or "\r" not in hit.work.description
    assert_clean_hit(hit)


def test_ol_work_string_description_and_minus_one_cover():
    work = openlibrary.normalize_work(load("openlibrary/work_OL45804W.json"))
    assert work.description and work.cover_image_url and "/-1-" not in work.cover_image_url
    assert work.subject_tags


def test_ol_work_object_description():
    work = openlibrary.normalize_work(load("openlibrary/work_OL15832982W_sabriel.json"))
    assert work.description and not work.description.startswith("{")
    assert work.first_publication_year


def test_ol_work_editions_list_languages_and_formats():
    page = openlibrary.normalize_editions_list(
        load("openlibrary/work_OL15832982W_editions.json"), work=load("openlibrary/work_OL15832982W_sabriel.json")
    )
    assert len(page.hits) == 5 and page.total == 15
    spanish = [h for h in page.hits if h.edition.isbn == "9788478710539"][0]
    assert spanish.edition.language == "es" and spanish.edition.format == "Hardcover"
    assert spanish.work.description  # from the work record
    for hit in page.hits:
        assert_clean_hit(hit)


def test_ol_author_records():
    dahl = openlibrary.normalize_author(load("openlibrary/author_OL34184A.json"))
    assert dahl.name == "Roald Dahl" and dahl.open_library_id == "OL34184A"
    minimal = openlibrary.normalize_author(load("openlibrary/author_OL29463A_minimal.json"))
    assert minimal.birth_year and minimal.death_year


def test_ol_author_works():
    works = openlibrary.normalize_author_works(load("openlibrary/author_OL23919A_works.json"))
    assert len(works) == 5 and all(w.open_library_work_id for w in works)


def test_ol_api_books_with_and_without_cover():
    with_cover = openlibrary.normalize_api_books(load("openlibrary/api_books_jscmd_data_ISBN_9780316030571.json"))
    hit = with_cover.hits[0]
    assert hit.edition.isbn == "9780316030571" and hit.edition.page_count == 480
    assert hit.edition.cover_image_url.endswith("-L.jpg") and hit.authors[0].name == "Iain M. Banks"
    assert hit.edition.goodreads_id == "3395563"
    without = openlibrary.normalize_api_books(load("openlibrary/api_books_jscmd_data_ISBN_9782070427796.json"))
    assert without.hits[0].edition.isbn == "9782070427796"
    assert without.hits[0].edition.cover_image_url is None


def test_ol_reading_log():
    hits = openlibrary.normalize_reading_log(load("openlibrary/reading_log_want_to_read_mekBot.json"))
    assert len(hits) == 3 and hits[0].work.title == "Not Nice"


def test_isbndb_dump_records_quirks():
    lines = sample_lines("isbndb/isbndb_dump_book_records.jsonl")
    hits = [isbndb.normalize_book(json.loads(line)) for line in lines if line.strip()]
    first, second, third = hits
    assert first.edition.publication_date == "2015"  # int date_published
    assert first.edition.cover_image_url.startswith("https://images.isbndb.com")  # "Https://"
    assert first.edition.format == "Mass Market"
    assert first.work.title == "教えます！花嫁衣装 のトレンドニュース"  # non-Latin kept
    assert second.authors[0].name == "田中 卓也"  # ~autofilled~ removed
    assert second.edition.format == "Paperback" and "format" not in second.edition.provenance
    assert third.edition.format == "Hardcover" and third.edition.page_count == 8
    for hit in hits:
        assert_clean_hit(hit)


def test_isbndb_spec_shapes_match_the_normalizer():
    spec = load("isbndb/isbndb_openapi_v2.7.0_spec.json")
    text = json.dumps(spec)
    for name in ("date_published", "isbn13", "binding", "synopsis", "authors", "image", "pages"):
        assert f'"{name}"' in text
    page = isbndb.normalize_books({"total": 1, "data": [{"title": "X", "isbn13": "9780306406157"}]})
    assert page.hits[0].edition.isbn == "9780306406157"
    assert (
        isbndb.normalize_books({"book": {"title": "Y", "isbn": "0306406152"}}).hits[0].edition.isbn == "9780306406157"
    )


SAMPLE_HANDLERS = {
    "google_books/volumes_q_isbn_9780374104092.json",
    "google_books/volume_by_id_2cl7AgAAQBAJ.json",
    "google_books/volumes_q_isbn_9781761186769.json",
    "google_books/volumes_search_children_of_time.json",
    "google_books/volume_by_id_49T5twEACAAJ.json",
    "google_books/volumes_search_edge_cases.json",
    "openlibrary/search_title_lord_of_the_rings.json",
    "openlibrary/search_time_war_2020_format.json",
    "openlibrary/search_q_isbn_9788466358804_default_fields_2025.json",
    "openlibrary/search_authors_j_k_rowling.json",
    "openlibrary/isbn_9780140328721_edition.json",
    "openlibrary/isbn_9781888363432_edition_isbn10_only.json",
    "openlibrary/edition_OL22951843M_sabriel.json",
    "openlibrary/edition_OL36884359M_markdown_description.json",
    "openlibrary/work_OL45804W.json",
    "openlibrary/work_OL15832982W_sabriel.json",
    "openlibrary/work_OL15832982W_editions.json",
    "openlibrary/author_OL34184A.json",
    "openlibrary/author_OL29463A_minimal.json",
    "openlibrary/author_OL23919A_works.json",
    "openlibrary/api_books_jscmd_data_ISBN_9782070427796.json",
    "openlibrary/api_books_jscmd_data_ISBN_9780316030571.json",
    "openlibrary/reading_log_want_to_read_mekBot.json",
    "isbndb/isbndb_dump_book_records.jsonl",
    "isbndb/isbndb_openapi_v2.7.0_spec.json",
}

pytestmark = pytest.mark.django_db(databases=[])
