"""The bookshelf scan as a job (issue 11; CONTRACT 5, 6, 9): photos -> quality -> barcodes + engine ->
books -> catalog / search -> results.

- `scan_start`: every photo sniffed (`scanning.images.inspect_image`: a body that is not an image is a
  400 with the reason, before any job exists), stored (`scanning.storage`), an `ai_scan` job created
  and `scanning.run_scan` queued after commit.
- `scan_run` is the pipeline. Per photo: prepare (EXIF, downscale) -> quality (an unusable photo fails
  alone, with its reason) -> barcodes + the engine (`PhotoFailed` is that photo's error). Each photo's
  outcome is stored as a job item the moment it is finished, so a redelivered task never sends a
  finished photo to the model again. Then the books: de-duplicated across photos (scanning.books),
  looked up in the catalog, then through the search services, and built into DetectedBooks. The
  cancel is checked before each photo and between lookups; a canceled scan keeps what its finished
  photos found.
- The stages are injectable (`ScanStages`): the real ones import the intake and engine modules lazily,
  tests pass fakes.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction

from booktrack.core.exceptions import DomainError, FileTooLarge, InvalidFile, UnsupportedMediaType
from booktrack.core.limits import MB
from jobs.events import JobSummary, JsonValue
from jobs.models import Job, Pipeline
from jobs.pipelines import CanceledJob
from jobs.reporter import JobProgressReporter, ProgressReporter
from jobs.services import job_create, job_enqueue
from scanning.books import (
    PENDING,
    BookCandidate,
    BookMatch,
    PhotoRecord,
    barcodes_attach,
    books_dedupe,
    books_merge_matched,
    detected_book,
    models_used,
    photo_record_from_json,
    photo_record_to_json,
    quality_to_json,
    scan_results,
)
from scanning.dto import Barcode, Engine, ImageHeader, PhotoFailed, PhotoRejected, PreparedPhoto, QualityReport
from scanning.lookup import BookLookup
from scanning.storage import StoredPhoto, photo_load, photos_store

logger = logging.getLogger(__name__)

TASK_NAME = "scanning.run_scan"
MAX_SINGLE_PHOTO_BYTES = 5 * MB
MAX_BATCH_PHOTO_BYTES = 10 * MB
MAX_BATCH_PHOTOS = 5
# Progress: the photos take this share of the bar, the lookups the rest.
PHOTOS_SHARE = 0.85
# The three stages CONTRACT 9 names, in order, with where each ends on the progress bar.
STAGES = (("image quality check", 0.1), ("AI detection", PHOTOS_SHARE), ("enrichment", 1.0))
# Typical seconds per photo for each stage, per engine, until real scans have been timed (DURATIONS_KEY).
DEFAULT_STAGE_SECONDS = {
    "gemini": {"image quality check": 1.0, "AI detection": 12.0, "enrichment": 3.0},
    "ocr": {"image quality check": 1.0, "AI detection": 5.0, "enrichment": 3.0},
}
DURATIONS_KEY = "scan:stage-seconds:v1:{engine}"
DURATIONS_KEPT = 50
OCR_MODEL = "ocr-fallback"  # the offline engine's `modelUsed`


# --- stages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanStages:
    """The stage functions a scan runs (scanning.dto names their signatures)."""

    inspect: Callable[[bytes], ImageHeader]
    prepare: Callable[[bytes, int], PreparedPhoto]
    quality: Callable[[PreparedPhoto], QualityReport]
    barcodes: Callable[[PreparedPhoto], list[Barcode]]
    engine: Callable[[], Engine]
    lookup: BookLookup


def _inspect(data: bytes) -> ImageHeader:
    from scanning.images import inspect_image

    return inspect_image(data)


def _prepare(data: bytes, index: int) -> PreparedPhoto:
    from scanning.images import prepare_photo

    return prepare_photo(data, index=index)


def _quality(photo: PreparedPhoto) -> QualityReport:
    from scanning.quality import assess_quality

    return assess_quality(photo)


def _barcodes(photo: PreparedPhoto) -> list[Barcode]:
    from scanning.barcodes import read_isbn_barcodes

    return read_isbn_barcodes(photo)


def _engine() -> Engine:
    from scanning.engines import select_engine

    return select_engine()


def default_stages() -> ScanStages:
    """The real stages; their modules (Pillow, zxing, the model clients) load on first use."""
    from scanning.lookup import CatalogSearchLookup

    return ScanStages(
        inspect=_inspect,
        prepare=_prepare,
        quality=_quality,
        barcodes=_barcodes,
        engine=_engine,
        lookup=CatalogSearchLookup(),
    )


# --- starting a scan -----------------------------------------------------------------------------


def photo_error(rejected: PhotoRejected, *, index: int | None = None) -> DomainError:
    """The contract error for a photo the intake refused (its code, status and reason)."""
    details: dict[str, object] = {"photoIndex": index} if index is not None else {}
    if rejected.status == 413:
        details["resourceType"] = "image"
    error_class = {"FILE_TOO_LARGE": FileTooLarge, "UNSUPPORTED_MEDIA_TYPE": UnsupportedMediaType}.get(
        rejected.code, InvalidFile
    )
    prefix = f"Photo {index}: " if index is not None else ""
    error = error_class(prefix + rejected.reason, details=details or None)
    if error.code != rejected.code or error.status != rejected.status:  # a code the intake added later
        error.code, error.status = rejected.code, rejected.status
    return error


def photo_size_check(size: int, *, max_bytes: int, index: int | None = None) -> None:
    """A photo of `size` bytes: empty -> INVALID_FILE; over `max_bytes` -> FILE_TOO_LARGE (413)."""
    if size <= 0:
        raise InvalidFile("The photo is empty." if index is None else f"Photo {index} is empty.")
    if size > max_bytes:
        name = "The photo" if index is None else f"Photo {index}"
        raise FileTooLarge(
            f"{name} is larger than {max_bytes // MB} MB.",
            details={
                "receivedBytes": size,
                "maxBytes": max_bytes,
                "resourceType": "image",
                **({"photoIndex": index} if index is not None else {}),
            },
        )


@dataclass(frozen=True)
class IncomingPhoto:
    index: int  # the client's index (its position when it gave none)
    data: bytes


def scan_start(
    *,
    job_id: str | None,
    photos: Sequence[IncomingPhoto],
    max_photo_bytes: int,
    batch: bool,
    stages: ScanStages | None = None,
    client: str | None = None,
) -> tuple[Job, str]:
    """Check, store and queue. Returns (job, raw token). Raises the contract's errors for bad photos
    (in a batch, naming the photo's index)."""
    stages = stages or default_stages()
    checked: list[tuple[int, bytes, str]] = []
    for photo in photos:
        label = photo.index if batch else None
        photo_size_check(len(photo.data), max_bytes=max_photo_bytes, index=label)
        try:
            header = stages.inspect(photo.data)
        except PhotoRejected as rejected:
            raise photo_error(rejected, index=label) from rejected
        checked.append((photo.index, photo.data, header.mime_type))
    with transaction.atomic():
        # `client`: held to MAX_ACTIVE_JOBS_PER_CLIENT like every pipeline's starts.
        job, token = job_create(pipeline=Pipeline.AI_SCAN, job_id=job_id, total=len(checked), client=client)
        stored = photos_store(job_id=str(job.id), photos=checked)
        job.params = {"photos": [p.to_params() for p in stored]}
        job.save(update_fields=["params"])
        job_enqueue(job=job)
    return job, token


def engine_kind() -> str:
    """ "gemini" or "ocr": the engine a scan started now will use (its settings, no model loaded)."""
    try:
        from scanning.engines import engine_name

        return engine_name()
    except Exception:  # engines not in this tree, or misconfigured (each photo will say so)
        return "gemini" if settings.GEMINI_API_KEY else "ocr"


def stage_estimates(photos: int, *, engine: str | None = None) -> tuple[list[dict[str, JsonValue]], list[int]]:
    """The 202's `stages` and `estimatedRange` (seconds) for a scan of `photos` photos.

    Typical seconds per stage are the medians of the last scans' real timings with this engine (kept in
    the cache by `durations_record`), the engine's defaults until there are some; the range spans the
    fastest and slowest of those scans.
    """
    engine = engine or engine_kind()
    defaults = DEFAULT_STAGE_SECONDS.get(engine, DEFAULT_STAGE_SECONDS["gemini"])
    recorded = cache.get(DURATIONS_KEY.format(engine=engine)) or []
    per_photo: list[float] = []
    stages: list[dict[str, JsonValue]] = []
    for name, ends_at in STAGES:
        values = [float(r[name]) for r in recorded if isinstance(r, dict) and isinstance(r.get(name), int | float)]
        typical = statistics.median(values) if values else defaults[name]
        per_photo.append(typical)
        stages.append({"name": name, "typicalDuration": round(typical * photos, 1), "progress": ends_at})
    totals = [sum(float(r.get(n, 0)) for n, _ in STAGES) for r in recorded if isinstance(r, dict)]
    low = min(totals) if totals else sum(per_photo) * 0.5
    high = max(totals) if totals else sum(per_photo) * 2
    return stages, [max(1, int(low * photos)), max(1, int(high * photos + 0.999))]


def durations_record(per_photo_seconds: Mapping[str, float], *, engine: str) -> None:
    """Keep one scan's per-photo stage timings (the last DURATIONS_KEPT scans per engine, 30 days)."""
    key = DURATIONS_KEY.format(engine=engine)
    try:
        recorded = list(cache.get(key) or [])[-(DURATIONS_KEPT - 1) :]
        recorded.append({name: round(float(value), 2) for name, value in per_photo_seconds.items()})
        cache.set(key, recorded, 30 * 86400)
    except Exception:
        logger.warning("could not record scan durations", exc_info=True)


# --- the pipeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanOutcome:
    results: dict[str, JsonValue]
    summary: JobSummary
    canceled: bool


@dataclass
class _Run:
    total: int
    reporter: ProgressReporter
    done: int = 0
    engine: Engine | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


def _photo_fraction(position: float, total: int) -> float:
    return PHOTOS_SHARE * position / max(1, total)


def _photo_process(photo: StoredPhoto, *, run: _Run, stages: ScanStages, load: Callable[[str], bytes]) -> PhotoRecord:
    """One photo through its stages; every failure is this photo's error, never the batch's."""
    n, total, reporter = photo.position + 1, run.total, run.reporter
    label = f"Photo {n} of {total}"
    reporter.progress(
        processed=run.done,
        status=f"{label}: image quality check",
        current_item=f"photo {photo.index}",
        fraction=_photo_fraction(photo.position, total),
    )
    started = time.monotonic()
    try:
        data = load(photo.key)
    except FileNotFoundError:
        return PhotoRecord(
            index=photo.index, status="failed", error_code="photo_missing", error="The photo is no longer stored."
        )
    try:
        prepared = stages.prepare(data, photo.index)
    except PhotoRejected as rejected:
        return PhotoRecord(index=photo.index, status="failed", error_code=rejected.code.lower(), error=rejected.reason)
    del data
    report = stages.quality(prepared)
    quality_ms = _ms(started)
    if not report.usable:
        return PhotoRecord(
            index=photo.index,
            status="failed",
            quality=quality_to_json(report),
            error_code=report.code or "unusable",
            error=report.reason or "The photo cannot be used.",
            timings_ms={"quality": quality_ms},
        )
    reporter.progress(
        processed=run.done,
        status=f"{label}: AI detection",
        current_item=f"photo {photo.index}",
        fraction=_photo_fraction(photo.position + 0.1, total),
    )
    started = time.monotonic()
    try:
        barcodes = list(stages.barcodes(prepared))
    except Exception:  # a barcode reader fault costs the barcodes, not the photo
        logger.warning("barcode reading of photo %s failed", photo.index, exc_info=True)
        barcodes = []
    failure: PhotoFailed | None = None
    detections: tuple = ()
    model_used = None
    prompt_tokens = output_tokens = 0
    notes: tuple[str, ...] = ()
    try:
        if run.engine is None:
            run.engine = _engine_selected(stages)
        model_used = run.engine.name
        reply = run.engine.detect(prepared)
        detections, model_used = reply.detections, reply.model_used
        prompt_tokens, output_tokens = reply.prompt_tokens, reply.output_tokens
        notes = reply.notes
    except PhotoFailed as failed:
        failure = failed
    detection_ms = _ms(started)
    attached, confirmed = barcodes_attach(detections, barcodes)
    timings = {"quality": quality_ms, "detection": detection_ms}
    if failure is not None and not attached:
        return PhotoRecord(
            index=photo.index,
            status="failed",
            quality=quality_to_json(report),
            error_code=failure.code,
            error=failure.reason,
            barcodes=tuple(b.isbn13 for b in barcodes),
            model_used=model_used,
            timings_ms=timings,
        )
    return PhotoRecord(
        index=photo.index,
        status="done",
        quality=quality_to_json(report),
        # The engine failed but barcodes were read: the photo keeps those books, and says why no more.
        error_code=failure.code if failure is not None else None,
        error=failure.reason if failure is not None else None,
        detections=attached,
        confirmed=confirmed,
        barcodes=tuple(b.isbn13 for b in barcodes),
        model_used=model_used,
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        timings_ms=timings,
        notes=notes,
    )


def _engine_selected(stages: ScanStages) -> Engine:
    """The run's engine; one that cannot be set up (e.g. SCAN_ENGINE=gemini without a key) is each
    photo's `model_unavailable` error, logged with its cause for the operator."""
    try:
        return stages.engine()
    except Exception as error:
        logger.error("the scan engine could not be set up: %s", error, exc_info=True)
        raise PhotoFailed("model_unavailable", "The detection engine is not available; try again later.") from error


def _lookup_in_thread(lookup: BookLookup, candidate: BookCandidate, deadline: float) -> BookMatch:
    try:
        return lookup.search(candidate, deadline=deadline)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # pool threads must not leak database connections


def _label(candidate: BookCandidate) -> str:
    title = candidate.title or (f"ISBN {candidate.isbn}" if candidate.isbn else "a book")
    return f"{title} by {candidate.author}" if candidate.author else title


def _books_match(
    candidates: Sequence[BookCandidate], *, run: _Run, lookup: BookLookup, concurrency: int, book_timeout: float
) -> tuple[dict[str, BookMatch], bool]:
    """Catalog first, then search for the rest, a few at a time; stops starting lookups on cancel."""
    reporter = run.reporter
    matches: dict[str, BookMatch] = {}
    if not candidates:
        return matches, False
    reporter.progress(
        processed=run.done,
        status=f"Enrichment: matching {len(candidates)} books",
        current_item="",
        fraction=PHOTOS_SHARE,
    )
    try:
        matches.update(lookup.catalog(candidates))
    except Exception:
        logger.warning("catalog lookup of scanned books failed; searching them all", exc_info=True)
    pending = [c for c in candidates if c.key not in matches]
    total = len(candidates)
    canceled = False

    def report(candidate: BookCandidate) -> None:
        reporter.progress(
            processed=run.done,
            status=f"Enrichment: {len(matches)} of {total} books",
            current_item=_label(candidate),
            fraction=PHOTOS_SHARE + (1 - PHOTOS_SHARE) * len(matches) / total,
        )

    executor = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="scan-lookup")
    inflight: dict[Future[BookMatch], BookCandidate] = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < concurrency and not canceled:
                if reporter.is_canceled():
                    canceled = True
                    break
                candidate = pending.pop(0)
                deadline = time.monotonic() + book_timeout
                inflight[executor.submit(_lookup_in_thread, lookup, candidate, deadline)] = candidate
            if not inflight:
                break
            finished, _ = wait(inflight, timeout=book_timeout + 5, return_when=FIRST_COMPLETED)
            if not finished:  # lookups ignored their deadline: give up on them and on the rest
                for future, candidate in inflight.items():
                    future.cancel()
                    matches[candidate.key] = BookMatch(status="error", error="Timed out.")
                    report(candidate)
                for candidate in pending:
                    matches[candidate.key] = BookMatch(status="error", error="Not looked up: lookups timed out.")
                break
            for future in finished:
                candidate = inflight.pop(future)
                try:
                    matches[candidate.key] = future.result()
                except Exception as error:  # one failed lookup never fails the scan
                    logger.warning("lookup of scanned book %r failed", candidate.key, exc_info=True)
                    matches[candidate.key] = BookMatch(status="error", error=f"Lookup failed: {type(error).__name__}")
                report(candidate)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    return matches, canceled


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _records_from_items(finished: Mapping[int, JsonValue], photos: Sequence[StoredPhoto]) -> dict[int, PhotoRecord]:
    """Stored photo outcomes by position (JobItem index = the photo's position in the job)."""
    by_position = {p.position: p for p in photos}
    return {
        position: photo_record_from_json(result, index=by_position[position].index)
        for position, result in finished.items()
        if position in by_position
    }


