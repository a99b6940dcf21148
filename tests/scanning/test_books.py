"""Detections to books (scanning.books): pure, no database."""

from __future__ import annotations

import math

import pytest

from scanning.books import (
    PENDING,
    BookMatch,
    PhotoRecord,
    barcodes_attach,
    books_dedupe,
    books_merge_matched,
    box_checked,
    box_in_range,
    detected_book,
    detection_from_json,
    detection_to_json,
    models_used,
    photo_record_from_json,
    photo_record_to_json,
    review_status,
    scan_results,
)
from scanning.dto import Barcode, Box
from tests.factories import search_hit
from tests.scanning.conftest import detection


def record(index: int, *detections, confirmed=frozenset(), status="done", model="gemini-2.5-flash") -> PhotoRecord:
    return PhotoRecord(
        index=index, status=status, detections=tuple(detections), confirmed=frozenset(confirmed), model_used=model
    )


# --- boxes ---------------------------------------------------------------------------------------


def test_box_checked_crops_to_the_photo_and_drops_empty_or_broken_boxes():
    assert box_checked(Box(x=0.9, y=-0.2, width=0.3, height=0.5)) == Box(
        x=0.9, y=0.0, width=pytest.approx(0.1), height=0.3
    )
    assert box_checked(Box(x=1.2, y=0.1, width=0.1, height=0.1)) is None  # wholly outside
    assert box_checked(Box(x=0.1, y=0.1, width=0.0, height=0.5)) is None
    assert box_checked(Box(x=math.nan, y=0.1, width=0.1, height=0.1)) is None
    assert box_checked(None) is None


def test_box_in_range_checks_the_wire_form():
    assert box_in_range({"x": 0.5, "y": 0.0, "width": 0.5, "height": 1.0})
    assert box_in_range(None)
    assert not box_in_range({"x": 0.7, "y": 0.0, "width": 0.5, "height": 0.2})
    assert not box_in_range({"x": 0.1, "y": 0.1, "width": 0.1})


# --- review status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "barcode", "expected"),
    [
        (0.7, False, "verified"),  # at the threshold
        (0.69, False, "needsReview"),
        (None, False, "needsReview"),  # no figure from the engine: never a made-up one
        (None, True, "verified"),  # a barcode confirmed the ISBN
        (0.1, True, "verified"),
    ],
)
def test_review_status(confidence, barcode, expected):
    assert review_status(confidence=confidence, barcode_confirmed=barcode, threshold=0.7) == expected


# --- barcodes ------------------------------------------------------------------------------------


def test_barcode_inside_one_spine_gives_it_the_isbn():
    spines = [
        detection("Dune", box=Box(x=0.1, y=0.0, width=0.1, height=1.0)),
        detection("Emma", box=Box(x=0.3, y=0.0, width=0.1, height=1.0)),
    ]
    code = Barcode(isbn13="9780441172719", box=Box(x=0.12, y=0.5, width=0.05, height=0.05), raw_text="9780441172719")
    attached, confirmed = barcodes_attach(spines, [code])
    assert [d.isbn for d in attached] == ["9780441172719", None]
    assert confirmed == {0}


def test_barcode_no_spine_holds_becomes_a_book_of_its_own():
    spines = [detection("Emma", box=Box(x=0.3, y=0.0, width=0.1, height=1.0))]
    code = Barcode(isbn13="9780441172719", box=Box(x=0.8, y=0.5, width=0.05, height=0.05), raw_text="9780441172719")
    attached, confirmed = barcodes_attach(spines, [code, code])  # read twice: one book
    assert len(attached) == 2 and attached[1].source == "barcode" and attached[1].isbn == "9780441172719"
    assert confirmed == {1}


def test_barcode_with_an_invalid_checksum_is_ignored():
    attached, confirmed = barcodes_attach([], [Barcode(isbn13="9780441172710", box=None, raw_text="x")])
    assert attached == () and confirmed == frozenset()


# --- dedupe --------------------------------------------------------------------------------------


def test_dedupe_merges_a_book_seen_on_two_photos_by_title_and_author():
    books = books_dedupe(
        [
            record(0, detection("The Hobbit", "J.R.R. Tolkien", 0.6), detection("Emma", "Jane Austen", 0.9)),
            record(1, detection("Hobbit", "Tolkien, J. R. R.", 0.95)),
        ]
    )
    assert [b.title for b in books] == ["Hobbit", "Emma"]  # the best sighting names it
    hobbit = books[0]
    assert hobbit.confidence == 0.95 and hobbit.photo_indexes == (0, 1) and hobbit.best.photo_index == 1


