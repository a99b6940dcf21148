"""The scan pipeline (scanning.services.scan_run) with fake stages and the fake reporter."""

from __future__ import annotations

import json

import pytest

from jobs.reporter import FakeProgressReporter, ItemOutcome
from scanning.books import box_in_range
from scanning.services import scan_run
from scanning.storage import StoredPhoto
from tests.scanning.conftest import BARCODE_ISBN, detection, photo_bytes


def stored(*photos: bytes) -> tuple[list[StoredPhoto], dict[str, bytes]]:
    files = {f"scans/p{i}": data for i, data in enumerate(photos)}
    return [
        StoredPhoto(position=i, index=i, key=f"scans/p{i}", mime_type="image/png", size=len(d))
        for i, d in enumerate(photos)
    ], files


def run(photos, files, reporter, stages, **kwargs):
    def load(key: str) -> bytes:
        if key not in files:
            raise FileNotFoundError(key)
        return files[key]

    return scan_run(job_id="job-1", photos=photos, reporter=reporter, stages=stages, load=load, **kwargs)


def statuses(reporter: FakeProgressReporter) -> list[str]:
    return [args["status"] for name, args in reporter.calls if name == "progress"]


def test_three_photos_to_books_with_per_photo_progress(stages, engine):
    engine.replies = {
        0: [detection("Dune", "Frank Herbert", 0.93), detection("Emma", "Jane Austen", None)],
        1: [detection("Dune", "Frank Herbert", 0.5)],  # the same book again: one book
        2: [detection("Beloved", "Toni Morrison", 0.4)],
    }
    photos, files = stored(photo_bytes(0), photo_bytes(1), photo_bytes(2))
    reporter = FakeProgressReporter()
    outcome = run(photos, files, reporter, stages, threshold=0.7)

    results = outcome.results
    assert reporter.names()[0] == "started" and reporter.names()[-1] == "complete"
    assert [b["title"] for b in results["books"]] == ["Dune", "Emma", "Beloved"]
    assert results["totalDetected"] == 3 and results["approved"] + results["needsReview"] == 3
    assert results["approved"] == 1  # Dune 0.93; Emma has no confidence, Beloved 0.4
    dune, emma, beloved = results["books"]
    assert dune["confidence"] == 0.93 and dune["enrichmentStatus"] == "success" and dune["isbn"] == "9780441172719"
    assert emma["confidence"] is None and emma["reviewStatus"] == "needsReview"
    assert emma["enrichmentStatus"] == "not_found" and beloved["enrichmentStatus"] == "not_found"
    assert all(box_in_range(b["boundingBox"]) for b in results["books"])
    assert [p["booksFound"] for p in results["photos"]] == [2, 1, 1]
    assert results["metadata"]["modelUsed"] == "gemini-2.5-flash"
    assert "Photo 1 of 3: 2 books found" in statuses(reporter)
    assert "Photo 3 of 3: 1 book found" in statuses(reporter)
    # The contract's three stages, for every photo.
    for n in (1, 2, 3):
        assert f"Photo {n} of 3: image quality check" in statuses(reporter)
        assert f"Photo {n} of 3: AI detection" in statuses(reporter)
    assert any(s.startswith("Enrichment") for s in statuses(reporter))
    assert reporter.processed_seen == sorted(reporter.processed_seen)
    assert reporter.fractions_seen == sorted(reporter.fractions_seen)
    assert sorted(reporter.items) == [0, 1, 2] and all(o.success for o in reporter.items.values())
    assert reporter.summary.total_processed == 3 and reporter.summary.success_count == 3
    json.dumps(results, allow_nan=False)


def test_unusable_photo_fails_alone_with_its_reason(stages, engine):
    engine.replies = {0: [detection("Dune", "Frank Herbert")], 2: [detection("Emma", "Jane Austen")]}
    photos, files = stored(photo_bytes(0), photo_bytes(1, b"BLURRY"), photo_bytes(2))
    reporter = FakeProgressReporter()
    results = run(photos, files, reporter, stages).results
    photo = results["photos"][1]
    assert photo["status"] == "failed" and photo["errorCode"] == "blurry" and "blurry" in photo["error"]
    assert photo["quality"]["usable"] is False and photo["quality"]["blurScore"] == 12.0
    assert engine.calls == [0, 2]  # the blurry photo never reached the model
    assert [b["title"] for b in results["books"]] == ["Dune", "Emma"]
    assert reporter.items[1].success is False
    assert any(s.startswith("Photo 2 of 3: The photo is too blurry") for s in statuses(reporter))
    assert reporter.summary.failure_count == 1


