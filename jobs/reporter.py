"""The one progress interface every pipeline reports through (CONTRACT 5, 6).

Services receive a `ProgressReporter`; Celery tasks build the real `JobProgressReporter` for a job id,
tests pass `FakeProgressReporter`. Every call logs an event (per-job seq, replayable, broadcast after
commit); the job's state row is written through a per-pipeline throttle, terminal states at once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from booktrack.core.metrics import record_job
from jobs.broadcast import broadcaster
from jobs.events import (
    JobComplete,
    JobError,
    JobProgress,
    JobStarted,
    JobSummary,
    JsonValue,
    StaleRun,
    event_append,
    fence_check,
    group_name,
    progress_latest,
)
from jobs.models import ACTIVE_STATUSES, Job, JobItem, JobStatus
from jobs.pipelines import pipeline_get

if TYPE_CHECKING:
    from jobs.leases import JobRun

logger = logging.getLogger(__name__)

RESULTS_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class ItemOutcome:
    index: int
    success: bool
    result: JsonValue


@runtime_checkable
class ProgressReporter(Protocol):
    def started(self, *, total: int) -> None: ...

    def progress(self, *, processed: int, status: str, current_item: str = "", fraction: float | None = None) -> None:
        """`fraction` (0-1) for a pipeline whose progress is not processed / total (phases)."""
        ...

    def item_succeeded(self, *, index: int, result: JsonValue) -> None: ...

    def item_failed(self, *, index: int, error: str, result: JsonValue) -> None: ...

    def items_finished(self, *, outcomes: Sequence[ItemOutcome]) -> None:
        """Many finished items at once (one write): for pipelines with thousands of small items."""
        ...

    def finished_items(self) -> dict[int, ItemOutcome]:
        """Items already finished (by this run or a previous delivery of the same task)."""
        ...

    def complete(self, *, summary: JobSummary, results: JsonValue) -> None:
        """Store the results; `job_complete` carries the summary and the pipeline's own fields, which
        its registered `complete_extra` derives from the results (jobs.pipelines)."""
        ...

    def fail(self, *, code: str, message: str, retryable: bool = False) -> None: ...

    def canceled(self, *, results: JsonValue) -> None:
        """Store the results of the items finished before the cancel was seen."""
        ...

    def keep_alive(self) -> None: ...

    def is_canceled(self) -> bool: ...


class StateThrottle:
    """Write after `every` updates or `seconds` since the last write, whichever first."""

    def __init__(self, *, every: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.seconds = seconds
        self.clock = clock
        self.pending = 0
        self.last_write = clock()

    def should_write(self) -> bool:
        self.pending += 1
        return self.pending >= self.every or self.clock() - self.last_write >= self.seconds

    def written(self) -> None:
        self.pending = 0
        self.last_write = self.clock()


def _items_insert_json(*, job_id: object, outcomes: Sequence[ItemOutcome], run_number: int | None = None) -> int:
    """INSERT many JobItems from one jsonb parameter; a redelivered task never records an item twice.

    With `run_number` the insert happens only while that run is the job's (fencing, jobs.leases), in
    the same statement. Returns the rows inserted.
    """
    document = json.dumps(
        [{"i": o.index, "s": o.success, "r": o.result} for o in outcomes], allow_nan=False, separators=(",", ":")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "jobs_jobitem" (job_id, "index", success, result, created_at) '
            "SELECT %s, x.i, x.s, x.r, %s FROM jsonb_to_recordset(%s::jsonb) AS x(i integer, s boolean, r jsonb) "
            'WHERE %s::integer IS NULL OR EXISTS (SELECT 1 FROM "jobs_job" j WHERE j.id = %s AND j.run_number = %s) '
            'ON CONFLICT (job_id, "index") DO NOTHING',
            [job_id, timezone.now(), document, run_number, job_id, run_number],
        )
        return cursor.rowcount


def _json_checked(value: JsonValue) -> JsonValue:
    json.dumps(value, allow_nan=False)  # fail in the pipeline, not in a socket or the results route
    return value


class JobProgressReporter:
    """The real reporter: event log + channel layer + throttled job state.

    Built with the `run` (jobs.leases.JobRun) of the delivery it reports for, every write is fenced:
    conditional on the run's number in the same statement; a run that lost the job raises StaleRun.
    """

    def __init__(
        self, *, job_id: object, clock: Callable[[], float] = time.monotonic, run: JobRun | None = None
    ) -> None:
        job = Job.objects.only("id", "pipeline", "total_count", "processed_count", "progress").get(pk=job_id)
        self.job_id = job.id
        self.run = run
        self.run_number = run.run_number if run is not None else None
        self.pipeline = job.pipeline
        self.total = job.total_count
        self.processed = job.processed_count
        self.fraction = job.progress
        # A redelivered task resumes from the log, not from the throttled row, which may lag behind
        # what clients were already sent (progress must never go back).
        last = progress_latest(job_id=job.id)
        if last is not None and last.type == "job_progress":
            self.processed = max(self.processed, int(last.payload.get("processedCount", 0)))
            self.fraction = max(self.fraction, float(last.payload.get("progress", 0.0)))
        self.state_writes = 0
        self._canceled = False
        # CONTRACT 5: persist the state after N updates or T seconds (per pipeline), whichever first.
        self.spec = pipeline_get(self.pipeline)
        self.throttle = StateThrottle(every=self.spec.state_every, seconds=self.spec.state_seconds, clock=clock)
        self._status_text = ""
        self._current_item = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def started(self, *, total: int) -> None:
        self.total = max(0, int(total))
        now = timezone.now()
        self._fence()
        status = Job.objects.filter(pk=self.job_id).values_list("status", flat=True).first()
        if status != JobStatus.QUEUED:
            # A redelivered task resuming the job: the client already had job_started.
            if not self._fenced(Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING)).update(
                total_count=self.total, last_update=now
            ):
                fence_check(job_id=self.job_id, run_number=self.run_number)
            return
        event_append(
            job_id=self.job_id,
            payload=JobStarted(total_count=self.total),
            state={"status": JobStatus.RUNNING, "started_at": now, "last_update": now, "total_count": self.total},
            run_number=self.run_number,
        )
        record_job(self.pipeline, status="started")

    def progress(self, *, processed: int, status: str, current_item: str = "", fraction: float | None = None) -> None:
        self.processed = max(self.processed, int(processed))
        if fraction is not None:
            self.fraction = max(self.fraction, min(1.0, max(0.0, float(fraction))))
        elif self.total:
            self.fraction = max(self.fraction, min(1.0, self.processed / self.total))
        self._status_text = str(status)[:500]
        self._current_item = str(current_item)[:500]
        event_append(
            job_id=self.job_id,
            payload=JobProgress(
                progress=round(self.fraction, 4),
                status=self._status_text,
                processed_count=self.processed,
                total_count=self.total,
                current_item=self._current_item,
            ),
            run_number=self.run_number,
        )
        if self.throttle.should_write():
            self._write_state()

    def _fenced(self, query: QuerySet[Job]) -> QuerySet[Job]:
        return query if self.run_number is None else query.filter(run_number=self.run_number)

    def _fence(self) -> None:
        """Stop a run its heartbeat found stale before it starts anything new."""
        if self.run is not None and self.run.lost.is_set():
            raise StaleRun(job_id=self.job_id, run_number=self.run.run_number)

    def _write_state(self) -> None:
        self._fenced(Job.objects.filter(pk=self.job_id, status__in=ACTIVE_STATUSES)).update(
            processed_count=self.processed,
            total_count=self.total,
            progress=self.fraction,
            status_message=self._status_text,
            current_item=self._current_item,
            last_update=timezone.now(),
        )
        self.state_writes += 1
        self.throttle.written()

    # -- items -------------------------------------------------------------------------------

    def item_succeeded(self, *, index: int, result: JsonValue) -> None:
        self._item(index=index, success=True, result=result)

    def item_failed(self, *, index: int, error: str, result: JsonValue) -> None:
        self._item(index=index, success=False, result=result)

    def _item(self, *, index: int, success: bool, result: JsonValue) -> None:
        self.items_finished(outcomes=[ItemOutcome(index=index, success=success, result=result)])

    def items_finished(self, *, outcomes: Sequence[ItemOutcome]) -> None:
        self._fence()
        if connection.vendor == "postgresql" and (len(outcomes) > 1 or self.run_number is not None):
            # Many items: ONE JSON document for the whole batch, unpacked by PostgreSQL. Django's
            # bulk_create sends arrays of jsonb text that psycopg escapes in Python, character by
            # character: 5x slower for a CSV import's thousands of rows. It is also the fenced insert.
            for outcome in outcomes:
                _json_checked(outcome.result)
            if not _items_insert_json(job_id=self.job_id, outcomes=outcomes, run_number=self.run_number):
                fence_check(job_id=self.job_id, run_number=self.run_number)
            return
        with transaction.atomic():
            if self.run_number is not None:  # other databases: check the fence under the row lock
                Job.objects.select_for_update().filter(pk=self.job_id).only("id").first()
                fence_check(job_id=self.job_id, run_number=self.run_number)
            JobItem.objects.bulk_create(
                [
                    JobItem(job_id=self.job_id, index=o.index, success=o.success, result=_json_checked(o.result))
                    for o in outcomes
                ],
                ignore_conflicts=True,  # a redelivered task never records an item twice
            )

    def finished_items(self) -> dict[int, ItemOutcome]:
        return {
            item.index: ItemOutcome(index=item.index, success=item.success, result=item.result)
            for item in JobItem.objects.filter(job_id=self.job_id).order_by("index")
        }

    # -- endings -----------------------------------------------------------------------------

    def complete(self, *, summary: JobSummary, results: JsonValue) -> None:
        now = timezone.now()
        event = event_append(
            job_id=self.job_id,
            payload=JobComplete(
                results_url=self.spec.results_url(str(self.job_id)),
                summary=summary,
                extra=self.spec.complete_extra(_json_checked(results)),
            ),
            state={
                "status": JobStatus.COMPLETE,
                "processed_count": max(self.processed, summary.total_processed),
                "total_count": self.total,
                "progress": 1.0,
                "current_item": "",
                "status_message": "Complete",
                "ended_at": now,
                "last_update": now,
                "results": _json_checked(results),
                "results_expire_at": now + RESULTS_TTL,
            },
            run_number=self.run_number,
        )
        if event is not None:
            record_job(self.pipeline, status="complete")
        broadcaster.flush(timeout=2.0)  # the closing event goes out before the task returns

    def fail(self, *, code: str, message: str, retryable: bool = False) -> None:
        now = timezone.now()
        event = event_append(
            job_id=self.job_id,
            payload=JobError(code=code, message=message, retryable=retryable),
            state={
                "status": JobStatus.FAILED,
                "error_code": code,
                "error_message": message,
                "ended_at": now,
                "last_update": now,
                "processed_count": self.processed,
                "progress": self.fraction,
            },
            run_number=self.run_number,
        )
        if event is not None:
            record_job(self.pipeline, status="failed")
        broadcaster.flush(timeout=2.0)

    def canceled(self, *, results: JsonValue) -> None:
        job = Job.objects.filter(pk=self.job_id, status=JobStatus.CANCELED).only("ended_at").first()
        if job is None:
            return
        ended = job.ended_at or timezone.now()
        self._fenced(Job.objects.filter(pk=self.job_id)).update(
            results=_json_checked(results), results_expire_at=ended + RESULTS_TTL
        )

    def keep_alive(self) -> None:
        """Tell connected sockets the job is alive during a long step (not logged: nothing to replay)."""
        broadcaster.send(group_name(self.job_id), {"type": "job.keepalive"})

    def is_canceled(self) -> bool:
        """Checked before each new item; a stale run (jobs.leases) raises StaleRun here, before starting it."""
        if self._canceled:
            return True
        self._fence()
        row = Job.objects.filter(pk=self.job_id).values_list("status", "run_number").first()
        if row is None:
            return False
        status, run_number = row
        self._canceled = status == JobStatus.CANCELED
        if not self._canceled and self.run_number is not None and run_number != self.run_number:
            if status in ACTIVE_STATUSES:
                raise StaleRun(job_id=self.job_id, run_number=self.run_number)
        return self._canceled


@dataclass
class FakeProgressReporter:
    """In-memory reporter for service tests. `cancel_after_items=n` cancels once n items finished."""

    total: int = 0
    cancel_after_items: int | None = None
    preloaded: dict[int, ItemOutcome] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    items: dict[int, ItemOutcome] = field(default_factory=dict)
    processed_seen: list[int] = field(default_factory=list)
    fractions_seen: list[float] = field(default_factory=list)
    result: JsonValue = None
    summary: JobSummary | None = None
    canceled_flag: bool = False
    cancel_checks: int = 0

    def started(self, *, total: int) -> None:
        self.total = total
        self.calls.append(("started", {"total": total}))

    def progress(self, *, processed: int, status: str, current_item: str = "", fraction: float | None = None) -> None:
        assert isinstance(current_item, str)
        self.processed_seen.append(processed)
        if fraction is not None:
            self.fractions_seen.append(fraction)
        self.calls.append(("progress", {"processed": processed, "status": status, "current_item": current_item}))

    def item_succeeded(self, *, index: int, result: JsonValue) -> None:
        self._item(index, True, result)

    def item_failed(self, *, index: int, error: str, result: JsonValue) -> None:
        self._item(index, False, result)

    def items_finished(self, *, outcomes: Sequence[ItemOutcome]) -> None:
        for outcome in outcomes:
            self._item(outcome.index, outcome.success, outcome.result)

    def _item(self, index: int, success: bool, result: JsonValue) -> None:
        json.dumps(result, allow_nan=False)
        assert index not in self.items, f"item {index} reported twice"
        self.items[index] = ItemOutcome(index=index, success=success, result=result)
        self.calls.append(("item", {"index": index, "success": success}))
        if self.cancel_after_items is not None and len(self.items) >= self.cancel_after_items:
            self.canceled_flag = True

    def finished_items(self) -> dict[int, ItemOutcome]:
        return {**self.preloaded, **self.items}

    def complete(self, *, summary: JobSummary, results: JsonValue) -> None:
        json.dumps(results, allow_nan=False)
        self.summary = summary
        self.result = results
        self.calls.append(("complete", {}))

    def fail(self, *, code: str, message: str, retryable: bool = False) -> None:
        self.calls.append(("fail", {"code": code, "message": message}))

    def canceled(self, *, results: JsonValue) -> None:
        self.result = results
        self.calls.append(("canceled", {}))

    def keep_alive(self) -> None:
        self.calls.append(("keep_alive", {}))

    def is_canceled(self) -> bool:
        self.cancel_checks += 1
        return self.canceled_flag

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]
