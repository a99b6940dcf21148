"""Batch enrichment (CONTRACT 5): many books, each looked up by ISBN first, then by title + author.

`batch_enrichment_start` creates the job and queues `enrichment.run_batch_enrichment` after commit;
the task calls `batch_enrichment_execute`, which builds the real reporter and runs
`batch_enrichment_run`. That function is the pipeline: bounded concurrency, a deadline per book, one
failed book never fails the batch, results in request order, cancel checked before each new book,
and each finished book persisted at once so a redelivered task resumes instead of starting over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction

from jobs.events import JobSummary, JsonValue, StaleRun
from jobs.leases import JobRun
from jobs.models import Job, Pipeline
from jobs.pipelines import CanceledJob
from jobs.reporter import ItemOutcome, JobProgressReporter, ProgressReporter
from jobs.services import job_create, job_enqueue

logger = logging.getLogger(__name__)

TASK_NAME = "enrichment.run_batch_enrichment"
MAX_BOOKS = 100
CANCELED_BEFORE_PROCESSED = "Canceled before this book was processed."


@dataclass(frozen=True)
class BookRequest:
    title: str
    author: str | None = None
    isbn: str | None = None

    def to_wire(self) -> dict[str, JsonValue]:
        body: dict[str, JsonValue] = {"title": self.title}
        if self.author:
            body["author"] = self.author
        if self.isbn:
            body["isbn"] = self.isbn
        return body

    @classmethod
    def from_wire(cls, data: dict) -> BookRequest:
        return cls(title=data.get("title") or "", author=data.get("author") or None, isbn=data.get("isbn") or None)

    @property
    def label(self) -> str:
        return f"{self.title} by {self.author}" if self.author else self.title


@dataclass(frozen=True)
class EnrichedBook:
    """The best match for one requested book, already in wire form (WorkDTO/EditionDTO/AuthorDTO)."""

    work: dict[str, JsonValue]
    edition: dict[str, JsonValue] | None = None
    authors: list[dict[str, JsonValue]] = field(default_factory=list)
    provider: str = "none"

    def to_wire(self) -> dict[str, JsonValue]:
        return {"work": self.work, "edition": self.edition, "authors": self.authors}


# A lookup takes one book and an absolute deadline (time.monotonic()) and returns the match or None.
BookLookup = Callable[[BookRequest, float], EnrichedBook | None]


def search_lookup(book: BookRequest, deadline: float) -> EnrichedBook | None:
    """The default lookup: the search services (ISBN first, then title + author)."""
    from booktrack.core.exceptions import DomainError
    from search.services import book_search_advanced, book_search_by_isbn

    result = None
    if book.isbn:
        try:
            result = book_search_by_isbn(isbn=book.isbn, deadline=deadline)
        except DomainError as error:  # a malformed ISBN still leaves title + author to try
            logger.info("ISBN lookup of %r failed (%s); trying title and author", book.isbn, error.code)
            result = None
    if (result is None or not result.hits) and book.title and time.monotonic() < deadline:
        result = book_search_advanced(title=book.title, author=book.author, limit=1, deadline=deadline)
    if result is None or not result.hits:
        return None
    hit = result.hits[0]
    return EnrichedBook(
        work=hit.work.to_wire(),
        edition=hit.edition.to_wire() if hit.edition is not None else None,
        authors=[author.to_wire() for author in hit.authors],
        provider=result.provider,
    )


@dataclass(frozen=True)
class BatchOutcome:
    results: list[dict[str, JsonValue]]
    summary: JobSummary
    canceled: bool


def _entry(
    book: BookRequest, *, enriched: EnrichedBook | None = None, error: str | None = None
) -> dict[str, JsonValue]:
    entry = {**book.to_wire(), "success": enriched is not None}
    if enriched is not None:
        entry["enriched"] = enriched.to_wire()
    else:
        entry["error"] = error or "No match found."
    return entry


def _lookup_in_thread(lookup: BookLookup, book: BookRequest, deadline: float) -> EnrichedBook | None:
    try:
        return lookup(book, deadline)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # pool threads must not leak database connections


def batch_enrichment_run(
    *,
    job_id: str,
    books: Sequence[BookRequest],
    reporter: ProgressReporter,
    lookup: BookLookup | None = None,
    concurrency: int | None = None,
    book_timeout: float | None = None,
) -> BatchOutcome:
    lookup = lookup or search_lookup
    concurrency = concurrency or int(getattr(settings, "ENRICHMENT_BATCH_CONCURRENCY", 8))
    book_timeout = book_timeout or float(getattr(settings, "ENRICHMENT_BOOK_TIMEOUT_SECONDS", 20))
    started = time.monotonic()
    total = len(books)
    reporter.started(total=total)

    done: dict[int, ItemOutcome] = {i: o for i, o in reporter.finished_items().items() if i < total}
    pending = [index for index in range(total) if index not in done]
    inflight: dict[Future, tuple[int, float]] = {}
    canceled = False

    def record(index: int, entry: dict[str, JsonValue], *, success: bool) -> None:
        if success:
            reporter.item_succeeded(index=index, result=entry)
        else:
            reporter.item_failed(index=index, error=str(entry.get("error", "")), result=entry)
        done[index] = ItemOutcome(index=index, success=success, result=entry)
        reporter.progress(
            processed=len(done),
            status=f"Enriched {len(done)} of {total} books",
            current_item=books[index].label,
        )

    executor = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="batch-enrich")

    def fill() -> bool:
        """Start books into free slots while the job is not canceled; True once the cancel is seen."""
        while pending and len(inflight) < concurrency:
            if reporter.is_canceled():
                pending.clear()
                return True
            index = pending.pop(0)
            deadline = time.monotonic() + book_timeout
            inflight[executor.submit(_lookup_in_thread, lookup, books[index], deadline)] = (index, deadline)
        return False

    try:
        while pending or inflight:
            canceled = fill() or canceled
            if not inflight:
                break
            nearest = min(deadline for _, deadline in inflight.values())
            finished, _ = wait(inflight, timeout=max(0.0, nearest - time.monotonic()), return_when=FIRST_COMPLETED)
            outcomes = []
            for future in finished:
                index, _ = inflight.pop(future)
                outcomes.append((index, future))
            # Refill the freed slots before reporting: reporting (a database write per event) must
            # not keep lookups waiting.
            canceled = fill() or canceled
            for index, future in outcomes:
                book = books[index]
                try:
                    enriched = future.result()
                except (OperationalError, InterfaceError):
                    raise  # the database, not the book: the task retries and this book is looked up again
                except Exception as error:  # one failed book never fails the batch
                    logger.warning("enrichment of book %s of job %s failed: %s", index, job_id, error)
                    record(index, _entry(book, error=f"Lookup failed: {error}"[:300]), success=False)
                else:
                    record(index, _entry(book, enriched=enriched), success=enriched is not None)
            now = time.monotonic()
            for future, (index, deadline) in list(inflight.items()):
                if deadline <= now and not future.done():
                    inflight.pop(future)
                    future.cancel()
                    record(index, _entry(books[index], error="Timed out."), success=False)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)

    results = batch_results(books=books, finished={index: outcome.result for index, outcome in done.items()})
    successes = sum(1 for outcome in done.values() if outcome.success)
    summary = JobSummary(
        total_processed=len(done),
        success_count=successes,
        failure_count=len(done) - successes,
        duration=int((time.monotonic() - started) * 1000),
        resource_id=str(job_id),
    )
    canceled = canceled or reporter.is_canceled()
    if canceled:
        reporter.canceled(results={"books": results, "canceled": True, "summary": summary.to_wire()})
    else:
        reporter.complete(summary=summary, results={"books": results, "summary": summary.to_wire()})
    return BatchOutcome(results=results, summary=summary, canceled=canceled)


def batch_results(*, books: Sequence[BookRequest], finished: Mapping[int, JsonValue]) -> list[dict[str, JsonValue]]:
    """One entry per requested book, in request order: its stored result, or not processed (canceled)."""
    results: list[dict[str, JsonValue]] = []
    for index, book in enumerate(books):
        result = finished.get(index)
        results.append(result if isinstance(result, dict) else _entry(book, error=CANCELED_BEFORE_PROCESSED))
    return results


def batch_enrichment_canceled_results(job: CanceledJob) -> JsonValue:
    """The results of a batch canceled before its worker stored any (registered in enrichment.pipelines)."""
    raw_books = job.params.get("books")
    books = [BookRequest.from_wire(b if isinstance(b, dict) else {}) for b in raw_books or []]
    return {
        "books": batch_results(books=books, finished=job.finished),
        "canceled": True,
        "summary": job.summary.to_wire(),
    }


def batch_enrichment_start(
    *, job_id: str | None, books: Sequence[BookRequest], client: str | None = None
) -> tuple[Job, str]:
    """Create the job and queue the task after commit. Returns (job, raw token).

    `client` (the requester) is held to the active-jobs cap (jobs.services.job_create)."""
    with transaction.atomic():
        job, token = job_create(
            pipeline=Pipeline.BATCH_ENRICHMENT,
            job_id=job_id,
            total=len(books),
            params={"books": [book.to_wire() for book in books]},
            client=client,
        )
        job_enqueue(job=job)
    return job, token


def batch_enrichment_execute(
    *, job_id: str, lookup: BookLookup | None = None, run: JobRun | None = None
) -> BatchOutcome | None:
    """Run (or resume) the job; a job that already finished is left alone (idempotent redelivery).

    `run`: the lease this delivery holds (jobs.leases); its reporter's writes are fenced by it.
    """
    close_old_connections()
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_terminal:
        return None
    books = [BookRequest.from_wire(book) for book in job.params.get("books", [])]
    reporter = JobProgressReporter(job_id=job.id, run=run)
    try:
        return batch_enrichment_run(job_id=str(job.id), books=books, reporter=reporter, lookup=lookup)
    except (StaleRun, OperationalError, InterfaceError):
        raise  # another run has the job, or the database is away (the task retries): not a failure
    except Exception as error:
        logger.exception("batch enrichment job %s failed", job_id)
        reporter.fail(code="INTERNAL_ERROR", message=f"Batch enrichment failed: {type(error).__name__}", retryable=True)
        raise