def test_dedupe_keys_on_isbn_first_and_a_title_joins_its_isbn_book():
    books = books_dedupe(
        [
            record(0, detection("Dune", "Frank Herbert", isbn="0441172717")),  # ISBN-10 of the one below
            record(1, detection("Dune Messiah?", "F. Herbert", isbn="9780441172719")),
            record(2, detection("Dune", "Frank Herbert", confidence=None)),
        ]
    )
    assert len(books) == 1
    assert books[0].isbn == "9780441172719" and len(books[0].sightings) == 3


def test_dedupe_keeps_different_authors_apart_and_skips_nameless_detections():
    books = books_dedupe(
        [
            record(0, detection("Collected Poems", "Sylvia Plath"), detection("Collected Poems", "Philip Larkin")),
            record(1, detection("", None)),
            record(2, detection("Emma", "Jane Austen"), status="failed"),
        ]
    )
    assert [(b.title, b.author) for b in books] == [
        ("Collected Poems", "Sylvia Plath"),
        ("Collected Poems", "Philip Larkin"),
    ]


def test_confidence_stays_none_when_no_engine_gave_one():
    (book,) = books_dedupe(
        [record(0, detection("Emma", "Jane Austen", None)), record(1, detection("Emma", "Jane Austen", None))]
    )
    assert book.confidence is None


# --- the DetectedBook ------------------------------------------------------------------------------


def test_detected_book_carries_the_contract_fields_and_evidence():
    (candidate,) = books_dedupe([record(0, detection("Dune", "Frank Herbert", 0.93, spine_text="DUNE  HERBERT"))])
    hit = search_hit(
        "Dune", isbn="9780441172719", authors=["Frank Herbert"], publisher="Ace", cover="http://c/d.jpg", year=1965
    )
    match = BookMatch(status="success", hit=hit, provider="google-books", method="search_title", score=0.97)
    book = detected_book(candidate, match, threshold=0.7)
    assert book["title"] == "Dune" and book["author"] == "Frank Herbert" and book["isbn"] == "9780441172719"
    assert book["confidence"] == 0.93 and book["reviewStatus"] == "verified" and book["photoIndex"] == 0
    assert book["boundingBox"] == {"x": 0.1, "y": 0.1, "width": 0.1, "height": 0.8}
    assert book["enrichmentStatus"] == "success" and book["coverUrl"] == "http://c/d.jpg"
    assert book["publisher"] == "Ace" and book["publicationYear"] == 1965
    enrichment = book["enrichment"]
    assert enrichment["status"] == "success" and enrichment["provider"] == "google-books"
    assert enrichment["work"]["title"] == "Dune" and enrichment["editions"][0]["isbn"] == "9780441172719"
    assert enrichment["authors"][0]["name"] == "Frank Herbert"
    assert book["evidence"]["spineText"] == "DUNE  HERBERT" and book["evidence"]["matchScore"] == 0.97
    assert book["evidence"]["barcode"] is None


def test_detected_book_without_a_match_or_confidence():
    (candidate,) = books_dedupe([record(0, detection("Unknown Book", None, None, box=None))])
    book = detected_book(candidate, BookMatch(status="not_found"), threshold=0.7)
    assert book["confidence"] is None and book["reviewStatus"] == "needsReview"
    assert book["boundingBox"] is None and book["isbn"] is None and book["coverUrl"] is None
    assert book["enrichment"] == {"status": "not_found", "work": None, "editions": [], "authors": [], "provider": None}


def test_barcode_only_book_is_verified_and_named_by_its_match():
    attached, confirmed = barcodes_attach([], [Barcode(isbn13="9780441172719", box=None, raw_text="9780441172719")])
    (candidate,) = books_dedupe([PhotoRecord(index=3, status="done", detections=attached, confirmed=confirmed)])
    hit = search_hit("Dune", isbn="9780441172719", authors=["Frank Herbert"])
    book = detected_book(candidate, BookMatch(status="success", hit=hit, provider="openlibrary"), threshold=0.7)
    assert book["title"] == "Dune" and book["author"] == "Frank Herbert" and book["reviewStatus"] == "verified"
    assert book["evidence"]["barcode"] == "9780441172719" and book["photoIndex"] == 3
    unnamed = detected_book(candidate, PENDING, threshold=0.7)
    assert unnamed["title"] == "ISBN 9780441172719" and unnamed["enrichmentStatus"] == "pending"


