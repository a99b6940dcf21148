"""CSV library import as a job (issue 10; CONTRACT 5, 6, 9): upload -> parse -> enrich -> results.

- `csv_import_preview`: the upload checked and its first rows parsed, no job.
- `csv_import_start`: the upload checked (size, not a binary file, readable, row cap), stored by its
  SHA-256 in the default storage, a `csv_import` job created and `enrichment.run_csv_import` queued
  after commit. An identical file imported in the last 30 days (the content cache, keyed by the bytes'
  SHA-256, whatever the file's name) completes the job at once from the cached results.
- `csv_import_run` is the pipeline: parse every row (progress 0-50 %), then enrich the usable rows in
  chunks (50-100 %): ISBN rows through ONE bulk lookup per chunk (`book_lookup_many(batch_only=True)`:
  OpenLibrary one call per 50 ISBNs under its 3 req/s budget, never Google's daily quota), rows without
  an ISBN by title + author against OpenLibrary, each candidate scored (`csv_import_match`). Every row's
  outcome is stored as a JobItem the moment its chunk finishes, so a redelivered task re-reads the file
  and skips finished rows: no row lost, none done twice. Cancel is checked between chunks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, transaction

from booktrack.core.exceptions import BatchTooLarge, DomainError, FileTooLarge, InvalidFile
from booktrack.core.limits import MB
from enrichment.csv_import_match import (
    Candidate,
    LookupKey,
    best_candidate,
    first_rows,
    isbn13_of,
    lookup_key,
    verdict,
)
from enrichment.importers.dto import ImportPreview, ImportRow, RowProblem
from enrichment.importers.gemini_mapping import ColumnMapping
from enrichment.importers.reading import CsvReader
from enrichment.importers.service import import_open, preview_import
from jobs.events import JobSummary, JsonValue
from jobs.models import ACTIVE_STATUSES, Job, Pipeline
from jobs.pipelines import CanceledJob
from jobs.reporter import ItemOutcome, JobProgressReporter, ProgressReporter
from jobs.services import job_create, job_enqueue
from search.dto import SearchHit
from search.text import title_key

if TYPE_CHECKING:
    from search.services import TitlesAnswer

logger = logging.getLogger(__name__)

TASK_NAME = "enrichment.run_csv_import"
MAX_FILE_BYTES = 10 * MB
# The route's body cap: the file plus the multipart framing around it (boundaries, part headers).
MAX_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024
CONTENT_CACHE_SECONDS = 30 * 86400
STORAGE_PREFIX = "imports/csv/"
# Rows per enrichment step: one bulk ISBN lookup (OpenLibrary 2 calls of 50, ISBNdb 1 call of 100),
# one batch of stored outcomes, one progress event, one cancel check.
ENRICH_CHUNK = 100
# Rows per parse step (stored problems, progress event, cancel check).
PARSE_CHUNK = 1000
# Enriched outcomes are written (with a progress event) once this many wait or this long passed.
STORE_BATCH = 500
STORE_SECONDS = 1.0
# Between title + author lookups the cancel is checked after each write or at least this often.
CANCEL_CHECK_SECONDS = 1.0
BULK_DEADLINE_SECONDS = 30.0
TITLE_DEADLINE_SECONDS = 10.0
# A failed bulk ISBN lookup is asked again after these pauses (seconds) before its rows are errors.
LOOKUP_RETRY_PAUSES: tuple[float, ...] = (2.0, 5.0)
# Title + author rows searched together in one upstream call, and the books that call may return.
# A row whose book is not among a complete answer's books would not be found alone either; when the
# answer was cut at the limit, the rows it did not match are searched one by one.
TITLE_BATCH = 8
TITLE_BATCH_LIMIT = 100
CANCELED_ROW = "Canceled before this row was processed."

# Files people upload by mistake, recognised by their first bytes (a CSV never starts with these).
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Excel/Numbers workbook"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "a SQLite database"),
)


# --- the upload -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadFacts:
    sha256: str
    format: str
    row_count: int  # data rows (the header excluded); exact once parsed
    column_mapping: ColumnMapping | None = None  # Gemini's mapping of an unknown layout


def upload_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _max_rows() -> int:
    return int(settings.CSV_IMPORT_MAX_ROWS)


def _check_bytes(data: bytes | None) -> bytes:
    if data is None:
        raise InvalidFile("Send the CSV file as the multipart field 'file'.")
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(
            f"The file is larger than {MAX_FILE_BYTES // MB} MB.",
            details={"receivedBytes": len(data), "maxBytes": MAX_FILE_BYTES, "resourceType": "file"},
        )
    for signature, kind in BINARY_SIGNATURES:
        if data.startswith(signature):
            raise InvalidFile(f"The file is {kind}, not CSV. Export your library as CSV and upload that file.")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")) and data[:4].count(b"\x00") != 2:
        raise InvalidFile("The file is binary, not CSV text.")
    return data


def _check_rows(rows: int) -> None:
    limit = _max_rows()
    if rows > limit:
        raise BatchTooLarge(
            f"The file has {rows:,} rows; an import holds at most {limit:,}. Split the file and import each part.",
            details={"maxRows": limit, "receivedRows": rows},
        )


def csv_upload_check(*, data: bytes | None, filename: str | None) -> UploadFacts:
    """Size, not a binary file, a layout an importer (or Gemini) can read, no unclosed quote, row cap.

    Raises FileTooLarge, InvalidFile or BatchTooLarge. The rows are counted by the reader alone (no
    conversion: ~50k rows/s), which is also what finds an unclosed quote before any job exists.
    """
    data = _check_bytes(data)
    stream = import_open(data=data, filename=filename)  # InvalidFile: empty, unreadable, unknown layout
    records = sum(1 for _ in CsvReader(data, filename=filename))
    rows = max(0, records - 1)
    _check_rows(rows)
    return UploadFacts(
        sha256=upload_sha256(data), format=stream.format, row_count=rows, column_mapping=stream.column_mapping
    )


def csv_import_preview(*, data: bytes | None, filename: str | None) -> ImportPreview:
    """`POST /api/import/csv/preview`: format, mapping, row count, first rows, problems; no job."""
    preview = preview_import(_check_bytes(data), filename=filename)
    _check_rows(preview.row_count)
    return preview


def _storage_key(sha256: str) -> str:
    return f"{STORAGE_PREFIX}{sha256}.csv"


def upload_store(*, data: bytes, sha256: str) -> str:
    """The upload in the default storage under its content hash (the worker may be another machine)."""
    key = _storage_key(sha256)
    if default_storage.exists(key):
        return key
    return default_storage.save(key, ContentFile(data))


def _upload_release(*, job: Job) -> None:
    """Delete the stored upload once no active job of the same content needs it."""
    key = job.params.get("storageKey")
    sha256 = job.params.get("sha256")
    if not isinstance(key, str) or not key:
        return
    others = Job.objects.filter(
        pipeline=Pipeline.CSV_IMPORT, status__in=ACTIVE_STATUSES, params__sha256=sha256
    ).exclude(pk=job.pk)
    if others.exists():
        return
    try:
        default_storage.delete(key)
    except Exception:
        logger.warning("could not delete the stored upload %s", key, exc_info=True)


# --- content cache (identical bytes, 30 days) ------------------------------------------------------


def _content_key(sha256: str) -> str:
    return f"csv-import:results:v1:{sha256}"


def content_cache_get(sha256: str) -> dict[str, JsonValue] | None:
    raw = cache.get(_content_key(sha256))
    if not isinstance(raw, bytes):
        return None
    try:
        value = json.loads(zlib.decompress(raw))
    except (zlib.error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def content_cache_set(sha256: str, results: Mapping[str, JsonValue]) -> None:
    """Results of a completed import (compressed: thousands of rows with their work and edition)."""
    try:
        cache.set(_content_key(sha256), zlib.compress(json.dumps(results).encode(), 6), CONTENT_CACHE_SECONDS)
    except Exception:
        logger.warning("could not cache the results of CSV %s", sha256[:12], exc_info=True)


# --- starting a job ---------------------------------------------------------------------------------


def csv_import_start(
    *, job_id: str | None, data: bytes | None, filename: str | None, enqueue: bool = True
) -> tuple[Job, str]:
    """Create the job (queued, or already complete from the content cache). Returns (job, raw token).

    `enqueue=False` (the import_csv command) leaves the job for the caller to run in process."""
    data = _check_bytes(data)
    sha256 = upload_sha256(data)
    cached = content_cache_get(sha256)
    if cached is not None:
        rows = int(cached.get("rowCount") or 0)
        params: dict[str, JsonValue] = {"sha256": sha256, "filename": filename or "", "rowCount": rows}
        with transaction.atomic():
            job, token = job_create(pipeline=Pipeline.CSV_IMPORT, job_id=job_id, total=rows, params=params)
        _complete_from_cache(job=job, cached=cached)
        return job, token
    facts = csv_upload_check(data=data, filename=filename)
    key = upload_store(data=data, sha256=sha256)
    params = {
        "sha256": sha256,
        "filename": filename or "",
        "storageKey": key,
        "rowCount": facts.row_count,
        "format": facts.format,
    }
    if facts.column_mapping is not None:
        # Stored with the job, so its worker reads the columns the upload was checked with.
        params["columnMapping"] = {
            "hasHeaderRow": facts.column_mapping.has_header_row,
            "columns": dict(facts.column_mapping.columns),
        }
    with transaction.atomic():
        job, token = job_create(pipeline=Pipeline.CSV_IMPORT, job_id=job_id, total=facts.row_count, params=params)
        if enqueue:
            job_enqueue(job=job)
    return job, token


def _complete_from_cache(*, job: Job, cached: dict[str, JsonValue]) -> None:
    started = time.monotonic()
    reporter = JobProgressReporter(job_id=job.id)
    rows = int(cached.get("rowCount") or 0)
    reporter.started(total=rows)
    books = cached.get("books")
    count = len(books) if isinstance(books, list) else 0
    summary = JobSummary(
        total_processed=rows,
        success_count=count,
        failure_count=rows - count,
        duration=int((time.monotonic() - started) * 1000),
        resource_id=str(job.id),
    )
    results = {**cached, "timestamp": _now_iso(), "cached": True, "summary": summary.to_wire()}
    reporter.complete(summary=summary, results=results)


# --- lookups ----------------------------------------------------------------------------------------


class CsvLookup(Protocol):
    """Where the job finds books; the default is the search services, tests pass a fake."""

    def by_isbns(self, isbns13: Sequence[str]) -> dict[str, SearchHit | None]: ...

    def by_title(self, *, title: str, author: str | None) -> Sequence[SearchHit]: ...

    def to_catalog(self, hits: Sequence[SearchHit]) -> None: ...


class ManyTitles(Protocol):
    """A lookup that can also search many title + author rows in one upstream call."""

    def by_titles(self, pairs: Sequence[tuple[str, str | None]]) -> TitlesAnswer: ...


class CatalogTitles(Protocol):
    """Optional on a lookup: books already known by title key, many titles at once, no upstream call."""

    def by_title_keys(self, title_keys: Sequence[str]) -> Mapping[str, Sequence[SearchHit]]: ...


class SearchLookup:
    """The search services: bulk ISBNs from batch-capable providers only, titles from OpenLibrary."""

    TITLE_PROVIDER = "openlibrary"

    def by_isbns(self, isbns13: Sequence[str]) -> dict[str, SearchHit | None]:
        from search.services import book_lookup_many

        return book_lookup_many(isbns=list(isbns13), deadline=time.monotonic() + BULK_DEADLINE_SECONDS, batch_only=True)

    def by_title(self, *, title: str, author: str | None) -> Sequence[SearchHit]:
        from search.services import provider_search

        # One provider, OpenLibrary (no daily quota; cached like every search): a library of thousands
        # of rows must not spend Google's daily quota, which interactive searches need.
        result = provider_search(
            provider=self.TITLE_PROVIDER,
            operation="advanced",
            title=title[:500],
            author=(author or "")[:300] or None,
            limit=5,
            deadline=time.monotonic() + TITLE_DEADLINE_SECONDS,
        )
        return result.hits

    def by_titles(self, pairs: Sequence[tuple[str, str | None]]) -> TitlesAnswer:
        from search.services import titles_search_many

        # Many rows in one OpenLibrary search: at the budget's pace, TITLE_BATCH rows per call instead of one.
        return titles_search_many(
            pairs=[(title[:500], (author or "")[:300] or None) for title, author in pairs],
            provider=self.TITLE_PROVIDER,
            limit=TITLE_BATCH_LIMIT,
            deadline=time.monotonic() + TITLE_DEADLINE_SECONDS,
        )

    def by_title_keys(self, title_keys: Sequence[str]) -> Mapping[str, Sequence[SearchHit]]:
        from search.catalog import catalog_lookup_titles

        return catalog_lookup_titles(title_keys=title_keys)

    def to_catalog(self, hits: Sequence[SearchHit]) -> None:
        from search.catalog import catalog_schedule_upsert

        catalog_schedule_upsert(hits=hits)


@dataclass(frozen=True)
class Match:
    status: str  # success | needs_review | not_found | error
    method: str | None = None  # isbn | title_author
    hit: SearchHit | None = None
    score: float | None = None
    evidence: dict[str, JsonValue] = field(default_factory=dict)


def _hit_evidence(hit: SearchHit) -> dict[str, JsonValue]:
    return {
        "provider": hit.edition.primary_provider or hit.work.primary_provider or None,
        "candidate": {"title": hit.work.title, "authors": list(hit.author_names), "isbn13": hit.edition.isbn},
    }


def _bulk_lookup(lookup: CsvLookup, isbns13: Sequence[str]) -> dict[str, SearchHit | None]:
    """`lookup.by_isbns`, asked again after LOOKUP_RETRY_PAUSES (a busy budget, a short outage) before
    the error is final."""
    for pause in LOOKUP_RETRY_PAUSES:
        try:
            return lookup.by_isbns(isbns13)
        except Exception as error:
            logger.info("bulk ISBN lookup of %s ISBNs failed (%s); asking again in %s s", len(isbns13), error, pause)
            time.sleep(pause)
    return lookup.by_isbns(isbns13)


def _isbn_matches(lookup: CsvLookup, isbns13: Sequence[str]) -> dict[str, Match]:
    try:
        found = _bulk_lookup(lookup, isbns13)
    except Exception as error:
        logger.warning("bulk ISBN lookup of %s ISBNs failed: %s", len(isbns13), error)
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        return {
            i: Match("error", "isbn", evidence={"isbn13": i, "error": f"Lookup failed: {message}"[:300]})
            for i in isbns13
        }
    out: dict[str, Match] = {}
    for isbn13 in isbns13:
        hit = found.get(isbn13)
        if hit is None:
            out[isbn13] = Match("not_found", "isbn", evidence={"isbn13": isbn13})
        else:
            out[isbn13] = Match(
                "success", "isbn", hit=hit, score=1.0, evidence={"isbn13": isbn13, **_hit_evidence(hit)}
            )
    return out


def _title_match(lookup: CsvLookup, row: ImportRow) -> Match:
    query: dict[str, JsonValue] = {"title": row.title, "author": row.author}
    try:
        hits = list(lookup.by_title(title=row.title, author=row.author))
    except Exception as error:
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        return Match("error", "title_author", evidence={"query": query, "error": f"Lookup failed: {message}"[:300]})
    return _scored_match(row, hits)


def _scored_match(row: ImportRow, hits: Sequence[SearchHit], *, source: str | None = None) -> Match:
    """The best of `hits` for a row by title + author score; `source` names where known hits came from."""
    query: dict[str, JsonValue] = {"title": row.title, "author": row.author}
    where: dict[str, JsonValue] = {"source": source} if source else {}
    candidates = [Candidate(title=h.work.title, authors=h.author_names) for h in hits]
    best = best_candidate(title=row.title, author=row.author, candidates=candidates)
    if best is None:
        return Match("not_found", "title_author", score=0.0, evidence={"query": query, "candidates": 0, **where})
    status = verdict(best.score)
    hit = hits[best.index]
    evidence: dict[str, JsonValue] = {
        "query": query,
        "candidates": len(hits),
        "titleScore": round(best.title_score, 3),
        "authorScore": None if best.author_score is None else round(best.author_score, 3),
        **where,
        **_hit_evidence(hit),
    }
    return Match(
        status, "title_author", hit=hit if status != "not_found" else None, score=best.score, evidence=evidence
    )


def _batched_title_matches(
    lookup: ManyTitles, rows: Sequence[tuple[LookupKey, ImportRow]], *, should_stop: Callable[[], bool]
) -> tuple[dict[LookupKey, Match], bool]:
    """Title + author rows searched TITLE_BATCH at a time; each row scored against its call's books.

    Returns the rows settled (a match, or a complete answer without one) and whether `should_stop`
    said stop. A row left out (a failed call, or not matched in an answer cut at its limit) is for the
    caller to search alone.
    """
    settled: dict[LookupKey, Match] = {}
    for start in range(0, len(rows), TITLE_BATCH):
        if should_stop():
            return settled, True
        group = rows[start : start + TITLE_BATCH]
        try:
            answer = lookup.by_titles([(row.title, row.author) for _, row in group])
        except Exception as error:
            logger.warning("title search of %s rows at once failed: %s", len(group), error)
            continue
        for key, row in group:
            match = _scored_match(row, answer.hits)
            if match.status == "success" or answer.complete:
                settled[key] = replace(match, evidence={**match.evidence, "batched": len(group)})
    return settled, False


def _title_part(key: LookupKey) -> str:
    return key.value.split("|", 1)[0][:500]


def _known_titles(
    lookup: CsvLookup, keys: Sequence[LookupKey], found_here: Mapping[str, Sequence[SearchHit]]
) -> dict[str, list[SearchHit]]:
    """Books already known for these title + author keys, by title key: found by ISBN earlier in this
    import, and stored in the catalog (by the ISBN phase, earlier imports, searches). One query."""
    titles = list(dict.fromkeys(_title_part(key) for key in keys))
    known: dict[str, list[SearchHit]] = {t: list(found_here.get(t, ())) for t in titles}
    by_title_keys = getattr(lookup, "by_title_keys", None)
    if by_title_keys is not None:
        try:
            stored = by_title_keys(titles)
        except Exception:
            logger.warning("catalog lookup of %s titles failed", len(titles), exc_info=True)
            stored = {}
        for title, hits in stored.items():
            have = {(h.edition.isbn, h.work.title) for h in known.get(title, ())}
            known.setdefault(title, []).extend(h for h in hits if (h.edition.isbn, h.work.title) not in have)
    return known


def _book_entry(row: ImportRow, match: Match, *, duplicate_of: int | None) -> dict[str, JsonValue]:
    entry: dict[str, JsonValue] = dict(row.to_wire())  # type: ignore[arg-type]
    hit = match.hit
    if hit is not None:
        edition, work = hit.edition, hit.work
        # The reader's own values stay; what the file lacked comes from the match.
        fill: dict[str, JsonValue] = {
            "isbn13": edition.isbn,
            "publisher": edition.publisher,
            "publicationYear": _year(edition.publication_date) or work.first_publication_year,
            "pageCount": edition.page_count,
            "coverUrl": edition.cover_image_url or work.cover_image_url,
        }
        for key, value in fill.items():
            if entry.get(key) in (None, "") and value not in (None, ""):
                entry[key] = value
        if not entry.get("author") and hit.author_names:
            entry["author"] = hit.author_names[0]
        entry["work"] = work.to_wire()
        entry["edition"] = edition.to_wire()
    entry["enrichmentStatus"] = match.status
    entry["match"] = {
        "method": match.method,
        "score": None if match.score is None else round(match.score, 3),
        "evidence": match.evidence,
    }
    if duplicate_of is not None:
        entry["duplicateOf"] = duplicate_of
    return entry


def _year(date: str | None) -> int | None:
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


# --- results ----------------------------------------------------------------------------------------

OUTCOME_NAMES = {
    ("success", "isbn"): "matchedByIsbn",
    ("success", "title_author"): "matchedByTitleAuthor",
    ("needs_review", "title_author"): "needsReview",
    ("not_found", "isbn"): "notFound",
    ("not_found", "title_author"): "notFound",
    ("not_found", None): "notFound",
    ("error", "isbn"): "lookupFailed",
    ("error", "title_author"): "lookupFailed",
}


def csv_results(
    *,
    rows: int,
    finished: Mapping[int, JsonValue],
    canceled: bool = False,
    extra: Mapping[str, JsonValue] | None = None,
) -> dict[str, JsonValue]:
    """CONTRACT 9 CSV results from the stored row outcomes (JobItem index = row - 1).

    Every data row is in exactly one of `books` (usable: matched, for review, not found, lookup failed)
    or `errors` (invalid, or canceled before it was processed), by row number.
    """
    books: list[JsonValue] = []
    errors: list[JsonValue] = []
    outcomes = dict.fromkeys(("matchedByIsbn", "matchedByTitleAuthor", "needsReview", "notFound", "lookupFailed"), 0)
    duplicates = 0
    total = max(rows, max((index + 1 for index in finished), default=0))
    for index in range(total):
        result = finished.get(index)
        if isinstance(result, dict) and "enrichmentStatus" in result:
            books.append(result)
            match = result.get("match")
            method = match.get("method") if isinstance(match, dict) else None
            name = OUTCOME_NAMES.get((str(result["enrichmentStatus"]), method))  # type: ignore[arg-type]
            if name:
                outcomes[name] += 1
            if result.get("duplicateOf") is not None:
                duplicates += 1
        elif isinstance(result, dict):
            errors.append(result)
        else:
            errors.append({"row": index + 1, "error": CANCELED_ROW})
    invalid = sum(1 for e in errors if isinstance(e, dict) and e.get("error") != CANCELED_ROW)
    body: dict[str, JsonValue] = {
        "books": books,
        "errors": errors,
        "successRate": f"{len(books)}/{total}",
        "timestamp": _now_iso(),
        "rowCount": total,
        "outcomes": {**outcomes, "invalid": invalid},
        "duplicates": duplicates,
    }
    body.update(extra or {})
    if canceled:
        body["canceled"] = True
    return body


def csv_import_canceled_results(job: CanceledJob) -> JsonValue:
    """The results of an import canceled before its worker stored any (registered in enrichment.pipelines)."""
    rows = job.params.get("rowCount")
    return {
        **csv_results(rows=rows if isinstance(rows, int) else 0, finished=job.finished, canceled=True),
        "summary": job.summary.to_wire(),
    }


# --- the pipeline -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvOutcome:
    results: dict[str, JsonValue]
    summary: JobSummary
    canceled: bool


def _chunks(items: Sequence[ImportRow], size: int) -> Iterable[Sequence[ImportRow]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def csv_import_run(
    *,
    job_id: str,
    data: bytes,
    filename: str | None,
    reporter: ProgressReporter,
    expected_rows: int = 0,
    lookup: CsvLookup | None = None,
    on_chunk: Callable[[int], None] | None = None,
    column_mapping: ColumnMapping | None = None,
) -> CsvOutcome:
    """Parse (0-50 %), enrich (50-100 %), store each row's outcome, complete or keep the finished rows.

    `on_chunk(enriched_rows)` is called after each write of enriched outcomes (tests simulate a crash there).
    """
    lookup = lookup or SearchLookup()
    started = time.monotonic()
    reporter.started(total=expected_rows)
    done: dict[int, ItemOutcome] = dict(reporter.finished_items())
    stream = import_open(data=data, filename=filename, mapping=column_mapping)
    estimate = max(expected_rows, 1)

    def store(entries: Sequence[tuple[int, bool, dict[str, JsonValue]]]) -> None:
        # One write per chunk: the outcomes land together (and fast), each still its own item.
        if not entries:
            return
        outcomes = [ItemOutcome(index=index, success=success, result=entry) for index, success, entry in entries]
        reporter.items_finished(outcomes=outcomes)
        done.update((outcome.index, outcome) for outcome in outcomes)

    # 1. parse: every row read and validated; problems are final outcomes at once.
    to_enrich: list[ImportRow] = []
    keys: list[tuple[int, LookupKey | None]] = []
    problems: list[tuple[int, bool, dict[str, JsonValue]]] = []
    canceled = False
    for item in stream:
        index = item.row - 1
        if isinstance(item, RowProblem):
            keys.append((item.row, None))
            if index not in done:
                problems.append((index, False, dict(item.to_wire())))  # type: ignore[arg-type]
        else:
            keys.append(
                (item.row, lookup_key(isbn13=isbn13_of(item.isbn13, item.isbn), title=item.title, author=item.author))
            )
            if index not in done:
                to_enrich.append(item)
        if item.row % PARSE_CHUNK == 0:
            store(problems)
            problems = []
            reporter.progress(
                processed=len(done),
                status=f"Read {item.row:,} of {estimate:,} rows",
                fraction=0.5 * min(1.0, item.row / estimate),
            )
            if reporter.is_canceled():
                canceled = True
                break
    store(problems)
    rows = stream.row_count if not canceled else max(expected_rows, stream.row_count)
    if not canceled and rows != expected_rows:
        reporter.started(total=rows)  # a header-less file: its first line was a row
    key_of = dict(keys)
    duplicate_of = first_rows(keys)
    # ISBN rows first (50 per upstream call), the title + author rows (one call each) after them: most
    # of a library is in within minutes, and a cancel keeps the cheap rows.
    to_enrich.sort(key=lambda row: (k := key_of[row.row]) is not None and k.method == "title_author")
    if not canceled:
        reporter.progress(processed=len(done), status=f"Read {rows:,} rows; matching books", fraction=0.5)

    # 2. enrich: chunk by chunk, one bulk ISBN lookup each; title + author rows one by one (cached).
    memo: dict[LookupKey, Match] = {}
    found_here: dict[str, list[SearchHit]] = {}  # title key -> books matched by ISBN in this import
    enriched = 0
    unstored: list[tuple[int, bool, dict[str, JsonValue]]] = []
    last_flush = time.monotonic()
    flushes = 0
    checked_at = (0, time.monotonic())  # (flushes, when) at the last cancel check

    def flush(current: str) -> None:
        nonlocal unstored, last_flush, flushes
        store(unstored)
        unstored = []
        last_flush = time.monotonic()
        flushes += 1
        reporter.progress(
            processed=len(done),
            status=f"Matched {enriched:,} of {len(to_enrich):,} books",
            current_item=current,
            fraction=0.5 + 0.5 * enriched / max(1, len(to_enrich)),
        )
        if on_chunk is not None:
            on_chunk(enriched)

    for chunk in _chunks(to_enrich, ENRICH_CHUNK) if not canceled else ():
        if reporter.is_canceled():
            canceled = True
            break
        checked_at = (flushes, time.monotonic())
        wanted = [key_of[row.row] for row in chunk]
        isbns = list(dict.fromkeys(k.value for k in wanted if k is not None and k.method == "isbn" and k not in memo))
        if isbns:
            for isbn13, match in _isbn_matches(lookup, isbns).items():
                memo[LookupKey("isbn", isbn13)] = match
                if match.hit is not None:
                    found_here.setdefault(title_key(match.hit.work.title)[:500], []).append(match.hit)
        # Title + author rows: first against the books already known (this import's ISBN matches, the
        # catalog), one query for the chunk; only a row no known book matches is searched upstream.
        titled = [k for k in dict.fromkeys(wanted) if k is not None and k.method == "title_author" and k not in memo]
        known = _known_titles(lookup, titled, found_here) if titled else {}
        # The rest are searched upstream, many at once when the lookup can.
        if titled and hasattr(lookup, "by_titles"):
            first_row = {key_of[row.row]: row for row in reversed(chunk)}
            unknown = [
                (key, first_row[key])
                for key in titled
                if not (
                    known.get(_title_part(key))
                    and _scored_match(first_row[key], known[_title_part(key)]).status == "success"
                )
            ]

            def should_stop(matched: int = enriched) -> bool:
                reporter.progress(
                    processed=len(done),
                    status=f"Matched {matched:,} of {len(to_enrich):,} books; searching titles",
                    fraction=0.5 + 0.5 * matched / max(1, len(to_enrich)),
                )
                return reporter.is_canceled()

            settled, canceled = _batched_title_matches(lookup, unknown, should_stop=should_stop)
            memo.update(settled)
            if canceled:
                break
        cataloged: dict[int, SearchHit] = {}
        for row in chunk:
            key = key_of[row.row]
            if key is None:
                match = Match("not_found", None, evidence={"reason": "No ISBN and no title to look up."})
            elif key in memo:
                match = memo[key]
            elif (
                known.get(_title_part(key))
                and (local := _scored_match(row, known[_title_part(key)], source="catalog")).status == "success"
            ):
                match = memo[key] = local
            else:
                # A title + author lookup is one upstream call at the budget's pace: the cancel is
                # checked before one when outcomes were written or a second passed since the last
                # check (one query per lookup would cost more than a cached lookup itself).
                if flushes != checked_at[0] or time.monotonic() - checked_at[1] >= CANCEL_CHECK_SECONDS:
                    checked_at = (flushes, time.monotonic())
                    if reporter.is_canceled():
                        canceled = True
                        break
                match = memo[key] = _title_match(lookup, row)
            if match.status == "success" and match.hit is not None:
                cataloged[id(match.hit)] = match.hit
            unstored.append((row.row - 1, True, _book_entry(row, match, duplicate_of=duplicate_of.get(row.row))))
            enriched += 1
            # Outcomes are written when STORE_BATCH wait or STORE_SECONDS passed: at the upstream
            # budget's pace that is about every second; when every lookup is cached, fewer, larger writes.
            if len(unstored) >= STORE_BATCH or time.monotonic() - last_flush >= STORE_SECONDS:
                flush(row.title[:200])
        # Matched books land in the catalog (an idempotent upsert, queued as a task).
        if cataloged:
            lookup.to_catalog(list(cataloged.values()))
        if canceled:
            break
    if unstored:
        flush("")

    finished = {index: outcome.result for index, outcome in done.items()}
    extra: dict[str, JsonValue] = {"format": stream.format, "filename": filename or ""}
    canceled = canceled or reporter.is_canceled()
    results = csv_results(rows=rows, finished=finished, canceled=canceled, extra=extra)
    books = results["books"]
    count = len(books) if isinstance(books, list) else 0
    summary = JobSummary(
        total_processed=len(done),
        success_count=count,
        failure_count=len(done) - count,
        duration=int((time.monotonic() - started) * 1000),
        resource_id=str(job_id),
    )
    results["summary"] = summary.to_wire()
    if canceled:
        reporter.canceled(results=results)
    else:
        reporter.complete(summary=summary, results=results)
    return CsvOutcome(results=results, summary=summary, canceled=canceled)


def _load_upload(job: Job) -> bytes:
    key = job.params.get("storageKey")
    if not isinstance(key, str) or not key:
        raise InvalidFile("This import has no stored file.")
    try:
        with default_storage.open(key, "rb") as handle:
            return handle.read()
    except FileNotFoundError as error:
        raise InvalidFile("The uploaded file is no longer stored; upload it again.") from error


class ObservedReporter:
    """A reporter that also tells `observe(fraction, status)` of each progress step (the shell's bar)."""

    def __init__(self, inner: ProgressReporter, observe: Callable[[float, str], None]) -> None:
        self.inner = inner
        self.observe = observe

    def progress(self, *, processed: int, status: str, current_item: str = "", fraction: float | None = None) -> None:
        self.inner.progress(processed=processed, status=status, current_item=current_item, fraction=fraction)
        self.observe(fraction if fraction is not None else 0.0, status)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def _stored_mapping(value: object) -> ColumnMapping | None:
    """The Gemini column mapping stored with a job (`params.columnMapping`), or None."""
    if not isinstance(value, dict) or not isinstance(value.get("columns"), dict):
        return None
    columns = {str(k): v for k, v in value["columns"].items() if isinstance(v, int) and not isinstance(v, bool)}
    return ColumnMapping(has_header_row=bool(value.get("hasHeaderRow", True)), columns=columns)


def csv_import_execute(
    *, job_id: str, lookup: CsvLookup | None = None, observe: Callable[[float, str], None] | None = None
) -> CsvOutcome | None:
    """Run (or resume) the job; a job that already finished is left alone (idempotent redelivery)."""
    close_old_connections()
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if job.is_terminal:  # e.g. canceled while queued: its stored file is no longer needed
        _upload_release(job=job)
        return None
    reporter: ProgressReporter = JobProgressReporter(job_id=job.id)
    if observe is not None:
        reporter = ObservedReporter(reporter, observe)  # type: ignore[assignment]
    try:
        data = _load_upload(job)
        rows = job.params.get("rowCount")
        outcome = csv_import_run(
            job_id=str(job.id),
            data=data,
            filename=str(job.params.get("filename") or "") or None,
            reporter=reporter,
            expected_rows=rows if isinstance(rows, int) else 0,
            lookup=lookup,
            column_mapping=_stored_mapping(job.params.get("columnMapping")),
        )
    except DomainError as error:  # the file itself (e.g. its layout could not be mapped): not retryable
        logger.info("CSV import %s failed: %s", job_id, error.message)
        reporter.fail(code=error.code, message=error.message, retryable=False)
        _upload_release(job=job)
        return None
    except Exception as error:
        logger.exception("CSV import job %s failed", job_id)
        reporter.fail(code="INTERNAL_ERROR", message=f"CSV import failed: {type(error).__name__}", retryable=True)
        # A failed job is final (uploading the file again starts a new one): its stored copy goes.
        _upload_release(job=job)
        raise
    if not outcome.canceled and isinstance(job.params.get("sha256"), str):
        content_cache_set(str(job.params["sha256"]), outcome.results)
    job.refresh_from_db(fields=["status"])
    _upload_release(job=job)
    return outcome