def test_model_refusal_corrupt_photo_and_an_engine_bug_are_photo_errors(stages, engine):
    engine.replies = {3: [detection("Emma", "Jane Austen")]}
    photos, files = stored(
        photo_bytes(0, b"SAFETY"), photo_bytes(1, b"CORRUPT"), photo_bytes(2, b"CRASH"), photo_bytes(3)
    )
    results = run(photos, files, FakeProgressReporter(), stages).results
    codes = [(p["status"], p["errorCode"]) for p in results["photos"]]
    assert codes == [
        ("failed", "model_safety"),
        ("failed", "invalid_file"),
        ("failed", "internal_error"),
        ("done", None),
    ]
    assert results["totalDetected"] == 1


def test_missing_photo_fails_with_a_reason(stages):
    photos, _ = stored(photo_bytes(0))
    results = run(photos, {}, FakeProgressReporter(), stages).results
    assert results["photos"][0]["errorCode"] == "photo_missing"


def test_barcode_confirms_a_spine_and_makes_it_verified(stages, engine):
    # The barcode's centre lies inside the low-confidence spine's box.
    engine.replies = {0: [detection("Dune", "Frank Herbert", 0.3)]}
    photos, files = stored(photo_bytes(0, b"BARCODE"))
    results = run(photos, files, FakeProgressReporter(), stages, threshold=0.7).results
    (book,) = results["books"]
    assert book["isbn"] == BARCODE_ISBN and book["reviewStatus"] == "verified"
    assert book["evidence"]["barcode"] == BARCODE_ISBN and results["photos"][0]["barcodes"] == [BARCODE_ISBN]


def test_barcode_survives_a_model_refusal(stages):
    photos, files = stored(photo_bytes(0, b"BARCODE", b"SAFETY"))
    results = run(photos, files, FakeProgressReporter(), stages).results
    photo = results["photos"][0]
    assert photo["status"] == "done" and photo["errorCode"] == "model_safety"
    (book,) = results["books"]
    assert book["title"] == "Dune" and book["reviewStatus"] == "verified" and book["enrichmentStatus"] == "success"


def test_catalog_answers_before_search(stages, engine, lookup):
    from tests.factories import search_hit

    lookup.catalog_titles = {"Emma": search_hit("Emma", isbn="9780141439587", authors=["Jane Austen"])}
    engine.replies = {0: [detection("Emma", "Jane Austen"), detection("Dune", "Frank Herbert")]}
    photos, files = stored(photo_bytes(0))
    results = run(photos, files, FakeProgressReporter(), stages).results
    assert lookup.searched == ["Dune"]
    assert results["books"][0]["evidence"]["matchMethod"] == "catalog_title"
    assert results["books"][0]["isbn"] == "9780141439587"


def test_a_failing_lookup_is_that_books_error(stages, engine, lookup):
    lookup.fail = {"Emma"}
    engine.replies = {0: [detection("Emma", "Jane Austen"), detection("Dune", "Frank Herbert")]}
    photos, files = stored(photo_bytes(0))
    results = run(photos, files, FakeProgressReporter(), stages).results
    assert [b["enrichmentStatus"] for b in results["books"]] == ["error", "success"]


def test_resume_never_sends_a_finished_photo_to_the_model_again(stages, engine):
    engine.replies = {0: [detection("Emma", "Jane Austen")], 1: [detection("Dune", "Frank Herbert")]}
    photos, files = stored(photo_bytes(0), photo_bytes(1))
    first = FakeProgressReporter(cancel_after_items=1)
    run(photos, files, first, stages)
    assert engine.calls == [0]
    # A redelivery: photo 0 is stored; only photo 1 is processed, and the books of both are in the results.
    second = FakeProgressReporter(preloaded=dict(first.items))
    results = run(photos, files, second, stages).results
    assert engine.calls == [0, 1]
    assert sorted(second.items) == [1]
    assert [b["title"] for b in results["books"]] == ["Emma", "Dune"]
    assert second.names()[-1] == "complete"