# --- records and results -------------------------------------------------------------------------


def test_photo_record_round_trips_through_json():
    original = PhotoRecord(
        index=2,
        status="done",
        quality={"usable": True, "width": 10, "height": 10, "blurScore": 1.0, "brightness": 1.0, "reason": None},
        detections=(detection("Dune", "Frank Herbert", None, spine_text="DUNE", match_score=0.8),),
        confirmed=frozenset({0}),
        barcodes=("9780441172719",),
        model_used="ocr-fallback",
        prompt_tokens=3,
        output_tokens=4,
        timings_ms={"quality": 5, "detection": 6},
    )
    assert photo_record_from_json(photo_record_to_json(original), index=2) == original
    assert detection_from_json(detection_to_json(original.detections[0])) == original.detections[0]


def test_unreadable_stored_record_is_a_failed_photo():
    assert photo_record_from_json("garbage", index=1).status == "failed"
    assert photo_record_from_json({"status": "weird", "detections": "x"}, index=1).status == "failed"


def test_scan_results_totals_add_up_and_unreached_photos_are_pending():
    books = [{"reviewStatus": "verified"}, {"reviewStatus": "needsReview"}, {"reviewStatus": "verified"}]
    results = scan_results(
        books=books,
        records=[record(0), record(1, status="failed")],
        photo_indexes=[0, 1, 2],
        model_used="gemini-2.5-flash",
        processing_ms=1234,
        timestamp="2026-12-02T00:00:00Z",
        canceled=True,
    )
    assert (results["totalDetected"], results["approved"], results["needsReview"]) == (3, 2, 1)
    assert [p["status"] for p in results["photos"]] == ["done", "failed", "pending"]
    assert results["metadata"] == {
        "modelUsed": "gemini-2.5-flash",
        "processingTime": 1234,
        "timestamp": "2026-12-02T00:00:00Z",
    }
    assert results["canceled"] is True


def test_models_used_lists_each_engine_once_in_photo_order():
    assert models_used([record(1, model="ocr-fallback"), record(0), record(2)]) == "gemini-2.5-flash+ocr-fallback"
    assert models_used([]) == ""


def test_a_spine_read_without_its_author_joins_the_one_book_of_its_title():
    books = books_dedupe(
        [
            record(0, detection("Americanah", None, 0.8), detection("L'Étranger", "Albert Camus", 0.7)),
            record(1, detection("Americanah", "Chimamanda Ngozi Adichie", 0.9), detection("L'Etranger", None, None)),
            record(2, detection("Americanah", None, isbn="9780307271082")),
        ]
    )
    assert [(b.title, b.author, len(b.sightings)) for b in books] == [
        ("Americanah", "Chimamanda Ngozi Adichie", 3),
        ("L'Étranger", "Albert Camus", 2),
    ]
    assert books[0].isbn == "9780307271082"


def test_a_title_alone_stays_apart_when_two_books_share_it():
    books = books_dedupe(
        [
            record(0, detection("Collected Poems", "Sylvia Plath"), detection("Collected Poems", "Philip Larkin")),
            record(1, detection("Collected Poems", None)),
        ]
    )
    assert [len(b.sightings) for b in books] == [1, 1, 1]


def test_books_matched_to_the_same_isbn_are_merged_keeping_the_better_match():
    candidates = books_dedupe(
        [record(0, detection("Dune", "Frank Herbert", 0.6)), record(1, detection("Dune Frank Herbert", None, 0.9))]
    )
    assert len(candidates) == 2  # the misread title keys apart
    hit = search_hit("Dune", isbn="9780441172719", authors=["Frank Herbert"])
    matches = {
        candidates[0].key: BookMatch(status="success", hit=hit, provider="google-books", score=0.9),
        candidates[1].key: BookMatch(status="success", hit=hit, provider="openlibrary", score=0.86),
    }
    merged, kept = books_merge_matched(candidates, matches)
    assert len(merged) == 1 and merged[0].confidence == 0.9 and merged[0].photo_indexes == (0, 1)
    assert kept[merged[0].key].provider == "google-books"
    unmatched, _ = books_merge_matched(candidates, {})
    assert len(unmatched) == 2
