from __future__ import annotations

import threading
import time

import pytest

from enrichment.batch import BookRequest, EnrichedBook, batch_enrichment_execute, batch_enrichment_run
from jobs.models import Job, JobEvent, JobItem, JobStatus
from jobs.reporter import FakeProgressReporter, ItemOutcome
from jobs.services import job_create

BOOKS = [BookRequest(title=f"Book {i}", author="Ann Author", isbn=None) for i in range(10)]


def fake_lookup(calls=None, fail_titles=(), missing_titles=(), delay=0.0):
    lock = threading.Lock()

    def lookup(book: BookRequest, deadline: float) -> EnrichedBook | None:
        with lock:
            if calls is not None:
                calls.append(book.title)
        if delay:
            time.sleep(delay)
        if book.title in fail_titles:
            raise RuntimeError("provider exploded")
        if book.title in missing_titles:
            return None
        return EnrichedBook(work={"title": book.title}, edition={"isbns": []}, authors=[{"name": "Ann Author"}])

    return lookup


def test_batch_run_returns_one_entry_per_book_in_request_order():
    reporter = FakeProgressReporter()
    outcome = batch_enrichment_run(
        job_id="j", books=BOOKS, reporter=reporter, lookup=fake_lookup(delay=0.001), concurrency=4
    )
    assert [entry["title"] for entry in outcome.results] == [b.title for b in BOOKS]
    assert all(entry["success"] for entry in outcome.results)
    assert outcome.results[0]["enriched"] == {
        "work": {"title": "Book 0"},
        "edition": {"isbns": []},
        "authors": [{"name": "Ann Author"}],
    }
    assert reporter.names()[0] == "started" and reporter.names()[-1] == "complete"
    assert reporter.processed_seen == list(range(1, 11))
    assert reporter.summary.total_processed == 10 and reporter.summary.success_count == 10
    assert reporter.result["books"] == outcome.results


def test_batch_run_one_failed_book_never_fails_the_batch():
    reporter = FakeProgressReporter()
    outcome = batch_enrichment_run(
        job_id="j",
        books=BOOKS[:4],
        reporter=reporter,
        lookup=fake_lookup(fail_titles={"Book 1"}, missing_titles={"Book 2"}),
    )
    assert [e["success"] for e in outcome.results] == [True, False, False, True]
    assert "exploded" in outcome.results[1]["error"]
    assert outcome.results[2]["error"] == "No match found."
    assert "enriched" not in outcome.results[1]
    assert outcome.summary.failure_count == 2 and reporter.names()[-1] == "complete"


def test_batch_run_cancel_stops_processing_and_keeps_finished_results():
    calls: list[str] = []
    reporter = FakeProgressReporter(cancel_after_items=3)
    outcome = batch_enrichment_run(job_id="j", books=BOOKS, reporter=reporter, lookup=fake_lookup(calls), concurrency=1)
    # Freed slots are refilled before finished books are reported, so Book 3 was already running
    # when the third report saw the cancel; nothing was started after it, and Book 3's result is kept.
    assert calls == ["Book 0", "Book 1", "Book 2", "Book 3"]
    assert outcome.canceled is True
    assert [e["success"] for e in outcome.results] == [True] * 4 + [False] * 6
    assert outcome.results[5]["error"].startswith("Canceled")
    assert reporter.names()[-1] == "canceled" and "complete" not in reporter.names()


def test_batch_run_bounds_concurrency():
    active = 0
    peak = 0
    lock = threading.Lock()

    def lookup(book, deadline):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return EnrichedBook(work={"title": book.title})

    batch_enrichment_run(job_id="j", books=BOOKS, reporter=FakeProgressReporter(), lookup=lookup, concurrency=3)
    assert peak == 3


def test_batch_run_times_out_a_slow_book_without_blocking_the_rest():
    release = threading.Event()
    finished: list[str] = []

    def lookup(book, deadline):
        if book.title == "Book 0":
            release.wait(timeout=5)  # stuck until the test lets it go
        finished.append(book.title)
        return EnrichedBook(work={"title": book.title})

    outcome = batch_enrichment_run(
        job_id="j", books=BOOKS[:3], reporter=FakeProgressReporter(), lookup=lookup, concurrency=3, book_timeout=0.2
    )
    returned_while_stuck = "Book 0" not in finished
    release.set()
    assert returned_while_stuck  # the run finished without waiting for the stuck lookup
    assert outcome.results[0] == {"title": "Book 0", "author": "Ann Author", "success": False, "error": "Timed out."}
    assert outcome.results[1]["success"] and outcome.results[2]["success"]


def test_batch_run_resumes_without_redoing_finished_books():
    calls: list[str] = []
    done = {i: ItemOutcome(index=i, success=True, result={"title": f"Book {i}", "success": True}) for i in range(4)}
    reporter = FakeProgressReporter(preloaded=done)
    outcome = batch_enrichment_run(job_id="j", books=BOOKS, reporter=reporter, lookup=fake_lookup(calls))
    assert sorted(calls) == [f"Book {i}" for i in range(4, 10)]
    assert len(outcome.results) == 10 and outcome.summary.total_processed == 10


@pytest.mark.django_db
def test_batch_execute_persists_items_results_and_skips_finished_jobs():
    job, _ = job_create(
        pipeline="batch_enrichment",
        total=3,
        params={"books": [{"title": "Dune", "author": "Frank Herbert"}, {"title": "Nope"}, {"title": "Emma"}]},
    )
    outcome = batch_enrichment_execute(job_id=str(job.id), lookup=fake_lookup(missing_titles={"Nope"}))
    assert [e["success"] for e in outcome.results] == [True, False, True]
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETE and job.processed_count == 3
    assert [b["title"] for b in job.results["books"]] == ["Dune", "Nope", "Emma"]
    assert JobItem.objects.filter(job=job).count() == 3
    types = list(JobEvent.objects.filter(job=job).order_by("seq").values_list("type", flat=True))
    assert types == ["job_started", "job_progress", "job_progress", "job_progress", "job_complete"]
    complete = JobEvent.objects.get(job=job, type="job_complete").payload
    assert complete["summary"]["successCount"] == 2 and complete["summary"]["resourceId"] == str(job.id)
    # a redelivered task after completion does nothing
    assert batch_enrichment_execute(job_id=str(job.id), lookup=fake_lookup()) is None
    assert Job.objects.get(pk=job.id).status == JobStatus.COMPLETE
