"""The job event log: append with a per-job increasing seq, broadcast after commit, render the envelope.

Every message a client sees about a job is a logged event, except the per-connection ephemeral
frames (`ready_ack`, `pong`, `reconnected`, keep-alive `job_progress`), which repeat the seq of the
last logged event the connection has delivered.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from jobs.broadcast import broadcaster
from jobs.models import TERMINAL_STATUSES, Job, JobEvent

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = "1.0.0"
CHANNEL_MESSAGE_TYPE = "job.event"

JsonScalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]


def group_name(job_id: object) -> str:
    return f"job-{job_id}"


# --- payloads: typed, JSON-serialisable by construction ----------------------------------------
# Snake_case fields like the DTOs; `to_wire()` is the one place that spells the contract's camelCase.


@dataclass(frozen=True)
class JobStarted:
    total_count: int

    type: ClassVar[str] = "job_started"

    def to_wire(self) -> dict[str, JsonValue]:
        return {"totalCount": self.total_count}


@dataclass(frozen=True)
class JobProgress:
    progress: float
    status: str
    processed_count: int
    total_count: int
    current_item: str
    keep_alive: bool = False
    canceled: bool = False

    type: ClassVar[str] = "job_progress"

    def to_wire(self) -> dict[str, JsonValue]:
        body: dict[str, JsonValue] = {
            "progress": self.progress,
            "status": self.status,
            "processedCount": self.processed_count,
            "totalCount": self.total_count,
            "currentItem": str(self.current_item),  # CONTRACT 6: a string, never an object
        }
        if self.keep_alive:
            body["keepAlive"] = True
        if self.canceled:
            body["canceled"] = True
        return body


@dataclass(frozen=True)
class JobSummary:
    total_processed: int
    success_count: int
    failure_count: int
    duration: int  # ms
    resource_id: str

    def to_wire(self) -> dict[str, JsonValue]:
        return {
            "totalProcessed": self.total_processed,
            "successCount": self.success_count,
            "failureCount": self.failure_count,
            "duration": self.duration,
            "resourceId": self.resource_id,
        }


@dataclass(frozen=True)
class JobComplete:
    results_url: str
    summary: JobSummary
    # Pipeline-specific extras (ai_scan: totalDetected, approved, ...; csv: booksCount, successRate),
    # already in wire form: built by the pipeline's registered `complete_extra` (jobs.pipelines).
    extra: dict[str, JsonValue] = field(default_factory=dict)

    type: ClassVar[str] = "job_complete"

    def to_wire(self) -> dict[str, JsonValue]:
        return {**self.extra, "resultsUrl": self.results_url, "summary": self.summary.to_wire()}


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    retryable: bool = False

    type: ClassVar[str] = "error"

    def to_wire(self) -> dict[str, JsonValue]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


Payload = JobStarted | JobProgress | JobComplete | JobError


# --- envelope -----------------------------------------------------------------------------------


def envelope(
    *, job_id: object, pipeline: str, type: str, seq: int, payload: dict, timestamp_ms: int | None = None
) -> dict:
    return {
        "type": type,
        "jobId": str(job_id),
        "pipeline": pipeline,
        "timestamp": int(timestamp_ms if timestamp_ms is not None else time.time() * 1000),
        "version": PROTOCOL_VERSION,
        "seq": int(seq),
        "payload": {"type": type, **payload},
    }


def event_envelope(event: JobEvent, *, pipeline: str) -> dict:
    return envelope(
        job_id=event.job_id,
        pipeline=pipeline,
        type=event.type,
        seq=event.seq,
        payload=event.payload,
        timestamp_ms=int(event.created_at.timestamp() * 1000),
    )


def is_closing_event(message: dict) -> int | None:
    """The WebSocket close code a logged event ends the stream with, or None."""
    if message["type"] == "job_complete":
        return 1000
    if message["type"] == "error":
        return 1011
    if message["type"] == "job_progress" and message["payload"].get("canceled"):
        return 1001
    return None


# --- append + broadcast -------------------------------------------------------------------------


class StaleRun(Exception):
    """A run of a job found its fencing number moved on: its lease lapsed and another run took over
    (jobs.leases). Raised by the run's writes, which did not happen; the run must stop."""

    def __init__(self, *, job_id: object, run_number: int) -> None:
        super().__init__(f"run {run_number} of job {job_id} is stale (a newer run holds the job)")
        self.job_id = job_id
        self.run_number = run_number


def fence_check(*, job_id: object, run_number: int | None) -> None:
    """Raise StaleRun if `run_number` is no longer the job's (after a conditional write touched nothing)."""
    if run_number is None:
        return
    current = Job.objects.filter(pk=job_id).values_list("run_number", "status").first()
    if current is not None and current[0] != run_number and current[1] not in TERMINAL_STATUSES:
        raise StaleRun(job_id=job_id, run_number=run_number)