def scan_books(
    records: Sequence[PhotoRecord], matches: Mapping[str, BookMatch], *, threshold: float
) -> list[dict[str, JsonValue]]:
    return [
        detected_book(candidate, matches.get(candidate.key, PENDING), threshold=threshold)
        for candidate in books_dedupe(records)
    ]


def scan_run(
    *,
    job_id: str,
    photos: Sequence[StoredPhoto],
    reporter: ProgressReporter,
    stages: ScanStages | None = None,
    load: Callable[[str], bytes] = photo_load,
    threshold: float | None = None,
    concurrency: int | None = None,
    book_timeout: float | None = None,
) -> ScanOutcome:
    """Run (or resume) a scan; see the module docstring."""
    stages = stages or default_stages()
    threshold = float(settings.SCAN_CONFIDENCE_THRESHOLD if threshold is None else threshold)
    concurrency = int(concurrency or settings.ENRICHMENT_BATCH_CONCURRENCY)
    book_timeout = float(book_timeout or settings.ENRICHMENT_BOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    total = len(photos)
    reporter.started(total=total)
    run = _Run(total=total, reporter=reporter)

    records = _records_from_items({i: o.result for i, o in reporter.finished_items().items()}, photos)
    run.done = len(records)
    # Photos an earlier delivery finished: their time counts in processingTime too.
    earlier_ms = sum(sum(r.timings_ms.values()) for r in records.values())
    canceled = False
    for photo in photos:
        if photo.position in records:
            continue  # finished by an earlier delivery: never sent to the model twice
        if reporter.is_canceled():
            canceled = True
            break
        try:
            record = _photo_process(photo, run=run, stages=stages, load=load)
        except Exception as error:  # a fault in a stage fails this photo, not the batch
            logger.exception("scan %s: photo %s failed", job_id, photo.index)
            record = PhotoRecord(
                index=photo.index,
                status="failed",
                error_code="internal_error",
                error=f"Processing failed ({type(error).__name__}).",
            )
        payload = photo_record_to_json(record)
        if record.status == "done":
            reporter.item_succeeded(index=photo.position, result=payload)
        else:
            reporter.item_failed(index=photo.position, error=record.error or "", result=payload)
        records[photo.position] = record
        run.done = len(records)
        n = photo.position + 1
        found = f"{record.books_found} book{'s' if record.books_found != 1 else ''} found"
        reporter.progress(
            processed=run.done,
            status=f"Photo {n} of {total}: {found}"
            if record.status == "done"
            else f"Photo {n} of {total}: {record.error}",
            current_item=f"photo {photo.index}",
            fraction=_photo_fraction(len(records), total),
        )

    ordered = [records[p] for p in sorted(records)]
    candidates = books_dedupe(ordered)
    matches: dict[str, BookMatch] = {}
    enrichment_started = time.monotonic()
    if not canceled:
        matches, canceled = _books_match(
            candidates, run=run, lookup=stages.lookup, concurrency=concurrency, book_timeout=book_timeout
        )
    candidates, matches = books_merge_matched(candidates, matches)
    books = [detected_book(c, matches.get(c.key, PENDING), threshold=threshold) for c in candidates]
    canceled = canceled or reporter.is_canceled()
    processing_ms = _ms(started) + earlier_ms
    results = scan_results(
        books=books,
        records=ordered,
        photo_indexes=[p.index for p in photos],
        model_used=models_used(ordered),
        processing_ms=processing_ms,
        timestamp=_now_iso(),
        canceled=canceled,
    )
    succeeded = sum(1 for r in ordered if r.status == "done")
    summary = JobSummary(
        total_processed=len(ordered),
        success_count=succeeded,
        failure_count=len(ordered) - succeeded,
        duration=processing_ms,
        resource_id=str(job_id),
    )
    results["summary"] = summary.to_wire()
    if canceled:
        reporter.canceled(results=results)
    else:
        reporter.complete(summary=summary, results=results)
        _durations_note(ordered, enrichment_seconds=time.monotonic() - enrichment_started)
    return ScanOutcome(results=results, summary=summary, canceled=canceled)


def _durations_note(records: Sequence[PhotoRecord], *, enrichment_seconds: float) -> None:
    timed = [r for r in records if r.status == "done" and "detection" in r.timings_ms]
    if not timed:
        return
    durations_record(
        {
            "image quality check": statistics.mean(r.timings_ms["quality"] for r in timed) / 1000,
            "AI detection": statistics.mean(r.timings_ms["detection"] for r in timed) / 1000,
            "enrichment": enrichment_seconds / len(timed),
        },
        engine="ocr" if all(r.model_used == OCR_MODEL for r in timed) else "gemini",
    )


def scan_photos_of(job: Job) -> list[StoredPhoto]:
    raw = job.params.get("photos") if isinstance(job.params, dict) else None
    return [StoredPhoto.from_params(p, position=i) for i, p in enumerate(raw or []) if isinstance(p, dict)]


def scan_canceled_results(job: CanceledJob) -> JsonValue:
    """A scan canceled before its worker stored results: the books its finished photos found (not
    looked up), every other photo `pending` (registered in scanning.pipelines)."""
    raw = job.params.get("photos")
    photos = [StoredPhoto.from_params(p, position=i) for i, p in enumerate(raw or []) if isinstance(p, dict)]
    records = _records_from_items(job.finished, photos)
    ordered = [records[p] for p in sorted(records)]
    threshold = float(settings.SCAN_CONFIDENCE_THRESHOLD)
    results = scan_results(
        books=scan_books(ordered, {}, threshold=threshold),
        records=ordered,
        photo_indexes=[p.index for p in photos],
        model_used=models_used(ordered),
        processing_ms=job.summary.duration,
        timestamp=job.canceled_at.isoformat(),
        canceled=True,
    )
    results["summary"] = job.summary.to_wire()
    return results


def scan_execute(*, job_id: str, stages: ScanStages | None = None) -> ScanOutcome | None:
    """Run (or resume) the job; a job that already finished is left alone (idempotent redelivery)."""
    close_old_connections()
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_terminal:
        return None
    reporter = JobProgressReporter(job_id=job.id)
    try:
        return scan_run(job_id=str(job.id), photos=scan_photos_of(job), reporter=reporter, stages=stages)
    except Exception as error:
        logger.exception("scan job %s failed", job_id)
        reporter.fail(code="INTERNAL_ERROR", message=f"The scan failed: {type(error).__name__}", retryable=True)
        raise
