"""Cell quirks: spreadsheet-damaged ISBNs, ids in ISBN columns, ratings, statuses, dates."""

from __future__ import annotations

from datetime import date

import pytest

from enrichment.importers import cells


def test_excel_text_guard_is_unwrapped():
    assert cells.unwrap('="0316556343"') == "0316556343"
    assert cells.isbns_pick(['=""', '="9780316556347"']).isbn13 == "9780316556347"


def test_isbn10_that_lost_its_leading_zero_is_restored():
    pick = cells.isbns_pick(["316556343"])  # 0316556343 read as a number
    assert (pick.isbn10, pick.isbn13) == ("0316556343", "9780316556347")


def test_short_number_that_no_zeros_make_valid_is_reported():
    pick = cells.isbns_pick(["316556344"])
    assert pick.isbn13 is None and "not an ISBN" in pick.warnings[0]


def test_scientific_notation_isbn_is_invalid_unless_exact():
    lost = cells.isbns_pick(["9.78032E+12"])
    assert lost.isbn13 is None and "scientific notation" in lost.warnings[0]
    exact = cells.isbns_pick(["9.780316556347E+12"])
    assert exact.isbn13 == "9780316556347" and not exact.warnings


def test_asin_and_other_ids_are_kept_as_ids_never_isbns():
    pick = cells.isbns_pick(["B00K3GMZ8E"])
    assert pick.asin == "B00K3GMZ8E" and pick.isbn13 is None and pick.isbn10 is None
    other = cells.isbns_pick(["2a9c1a6e-storygraph"])
    assert other.other_ids == ("2a9c1a6e-storygraph",) and other.isbn13 is None


def test_asin_in_goodreads_isbn_column_becomes_asin(parse):
    data = (
        b"Book Id,Title,Author,ISBN,ISBN13,My Rating,Exclusive Shelf,Bookshelves,Date Read,Read Count\n"
        b'1,Kindle Book,A. Writer,="B01N5AX61W",="",4,read,,,1\n'
    )
    _, books, _ = parse(data)
    assert books[0].asin == "B01N5AX61W" and books[0].isbn is None and books[0].isbn13 is None
    assert "asin" in books[0].to_wire() and "isbn" not in books[0].to_wire()


def test_twelve_digit_isbn_loses_to_the_valid_one_of_the_pair():
    pick = cells.isbns_pick(["978031655634", "0316556343"])
    assert pick.isbn13 == "9780316556347" and not pick.warnings


def test_invalid_check_digit_loses_to_the_valid_one():
    pick = cells.isbns_pick(["9780316556348", "0316556343"])
    assert pick.isbn13 == "9780316556347"
    alone = cells.isbns_pick(["9780316556348"])
    assert alone.isbn13 is None and "check digit" in alone.warnings[0]


def test_mismatched_valid_pair_keeps_the_isbn13_and_says_so():
    pick = cells.isbns_pick(["9780441172719", "0316556343"])
    assert pick.isbn13 == "9780441172719" and pick.isbn10 == "0441172717"
    assert "different editions" in pick.warnings[0]


def test_979_isbn_has_no_isbn10():
    assert cells.isbns_pick(["9798890981622"]).isbn10 is None


@pytest.mark.parametrize(
    ("cell", "rating"), [("0", None), ("", None), ("4", 4.0), ("4.5", 4.5), ("3,5", 3.5), ("7", None), ("★★★½", 3.5)]
)
def test_rating(cell, rating):
    assert cells.rating_parse(cell) == rating


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("read", "read"),  # Goodreads
        ("currently-reading", "currently-reading"),
        ("to-read", "to-read"),
        ("did-not-finish", "dnf"),  # StoryGraph
        ("Want to Read", "to-read"),  # Open Library
        ("Already Read", "read"),
        ("Currently Reading", "currently-reading"),
        ("Stopped Reading", "dnf"),
        ("finished", "read"),  # Openreads
        ("in_progress", "currently-reading"),
        ("planned", "to-read"),
        ("unfinished", "dnf"),
        ("reading", "currently-reading"),  # BookWyrm
        ("stopped-reading", "dnf"),
        ("Read but unowned", "read"),  # LibraryThing collections
        ("To read", "to-read"),
        ("favorites", None),
    ],
)
def test_status_words_of_each_source(word, status):
    assert cells.status_parse(word) == status


def test_dates_and_rereads():
    spans = cells.spans_parse("2025/04/19-2025/04/21, 2021/05/03")
    assert [(s.started, s.finished) for s in spans] == [
        (date(2025, 4, 19), date(2025, 4, 21)),
        (None, date(2021, 5, 3)),
    ]
    assert cells.date_parse("[2007-05-08]") == date(2007, 5, 8)
    assert cells.date_parse("2019-03-05T01:00:00+01:00") == date(2019, 3, 5)
    assert cells.date_parse("2021/13/40") is None


def test_years_pages_formats_and_names():
    assert cells.year_parse("Gallimard (1979), Poche") == 1979
    assert cells.year_parse("0") is None
    assert cells.int_parse("590 p.") == 590 and cells.int_parse("0") is None
    assert cells.format_parse("Kindle Edition") == "ebook"
    assert cells.format_parse("Mass Market Paperback") == "paperback"
    assert cells.format_parse("Spiral-bound") == "spiral-bound"
    assert cells.name_unflip("Cortazar, Julio") == "Julio Cortazar"
    assert cells.name_unflip("Little, Brown and Company") == "Little, Brown and Company"
    assert cells.list_split("1|||||Solarpunk", "|||||") == ("1", "Solarpunk")


def test_row_without_title_isbn_or_id_is_a_problem(parse):
    data = b"Title,Author,ISBN\n,Someone,9.78032E+12\nDune,Frank Herbert,\n"
    _, books, problems = parse(data)
    assert [b.title for b in books] == ["Dune"]
    assert problems[0].row == 1 and "no title" in problems[0].error and "scientific notation" in problems[0].error


def test_openreads_deleted_book_is_a_problem_not_a_book(parse):
    from tests.samples import UPSTREAM_FIXTURES

    header = (UPSTREAM_FIXTURES / "csv" / "openreads_export.csv").read_bytes().split(b"\n", 1)[0]
    row = b"Gone,,Someone,,finished,false,true,,,,,,,,,,,,"
    _, books, problems = parse(header + b"\n" + row + b"\n")
    assert not books and problems[0].title == "Gone" and "deleted" in problems[0].error