def event_append(
    *, job_id: object, payload: Payload, state: dict | None = None, run_number: int | None = None
) -> JobEvent | None:
    """Log one event with the next seq and broadcast it once the transaction commits.

    The job row is locked while the seq is taken, so concurrent writers (worker, cancel route) get
    distinct, increasing seqs. `state` (job field updates, e.g. the terminal status) is written in the
    same transaction as the event. Nothing is logged after a terminal state: a late update from an item
    that was in flight when the job was canceled is dropped. Returns None when dropped.

    `run_number`: the writing run's fencing number (jobs.leases), checked under the same lock (in the
    same statement on PostgreSQL); a run that is no longer the job's raises StaleRun and logs nothing.
    """
    wire = payload.to_wire()
    if not state and connection.vendor == "postgresql" and not connection.in_atomic_block:
        try:
            event = _append_in_one_statement(job_id=job_id, type_=payload.type, wire=wire, run_number=run_number)
        except IntegrityError:
            pass  # a concurrent writer took the same seq (see below): take the locking path
        else:
            if event is None:
                fence_check(job_id=job_id, run_number=run_number)
            return event
    with transaction.atomic():
        job = Job.objects.select_for_update().only("id", "pipeline", "status", "run_number").get(pk=job_id)
        if job.status in TERMINAL_STATUSES:
            return None
        if run_number is not None and job.run_number != run_number:
            raise StaleRun(job_id=job.id, run_number=run_number)
        if state:
            Job.objects.filter(pk=job.id).update(**state)
        last = JobEvent.objects.filter(job_id=job.id).aggregate(last=Max("seq"))["last"] or 0
        event = JobEvent.objects.create(job_id=job.id, seq=last + 1, type=payload.type, payload=wire)
        message = event_envelope(event, pipeline=job.pipeline)
        transaction.on_commit(lambda: event_broadcast(job_id=job.id, message=message))
    return event


# A progress event in ONE round trip (PostgreSQL): lock the active job row, take MAX(seq) + 1, insert.
# Progress events are most of a job's writes, and on a database a millisecond away the six round trips
# of the locking path (BEGIN, lock, MAX, INSERT, COMMIT) made reporting, not the work, a batch's
# bottleneck (docs/benchmarks.md). Under READ COMMITTED the MAX sub-select uses the statement's snapshot,
# so a writer that waited for the lock can compute a seq just taken: the unique (job, seq) constraint
# refuses it and the caller retries on the locking path, where MAX is read after the lock.
_ONE_STATEMENT_APPEND = f"""
WITH j AS (
    SELECT id, pipeline FROM {Job._meta.db_table}
    WHERE id = %s AND status NOT IN ({", ".join(f"'{s}'" for s in sorted(TERMINAL_STATUSES))})
      AND (%s::integer IS NULL OR run_number = %s::integer)
    FOR UPDATE
)
INSERT INTO {JobEvent._meta.db_table} (job_id, seq, type, payload, created_at)
SELECT j.id, COALESCE((SELECT MAX(e.seq) FROM {JobEvent._meta.db_table} e WHERE e.job_id = j.id), 0) + 1,
       %s, %s::jsonb, now()
FROM j
RETURNING seq, created_at, (SELECT pipeline FROM j)
"""  # noqa: S608 - only table names and status constants are interpolated; values are parameters


def _append_in_one_statement(*, job_id: object, type_: str, wire: dict, run_number: int | None) -> JobEvent | None:
    with connection.cursor() as cursor:
        cursor.execute(_ONE_STATEMENT_APPEND, [str(job_id), run_number, run_number, type_, json.dumps(wire)])
        row = cursor.fetchone()
    if row is None:
        return None  # unknown or finished job: nothing is logged after a terminal state
    seq, created_at, pipeline = row
    event = JobEvent(job_id=job_parse(job_id), seq=seq, type=type_, payload=wire, created_at=created_at)
    event_broadcast(job_id=event.job_id, message=event_envelope(event, pipeline=pipeline))
    return event


def job_parse(job_id: object) -> uuid.UUID:
    return job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))


def event_broadcast(*, job_id: object, message: dict) -> None:
    """Hand the event to this process's broadcaster (in order, without waiting for Redis)."""
    broadcaster.send(group_name(job_id), {"type": CHANNEL_MESSAGE_TYPE, "event": message})


def events_after(*, job_id: object, after_seq: int, before_seq: int | None = None) -> list[dict]:
    job = Job.objects.only("pipeline").get(pk=job_id)
    query = JobEvent.objects.filter(job_id=job_id, seq__gt=after_seq)
    if before_seq is not None:
        query = query.filter(seq__lt=before_seq)
    return [event_envelope(event, pipeline=job.pipeline) for event in query.order_by("seq")]


PROGRESS_EVENT_TYPES = ("job_started", "job_progress")


def progress_latest(*, job_id: object, up_to_seq: int | None = None) -> JobEvent | None:
    """The latest logged `job_progress` / `job_started` (at or below `up_to_seq`), or None.

    The log, not the job row, is what clients have seen: the row is written through the per-pipeline
    throttle (ai_scan: once a minute), so it lags behind the log and must never feed a progress frame.
    """
    query = JobEvent.objects.filter(job_id=job_id, type__in=PROGRESS_EVENT_TYPES)
    if up_to_seq is not None:
        query = query.filter(seq__lte=up_to_seq)
    return query.order_by("-seq").first()


def closing_event(*, job_id: object) -> dict | None:
    """The envelope of a finished job's closing event (its last logged event), or None."""
    job = Job.objects.only("pipeline").get(pk=job_id)
    event = JobEvent.objects.filter(job_id=job_id).order_by("-seq").first()
    if event is None:
        return None
    message = event_envelope(event, pipeline=job.pipeline)
    return message if is_closing_event(message) is not None else None
