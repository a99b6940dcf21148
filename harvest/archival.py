"""Archival: cold rows move from the database to object storage (gzip JSON), with an index row each.

What moves (`archive_run`, daily at 02:00 UTC and `manage.py archive`):

- **finished jobs past their live window**: terminal, ended more than `ARCHIVE_JOBS_AFTER_HOURS`
  ago and with no live token left (the WebSocket and the job-state route need one, so nothing but the
  results route reads the job any more). The job row, its event log and item results are written
  to `<ARCHIVE_PREFIX>/jobs/<yyyy>/<mm>/<dd>/<job id>.json.gz`; then the events and items are
  deleted and the row's `results` emptied. The row itself stays (with `results_expire_at`) until the
  hourly job cleanup deletes it, and the results route reads the results back from the archive
  until then (jobs.archive: the reader registered in `HarvestConfig.ready`).
- **cold catalog works**: works whose row and every edition were last written by a search more than
  `ARCHIVE_CATALOG_AFTER_DAYS` ago (never less than SEARCH_CATALOG_FRESH_DAYS: such rows answer no
  ISBN lookup and take part in no merge any more, search.catalog). The work with its editions goes to
  `<ARCHIVE_PREFIX>/catalog/<work id>.json.gz`, then the rows are deleted (authors stay: they are
  shared). A search that finds the book again writes a fresh row, as it would have.

Nothing archived is lost: each object is written, read back and compared (SHA-256 of the bytes, and
the JSON parsed) before its index row is written and, in the same transaction, the rows deleted. An
interrupted run leaves either rows that are archived again next time (the object is overwritten) or
an index row whose data is already gone from the database; both are safe to run again. The objects
are Django serializer JSON, so `archive_restore` (`manage.py archive --restore KIND:KEY`) puts the
very same rows back.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from booktrack.core import metrics
from booktrack.core.exceptions import InvalidRequest, NotFound, ProviderUnavailable
from harvest.models import ArchivedObject
from jobs.models import TERMINAL_STATUSES, Job, JobEvent, JobItem
from search.models import Edition, Work

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
BATCH = 200  # rows archived per database query; the run goes on until nothing is left


class ArchiveCorrupt(Exception):
    """An object read back from storage is not what was written (or what the index says)."""


@dataclass(frozen=True)
class ArchiveReport:
    dry_run: bool
    jobs: int = 0
    events: int = 0
    catalog_works: int = 0
    editions: int = 0
    bytes_written: int = 0
    failed: tuple[str, ...] = field(default=())

    def to_wire(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run,
            "jobs": self.jobs,
            "events": self.events,
            "catalogWorks": self.catalog_works,
            "editions": self.editions,
            "bytesWritten": self.bytes_written,
            "failed": list(self.failed),
        }


# --- storage ---------------------------------------------------------------------------------------------


def _encode(document: dict[str, Any]) -> bytes:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return gzip.compress(body, mtime=0)  # mtime 0: the same rows always give the same bytes


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(gzip.decompress(raw))
    except (OSError, EOFError, ValueError) as exc:
        raise ArchiveCorrupt(f"not gzip JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise ArchiveCorrupt("not an archive document of a known format")
    return document


def _put(path: str, raw: bytes) -> str:
    """Write `raw` at exactly `path` (replacing an object an interrupted run left), read it back and
    compare. Returns its SHA-256."""
    digest = hashlib.sha256(raw).hexdigest()
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(raw))
    if saved != path:  # a storage that renamed it: the index must name the real object
        default_storage.delete(saved)
        raise ArchiveCorrupt(f"storage stored {path} as {saved}")
    if hashlib.sha256(_read_bytes(path)).hexdigest() != digest:
        raise ArchiveCorrupt(f"{path} reads back different bytes")
    return digest


def _read_bytes(path: str) -> bytes:
    with default_storage.open(path, "rb") as handle:
        return handle.read()


def archive_read(obj: ArchivedObject) -> dict[str, Any]:
    """The document an index row names, checked against the index's SHA-256."""
    raw = _read_bytes(obj.path)
    if hashlib.sha256(raw).hexdigest() != obj.sha256:
        raise ArchiveCorrupt(f"{obj.path} does not match its index row")
    return _decode(raw)


def _rows(instances: list[Any]) -> list[dict[str, Any]]:
    return json.loads(serializers.serialize("json", instances))


