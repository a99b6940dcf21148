"""Cover harvest: covers of the books in demand, fetched once, resized and kept in object storage.

A run (`HarvestRun`) takes the ISBNs in demand without a stored cover (harvest.cover_demand), asks
the sources in order (harvest.cover_sources: ISBNdb, then Google Books, then OpenLibrary covers),
stores every size of the first cover found (`IMAGE_PROXY_SIZES`, through Django's storage API: the
local folder or S3/R2) and records a `Cover` row. It stops when the run limit is reached or the daily
budget is spent: `HARVEST_DAILY_BUDGET` upstream calls per UTC day (every attempt, retries and
redirects included, counted as it is made by `booktrack.core.http.upstream_attempts_observed`),
shared by every process through the fixed-window counter the other budgets use.

Entry points: `covers_harvest_start` (route, beat: creates the run, queues the task after commit),
`covers_harvest(run_id=...)` (the task and the command: runs it, idempotent: a stored ISBN is
skipped, a run another worker is on is left alone), `cover_variant_get` (serving).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from booktrack.core.exceptions import Conflict, InvalidRequest, NotFound
from booktrack.core.http import upstream_attempts_observed
from booktrack.core.windows import FixedWindowCounter, WindowState
from harvest.cover_decoration import covers_changed
from harvest.cover_demand import covers_demand
from harvest.cover_sources import (
    HarvestBudgetExhausted,
    SourceOutcome,
    cover_from_source,
    sources_configured,
)
from harvest.images import SIZES, RenderedImage, etag_of, size_parse
from harvest.models import (
    Cover,
    CoverStatus,
    HarvestRun,
    HarvestRunStatus,
    HarvestStopReason,
    HarvestTrigger,
)
from search.budgets import background_priority
from search.isbn import isbn_normalize
from search.models import Edition

logger = logging.getLogger(__name__)

STORAGE_PREFIX = "covers"
BUDGET_NAME = "calls"
DAY = 86400
ACTIVE = (HarvestRunStatus.QUEUED, HarvestRunStatus.RUNNING)
MAX_RUN_LIMIT = 100_000

_budget_windows = FixedWindowCounter("harvest:budget")


# --- wire ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HarvestRunState:
    """`GET /api/harvest-covers/{runId}`: a run's status and real figures."""

    run_id: str
    status: str
    trigger: str
    stop_reason: str | None
    limit: int
    candidates: int
    tried: int
    stored: int
    skipped: int
    failed: int
    missing: int
    bytes_stored: int
    budget_used: int
    budget_limit: int
    sources: dict[str, dict[str, int]]
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None

    @classmethod
    def of(cls, run: HarvestRun) -> HarvestRunState:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return cls(
            run_id=str(run.id),
            status=run.status,
            trigger=run.trigger,
            stop_reason=run.stop_reason or None,
            limit=run.limit,
            candidates=run.candidates,
            tried=run.tried,
            stored=run.stored,
            skipped=run.skipped,
            failed=run.failed,
            missing=run.missing,
            bytes_stored=run.bytes_stored,
            budget_used=run.budget_used,
            budget_limit=run.budget_limit,
            sources={k: dict(v) for k, v in (run.sources or {}).items()},
            created_at=iso(run.created_at) or "",
            started_at=iso(run.started_at),
            finished_at=iso(run.finished_at),
            error=run.error_message or None,
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "status": self.status,
            "trigger": self.trigger,
            "stopReason": self.stop_reason,
            "limit": self.limit,
            "candidates": self.candidates,
            "tried": self.tried,
            "stored": self.stored,
            "skipped": self.skipped,
            "failed": self.failed,
            "missing": self.missing,
            "bytesStored": self.bytes_stored,
            "budget": {"used": self.budget_used, "dailyLimit": self.budget_limit},
            "sources": self.sources,
            "createdAt": self.created_at,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "error": self.error,
        }


@dataclass(frozen=True)
class HarvestProgress:
    """What a run reports after each ISBN (the command draws its progress bar from it)."""

    done: int
    total: int
    isbn13: str
    outcome: str  # stored | missing | failed | skipped
    budget_used: int


# --- budget ----------------------------------------------------------------------------------------


def budget_used_today(*, now: datetime | None = None) -> int:
    """Upstream calls harvest runs made this UTC day: the shared counter, or the runs' own records when
    they say more (embedded mode counts per process; a `manage.py harvest_covers` is another process)."""
    now = now or timezone.now()
    state = _budget_windows.peek(BUDGET_NAME, limit=settings.HARVEST_DAILY_BUDGET, window=DAY, now=now.timestamp())
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    recorded = HarvestRun.objects.filter(started_at__gte=day_start).aggregate(n=Sum("budget_used"))["n"] or 0
    return max(state.count, int(recorded))