def test_cancel_keeps_the_finished_photos_books(stages, engine):
    engine.replies = {0: [detection("Emma", "Jane Austen")], 1: [detection("Dune", "Frank Herbert")]}
    photos, files = stored(photo_bytes(0), photo_bytes(1), photo_bytes(2))
    reporter = FakeProgressReporter(cancel_after_items=1)
    outcome = run(photos, files, reporter, stages)
    assert outcome.canceled and reporter.names()[-1] == "canceled"
    results = reporter.result
    assert results["canceled"] is True and engine.calls == [0]
    assert [b["title"] for b in results["books"]] == ["Emma"]
    assert results["books"][0]["enrichmentStatus"] == "pending"  # no lookup after the cancel
    assert [p["status"] for p in results["photos"]] == ["done", "pending", "pending"]
    assert results["approved"] + results["needsReview"] == results["totalDetected"] == 1


def test_canceled_results_from_the_cancel_route_use_finished_photos(settings):
    from datetime import UTC, datetime

    from jobs.events import JobSummary
    from jobs.pipelines import CanceledJob
    from scanning.books import PhotoRecord, photo_record_to_json
    from scanning.services import scan_canceled_results

    record = PhotoRecord(index=0, status="done", detections=(detection("Emma", "Jane Austen", 0.95),), model_used="m")
    job = CanceledJob(
        job_id="j",
        params={"photos": [{"position": 0, "index": 0, "key": "k0"}, {"position": 1, "index": 1, "key": "k1"}]},
        finished={0: photo_record_to_json(record)},
        summary=JobSummary(total_processed=1, success_count=1, failure_count=0, duration=5, resource_id="j"),
        canceled_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    results = scan_canceled_results(job)
    assert results["canceled"] is True and results["approved"] == 1 and results["totalDetected"] == 1
    assert [p["status"] for p in results["photos"]] == ["done", "pending"]


@pytest.mark.parametrize("items", [{}, {0: ItemOutcome(index=0, success=False, result={"status": "failed"})}])
def test_no_books_still_completes(stages, items):
    photos, files = stored(photo_bytes(0))
    reporter = FakeProgressReporter(preloaded=items)
    results = run(photos, files, reporter, stages).results
    assert results["totalDetected"] == 0 and results["books"] == [] and reporter.names()[-1] == "complete"


def test_an_engine_that_cannot_be_set_up_is_each_photos_error(stages):
    from dataclasses import replace

    def broken():
        raise RuntimeError("SCAN_ENGINE=gemini needs GEMINI_API_KEY")

    photos, files = stored(photo_bytes(0, b"BARCODE"), photo_bytes(1))
    results = run(photos, files, FakeProgressReporter(), replace(stages, engine=broken)).results
    assert [(p["status"], p["errorCode"]) for p in results["photos"]] == [
        ("done", "model_unavailable"),  # its barcode still gave a book
        ("failed", "model_unavailable"),
    ]
    assert "GEMINI_API_KEY" not in json.dumps(results)  # the cause is logged, not shown to the app
    assert results["totalDetected"] == 1


def test_stage_estimates_follow_the_timings_of_real_scans(stages, engine):
    from scanning.services import stage_estimates

    before, before_range = stage_estimates(2, engine="gemini")
    assert [s["typicalDuration"] for s in before] == [2.0, 24.0, 6.0]  # defaults, x 2 photos
    assert before_range[0] <= before_range[1]
    engine.replies = {0: [detection("Dune", "Frank Herbert")]}
    photos, files = stored(photo_bytes(0))
    run(photos, files, FakeProgressReporter(), stages)  # fast fakes: well under a second per stage
    after, after_range = stage_estimates(2, engine="gemini")
    assert all(s["typicalDuration"] < 1 for s in after)
    assert after_range == [1, 1]
    assert stage_estimates(1, engine="ocr")[0][1]["typicalDuration"] == 5.0  # other engine: its own figures


def test_a_photo_whose_spines_named_no_book_says_so(stages, engine):
    """The offline engine reads spines it cannot match (no catalog, search offline): the photo entry
    carries the engine's notes, so the app can say why no book came back."""
    engine.replies = {0: []}
    engine.notes = {0: ("read 28 text lines in 2.6 s (turns 0)", "14 spine(s) named no known book: DUNE; EMMA")}
    photos, files = stored(photo_bytes(0))
    outcome = run(photos, files, FakeProgressReporter(), stages, threshold=0.7)
    photo = outcome.results["photos"][0]
    assert photo["status"] == "done" and photo["booksFound"] == 0
    assert photo["notes"][1].startswith("14 spine(s) named no known book")