def _store(*, kind: str, key: str, path: str, document: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Write and verify the object; the index row's fields and the bytes written."""
    raw = _encode({"format": FORMAT_VERSION, "kind": kind, "key": key, **document})
    digest = _put(path, raw)
    if _decode(_read_bytes(path)).get("key") != key:
        raise ArchiveCorrupt(f"{path} does not hold {kind} {key}")
    return {"path": path, "sha256": digest, "size_bytes": len(raw)}, len(raw)


# --- jobs ------------------------------------------------------------------------------------------------


def jobs_due(*, now: datetime, older_than: timedelta):
    """Finished jobs past their live window that still hold results, events or item results."""
    return (
        Job.objects.filter(status__in=TERMINAL_STATUSES, ended_at__lt=now - older_than, token_expires_at__lt=now)
        .filter(_holds_data())
        .order_by("ended_at")
    )


def _holds_data() -> Q:
    """A job whose results, events or item results are still in the database."""
    return (
        Q(results__isnull=False)
        | Q(Exists(JobEvent.objects.filter(job=OuterRef("pk"))))
        | Q(Exists(JobItem.objects.filter(job=OuterRef("pk"))))
    )


def job_archive(*, job: Job) -> int:
    """Move one finished job's row, events and items to storage; returns the bytes written."""
    events = list(JobEvent.objects.filter(job=job).order_by("seq"))
    items = list(JobItem.objects.filter(job=job).order_by("index"))
    ended = job.ended_at or job.created_at
    path = f"{settings.ARCHIVE_PREFIX}/jobs/{ended:%Y/%m/%d}/{job.id}.json.gz"
    index, size = _store(
        kind=ArchivedObject.Kind.JOB,
        key=str(job.id),
        path=path,
        document={"job": _rows([job])[0], "events": _rows(events), "items": _rows(items)},
    )
    with transaction.atomic():
        ArchivedObject.objects.update_or_create(
            kind=ArchivedObject.Kind.JOB,
            key=str(job.id),
            defaults={**index, "item_count": len(events), "isbns": "", "retain_until": job.results_expire_at},
        )
        # Only what was written: an event or item that appeared since stays for the next run.
        JobEvent.objects.filter(pk__in=[e.pk for e in events]).delete()
        JobItem.objects.filter(pk__in=[i.pk for i in items]).delete()
        Job.objects.filter(pk=job.pk).update(results=None)
    return size


def jobs_archive_for_cleanup(job_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The archiver the hourly job cleanup calls before it deletes finished jobs (jobs.archive): each of
    them that still holds data is archived first. Returns the ids it could not archive (kept)."""
    if not settings.ARCHIVE_JOBS_BEFORE_CLEANUP:
        return set()
    keep: set[uuid.UUID] = set()
    holding = Job.objects.filter(pk__in=list(job_ids)).filter(_holds_data()).order_by("ended_at")
    for job in holding:
        try:
            job_archive(job=job)
        except Exception:
            logger.exception("archiving job %s before its cleanup failed; it is kept", job.pk)
            keep.add(job.pk)
    return keep


def archived_job_results(job_id: uuid.UUID) -> Any:
    """The results of an archived job (the reader jobs.archive calls), or None when not archived."""
    obj = ArchivedObject.objects.filter(kind=ArchivedObject.Kind.JOB, key=str(job_id)).first()
    if obj is None:
        return None
    try:
        document = archive_read(obj)
    except (OSError, ArchiveCorrupt) as exc:
        logger.exception("archived results of job %s could not be read from %s", job_id, obj.path)
        raise ProviderUnavailable(
            "The archived results cannot be read right now; try again shortly.", details={"jobId": str(job_id)}
        ) from exc
    metrics.record_event("archive_reads")
    return document["job"]["fields"].get("results")


# --- catalog ---------------------------------------------------------------------------------------------


def catalog_due(*, now: datetime, older_than: timedelta):
    """Works whose row and every edition were last written by a search before the cutoff."""
    cutoff = now - older_than
    fresh_edition = Edition.objects.filter(work=OuterRef("pk"), fetched_at__gte=cutoff)
    return Work.objects.filter(fetched_at__lt=cutoff).exclude(Exists(fresh_edition)).order_by("fetched_at")


def catalog_work_archive(*, work: Work) -> tuple[int, int]:
    """Move one cold work and its editions to storage; returns (editions, bytes written)."""
    editions = list(Edition.objects.filter(work=work).order_by("isbn13"))
    index, size = _store(
        kind=ArchivedObject.Kind.CATALOG,
        key=str(work.pk),
        path=f"{settings.ARCHIVE_PREFIX}/catalog/{work.pk}.json.gz",
        document={"work": _rows([work])[0], "editions": _rows(editions)},
    )
    isbns = "," + ",".join(e.isbn13 for e in editions) + "," if editions else ""
    with transaction.atomic():
        ArchivedObject.objects.update_or_create(
            kind=ArchivedObject.Kind.CATALOG,
            key=str(work.pk),
            defaults={**index, "item_count": len(editions), "isbns": isbns, "retain_until": None},
        )
        # A search may have refreshed the work or added an edition since they were read: then it is
        # not cold any more, and stays.
        current = dict(Edition.objects.select_for_update().filter(work=work).values_list("pk", "fetched_at"))
        if current == {e.pk: e.fetched_at for e in editions}:
            Work.objects.filter(pk=work.pk, fetched_at=work.fetched_at).delete()
    return len(editions), size


# --- the run ---------------------------------------------------------------------------------------------


def archive_run(
    *,
    older_than_hours: int | None = None,
    catalog_older_than_days: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ArchiveReport:
    """Archive every finished job and cold catalog work that is due (module docstring)."""
    now = now or timezone.now()
    hours = settings.ARCHIVE_JOBS_AFTER_HOURS if older_than_hours is None else older_than_hours
    if hours < 0:
        raise InvalidRequest("older-than-hours must be 0 or more.")
    days = max(
        settings.SEARCH_CATALOG_FRESH_DAYS,
        settings.ARCHIVE_CATALOG_AFTER_DAYS if catalog_older_than_days is None else catalog_older_than_days,
    )
    jobs = jobs_due(now=now, older_than=timedelta(hours=hours))
    works = catalog_due(now=now, older_than=timedelta(days=days))
    if dry_run:
        job_ids = list(jobs.values_list("pk", flat=True))
        return ArchiveReport(
            dry_run=True,
            jobs=len(job_ids),
            events=JobEvent.objects.filter(job_id__in=job_ids).count(),
            catalog_works=works.count(),
            editions=Edition.objects.filter(work__in=works).count(),
        )
    counts = {"jobs": 0, "events": 0, "catalog_works": 0, "editions": 0, "bytes_written": 0}
    failed: list[str] = []
    failed_jobs: list[Any] = []
    failed_works: list[int] = []
    # What was archived is due no more; what failed is left out, so every batch makes progress.
    while batch := list(jobs.exclude(pk__in=failed_jobs)[:BATCH]):
        for job in batch:
            events = JobEvent.objects.filter(job=job).count()
            try:
                counts["bytes_written"] += job_archive(job=job)
            except Exception:  # this job stays in the database; the next run tries it again
                logger.exception("archiving job %s failed", job.pk)
                failed.append(f"job:{job.pk}")
                failed_jobs.append(job.pk)
                continue
            counts["jobs"] += 1
            counts["events"] += events
    while batch := list(works.exclude(pk__in=failed_works)[:BATCH]):
        for work in batch:
            try:
                editions, size = catalog_work_archive(work=work)
            except Exception:
                logger.exception("archiving catalog work %s failed", work.pk)
                failed.append(f"catalog:{work.pk}")
                failed_works.append(work.pk)
                continue
            counts["catalog_works"] += 1
            counts["editions"] += editions
            counts["bytes_written"] += size
    metrics.record_event("archive_objects", counts["jobs"] + counts["catalog_works"])
    return ArchiveReport(dry_run=False, failed=tuple(failed), **counts)


# --- restore ---------------------------------------------------------------------------------------------


def archive_find(*, ref: str) -> ArchivedObject:
    """An index row by `job:<id>`, `catalog:<work id>` or `isbn:<isbn13>` (the catalog work holding it)."""
    kind, _, key = ref.partition(":")
    if not key:
        raise InvalidRequest("Name an archived object as job:<id>, catalog:<work id> or isbn:<isbn13>.")
    rows = ArchivedObject.objects.all()
    if kind == "isbn":
        obj = rows.filter(kind=ArchivedObject.Kind.CATALOG, isbns__contains=f",{key},").first()
    elif kind in ArchivedObject.Kind.values:
        obj = rows.filter(kind=kind, key=key.lower() if kind == "job" else key).first()
    else:
        raise InvalidRequest(f"Unknown kind {kind!r}: job, catalog or isbn.")
    if obj is None:
        raise NotFound(f"Nothing archived as {ref}.")
    return obj


def archive_restore(*, obj: ArchivedObject) -> int:
    """Put an archived object's rows back into the database (as they were); returns the rows written.

    A job whose row the cleanup has deleted since comes back whole. The index row and the object stay
    (the next run archives the rows again if they are still due)."""
    document = archive_read(obj)
    rows = (
        [document["job"], *document["events"], *document["items"]]
        if obj.kind == "job"
        else [
            document["work"],
            *document["editions"],
        ]
    )
    written = 0
    with transaction.atomic():
        for restored in serializers.deserialize("json", json.dumps(rows)):
            restored.save()
            written += 1
    return written