def budget_state(*, now: datetime | None = None) -> WindowState:
    now = now or timezone.now()
    return _budget_windows.peek(BUDGET_NAME, limit=settings.HARVEST_DAILY_BUDGET, window=DAY, now=now.timestamp())


def budget_reset_local() -> None:
    _budget_windows.reset_local()


@dataclass
class _RunBudget:
    """Counts this run's upstream attempts; refuses one past the day's budget."""

    allowance: int  # calls left for the day when the run started
    used: int = 0
    by_upstream: dict[str, int] = field(default_factory=dict)

    def observe(self, upstream: str) -> None:
        if self.used >= self.allowance:
            raise HarvestBudgetExhausted("The cover harvest's daily budget is spent.")
        state = _budget_windows.hit(BUDGET_NAME, limit=settings.HARVEST_DAILY_BUDGET, window=DAY)
        if not state.allowed:
            self.allowance = self.used
            raise HarvestBudgetExhausted("The cover harvest's daily budget is spent.")
        self.used += 1
        self.by_upstream[upstream] = self.by_upstream.get(upstream, 0) + 1

    @property
    def left(self) -> int:
        return max(0, self.allowance - self.used)


# --- starting ----------------------------------------------------------------------------------


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.HARVEST_STALE_SECONDS)


def _run_is_alive(run: HarvestRun, now: datetime) -> bool:
    seen = run.heartbeat_at or run.created_at
    return seen >= _stale_before(now)


def run_limit_parse(raw: Any) -> int:
    """The run limit from a request or option: a whole number 1..MAX_RUN_LIMIT; None -> the setting."""
    if raw is None or raw == "":
        return int(settings.HARVEST_RUN_LIMIT)
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidRequest("'limit' must be a whole number.", details={"limit": raw})
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest("'limit' must be a whole number.", details={"limit": raw}) from None
    if not 1 <= value <= MAX_RUN_LIMIT:
        raise InvalidRequest(f"'limit' must be between 1 and {MAX_RUN_LIMIT}.", details={"limit": value})
    return value


def covers_harvest_create(*, trigger: str, limit: int) -> HarvestRun:
    """A new queued run; Conflict (409) while another run is queued or running (and alive)."""
    now = timezone.now()
    with transaction.atomic():
        for active in HarvestRun.objects.select_for_update().filter(status__in=ACTIVE):
            if _run_is_alive(active, now):
                raise Conflict("A cover harvest is already under way.", details={"runId": str(active.id)})
            _finish(active, status=HarvestRunStatus.FAILED, error="No progress for too long: its worker died.")
        return HarvestRun.objects.create(trigger=trigger, limit=limit)


def covers_harvest_start(*, trigger: str = HarvestTrigger.API, limit: int | None = None) -> HarvestRun:
    """Create a run and queue its task once the row is committed."""
    from harvest.tasks import run_cover_harvest

    run = covers_harvest_create(trigger=trigger, limit=limit or int(settings.HARVEST_RUN_LIMIT))
    transaction.on_commit(lambda: run_cover_harvest.delay(str(run.id)))
    return run


def covers_harvest_state(*, run_id: str) -> HarvestRunState:
    try:
        key = uuid.UUID(str(run_id))
    except ValueError:
        raise NotFound("No harvest run with this id.", details={"runId": run_id}) from None
    run = HarvestRun.objects.filter(pk=key).first()
    if run is None:
        raise NotFound("No harvest run with this id.", details={"runId": run_id})
    return HarvestRunState.of(run)


# --- running ---------------------------------------------------------------------------------------


def _finish(run: HarvestRun, *, status: str, stop_reason: str = "", error: str = "") -> None:
    run.status = status
    run.stop_reason = stop_reason
    run.error_message = error[:2000]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "stop_reason", "error_message", "finished_at"])


def _claim(run_id: str) -> HarvestRun | None:
    """Mark the run running; None when it is finished or another live worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        run = HarvestRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in ACTIVE:
            return None
        if run.status == HarvestRunStatus.RUNNING and run.heartbeat_at and run.heartbeat_at >= _stale_before(now):
            return None  # a duplicate delivery while the first is still at work
        run.status = HarvestRunStatus.RUNNING
        run.started_at = run.started_at or now
        run.heartbeat_at = now
        run.save(update_fields=["status", "started_at", "heartbeat_at"])
        return run


def _source_figures(run: HarvestRun, name: str) -> dict[str, int]:
    figures = run.sources.setdefault(name, {})
    for key in ("tried", "stored", "notFound", "failed", "bytes"):
        figures.setdefault(key, 0)
    return figures


def _known_urls(isbns: list[str]) -> dict[str, list[str]]:
    """Cover URLs the catalog already holds per ISBN (edition's, then work's)."""
    rows = Edition.objects.filter(isbn13__in=isbns).values_list("isbn13", "cover_image_url", "work__cover_image_url")
    return {isbn: [u for u in (edition_url, work_url) if u] for isbn, edition_url, work_url in rows}


def cover_storage_key(isbn13: str, size: str, content_type: str) -> str:
    extension = "png" if content_type == "image/png" else "jpg"
    return f"{STORAGE_PREFIX}/{isbn13[-3:]}/{isbn13}-{size}.{extension}"


def _store_variants(isbn13: str, variants: dict[str, RenderedImage]) -> dict[str, dict[str, Any]]:
    stored: dict[str, dict[str, Any]] = {}
    for size in SIZES:
        rendered = variants[size]
        key = cover_storage_key(isbn13, size, rendered.content_type)
        if default_storage.exists(key):  # a re-harvest replaces (FileSystemStorage would rename)
            default_storage.delete(key)
        name = default_storage.save(key, ContentFile(rendered.content))
        stored[size] = {
            "key": name,
            "bytes": len(rendered.content),
            "width": rendered.width,
            "height": rendered.height,
            "contentType": rendered.content_type,
            "etag": etag_of(rendered.content),
        }
    return stored


def _cover_record(
    *, run: HarvestRun, isbn13: str, status: str, found: SourceOutcome | None, variants: dict[str, Any]
) -> Cover:
    cover, _ = Cover.objects.update_or_create(
        isbn13=isbn13,
        defaults={
            "status": status,
            "source": found.source if found else "",
            "source_url": found.url if found else "",
            "variants": variants,
            "bytes_total": sum(v["bytes"] for v in variants.values()),
            "run": run,
            "checked_at": timezone.now(),
        },
    )
    return cover


def _harvest_one(run: HarvestRun, isbn13: str, known_urls: list[str]) -> str:
    """Try the sources for one ISBN; record the outcome on the run. Returns stored|missing|failed|skipped."""
    if Cover.objects.filter(isbn13=isbn13, status=CoverStatus.STORED).exists():
        run.skipped += 1
        return "skipped"
    run.tried += 1
    any_failed = False
    for source in sources_configured():
        figures = _source_figures(run, source.name)
        outcome = cover_from_source(source=source, isbn13=isbn13, known_urls=known_urls)
        if outcome.status == "disabled":
            continue
        figures["tried"] += 1
        if outcome.status == "failed":
            figures["failed"] += 1
            any_failed = True
            logger.info("cover of %s from %s failed: %s", isbn13, source.name, outcome.error)
            continue
        if outcome.status == "not_found":
            figures["notFound"] += 1
            continue
        assert outcome.variants is not None
        variants = _store_variants(isbn13, outcome.variants)
        _cover_record(run=run, isbn13=isbn13, status=CoverStatus.STORED, found=outcome, variants=variants)
        size = sum(v["bytes"] for v in variants.values())
        figures["stored"] += 1
        figures["bytes"] += size
        run.stored += 1
        run.bytes_stored += size
        return "stored"
    if any_failed:
        run.failed += 1  # asked again next run: a failure says nothing about the cover
        return "failed"
    _cover_record(run=run, isbn13=isbn13, status=CoverStatus.MISSING, found=None, variants={})
    run.missing += 1
    return "missing"


RUN_FIGURES = (
    "candidates",
    "tried",
    "stored",
    "skipped",
    "failed",
    "missing",
    "bytes_stored",
    "budget_used",
    "budget_limit",
    "sources",
    "last_isbn",
    "heartbeat_at",
)


def covers_harvest(*, run_id: str, progress: Callable[[HarvestProgress], None] | None = None) -> HarvestRunState:
    """Run a queued run to its end (or resume one whose worker died). Idempotent."""
    run = _claim(run_id)
    if run is None:
        return covers_harvest_state(run_id=run_id)
    now = timezone.now()
    run.budget_limit = int(settings.HARVEST_DAILY_BUDGET)
    # Calls left today: the day's budget less what every run (this one, if resumed, included) spent.
    budget = _RunBudget(allowance=max(0, run.budget_limit - budget_used_today(now=now)))
    spent_before = run.budget_used
    stop_reason = HarvestStopReason.NONE
    try:
        demand = covers_demand(now=now, limit=max(0, run.limit - run.tried))
        run.candidates = max(run.candidates, len(demand.candidates))
        run.skipped = max(run.skipped, demand.skipped)
        if demand.more:
            stop_reason = HarvestStopReason.LIMIT
        known = _known_urls(list(demand.candidates))
        total = len(demand.candidates)
        with background_priority(), upstream_attempts_observed(budget.observe):
            for done, isbn13 in enumerate(demand.candidates, start=1):
                if budget.left <= 0:
                    stop_reason = HarvestStopReason.BUDGET
                    break
                try:
                    outcome = _harvest_one(run, isbn13, known.get(isbn13, []))
                except HarvestBudgetExhausted:
                    # The ISBN half-asked is asked again next run; its partial counts stay.
                    stop_reason = HarvestStopReason.BUDGET
                    break
                finally:
                    run.budget_used = spent_before + budget.used
                run.last_isbn = isbn13
                run.heartbeat_at = timezone.now()
                run.save(update_fields=list(RUN_FIGURES))
                if outcome == "stored":
                    covers_changed()
                if progress is not None:
                    progress(HarvestProgress(done, total, isbn13, outcome, run.budget_used))
        run.heartbeat_at = timezone.now()
        run.save(update_fields=list(RUN_FIGURES))
        _finish(run, status=HarvestRunStatus.COMPLETE, stop_reason=stop_reason)
    except Exception as exc:
        logger.exception("cover harvest %s failed", run_id)
        run.budget_used = spent_before + budget.used
        run.save(update_fields=list(RUN_FIGURES))
        _finish(run, status=HarvestRunStatus.FAILED, stop_reason=HarvestStopReason.ERROR, error=str(exc))
        raise
    return HarvestRunState.of(run)


# --- serving ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverVariant:
    isbn13: str
    size: str
    key: str
    content_type: str
    etag: str
    bytes: int


def cover_variant_get(*, isbn: str | None, size: str | None) -> CoverVariant:
    """Where one size of a harvested cover is stored. InvalidIsbn (400), InvalidRequest (size), NotFound."""
    isbn13 = isbn_normalize(isbn)
    size = size_parse(size)
    cover = Cover.objects.filter(isbn13=isbn13, status=CoverStatus.STORED).only("variants").first()
    variant = (cover.variants or {}).get(size) if cover is not None else None
    if not variant:
        raise NotFound("No cover is stored for this ISBN.", details={"isbn13": isbn13})
    return CoverVariant(
        isbn13=isbn13,
        size=size,
        key=variant["key"],
        content_type=variant["contentType"],
        etag=variant["etag"],
        bytes=int(variant["bytes"]),
    )


def cover_content(variant: CoverVariant) -> bytes:
    """The stored bytes; NotFound when the object is gone from storage."""
    try:
        with default_storage.open(variant.key, "rb") as handle:
            content: bytes = handle.read()
    except FileNotFoundError:
        raise NotFound("The stored cover is missing from storage.", details={"isbn13": variant.isbn13}) from None
    except Exception as exc:
        # botocore raises its own ClientError (NoSuchKey / 404) for a missing object.
        if "NoSuchKey" in repr(exc) or "404" in str(exc):
            raise NotFound("The stored cover is missing from storage.", details={"isbn13": variant.isbn13}) from None
        raise
    return content


def covers_overview() -> dict[str, Any]:
    """Dashboard figures (harvest.admin), all from the database and the budget counter."""
    stored = Cover.objects.filter(status=CoverStatus.STORED)
    sources = [
        {"source": row["source"], "covers": row["covers"], "bytes": int(row["bytes"] or 0)}
        for row in stored.values("source").annotate(covers=Count("id"), bytes=Sum("bytes_total")).order_by("-covers")
    ]
    now = timezone.now()
    used = budget_used_today(now=now)
    limit = int(settings.HARVEST_DAILY_BUDGET)
    return {
        "covers_stored": sum(row["covers"] for row in sources),
        "covers_missing": Cover.objects.filter(status=CoverStatus.MISSING).count(),
        "storage_bytes": sum(row["bytes"] for row in sources),
        "sources": sources,
        "budget_used": used,
        "budget_limit": limit,
        "run_limit": int(settings.HARVEST_RUN_LIMIT),
        "budget_remaining": max(0, limit - used),
        "budget_resets_at": now + timedelta(seconds=math.ceil(budget_state(now=now).resets_in)),
        "runs": list(HarvestRun.objects.all()[:10]),
        "runs_total": HarvestRun.objects.count(),
        "latest_covers": list(stored.order_by("-checked_at")[:12]),
        "catalog_without_cover": Edition.objects.exclude(isbn13__in=stored.values("isbn13")).count(),
    }
