"""The job event log: append with a per-job increasing seq, broadcast after commit, render the envelope.

Every message a client sees about a job is a logged event, except the per-connection ephemeral
frames (`ready_ack`, `pong`, `reconnected`, keep-alive `job_progress`), which repeat the seq of the
last logged event the connection has delivered.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Union

from django.db import connection, transaction
from django.db.models import Max

from jobs.broadcast import broadcaster
from jobs.models import TERMINAL_STATUSES, Job, JobEvent

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = "1.0.0"
CHANNEL_MESSAGE_TYPE = "job.event"

JsonScalar = Union[str, int, float, bool, None]  # noqa: UP007
JsonValue = Union[JsonScalar, list["JsonValue"], dict[str, "JsonValue"]]  # noqa: UP007


def group_name(job_id: object) -> str:
    return f"job-{job_id}"


# --- payloads: typed, JSON-serialisable by construction ----------------------------------------


@dataclass(frozen=True)
class JobStarted:
    totalCount: int  # noqa: N815 - wire names

    type = "job_started"


@dataclass(frozen=True)
class JobProgress:
    progress: float
    status: str
    processedCount: int  # noqa: N815
    totalCount: int  # noqa: N815
    currentItem: str  # noqa: N815
    keepAlive: bool = False  # noqa: N815
    canceled: bool = False

    type = "job_progress"

    def to_wire(self) -> dict[str, JsonValue]:
        body = asdict(self)
        body["currentItem"] = str(self.currentItem)
        if not self.keepAlive:
            body.pop("keepAlive")
        if not self.canceled:
            body.pop("canceled")
        return body


@dataclass(frozen=True)
class JobSummary:
    totalProcessed: int  # noqa: N815
    successCount: int  # noqa: N815
    failureCount: int  # noqa: N815
    duration: int  # ms
    resourceId: str  # noqa: N815


@dataclass(frozen=True)
class JobComplete:
    resultsUrl: str  # noqa: N815
    summary: JobSummary
    # Pipeline-specific extras (ai_scan: totalDetected, approved, ...; csv: booksCount, successRate).
    extra: dict[str, JsonScalar | dict[str, JsonScalar]] = field(default_factory=dict)

    type = "job_complete"

    def to_wire(self) -> dict[str, JsonValue]:
        return {**self.extra, "resultsUrl": self.resultsUrl, "summary": asdict(self.summary)}


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    retryable: bool = False

    type = "error"


Payload = JobStarted | JobProgress | JobComplete | JobError


def payload_wire(payload: Payload) -> dict[str, JsonValue]:
    to_wire = getattr(payload, "to_wire", None)
    return to_wire() if to_wire else asdict(payload)


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


# Terminal events are committed durably; a progress event lost to a database *server* crash (not a
# worker crash) is harmless: the job state is re-derived when the job resumes.
DURABLE_EVENT_TYPES = frozenset({"job_complete", "error"})


def commit_without_waiting_for_disk() -> None:
    """Inside a transaction: let PostgreSQL commit it without waiting for the WAL flush.

    Progress bookkeeping commits several times per item; waiting for an fsync each time made the
    reporting, not the work, the bottleneck of a batch (docs/benchmarks.md). No effect elsewhere.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def event_append(*, job_id: object, payload: Payload, state: dict | None = None) -> JobEvent | None:
    """Log one event with the next seq and broadcast it once the transaction commits.

    The job row is locked while the seq is taken, so concurrent writers (worker, cancel route) get
    distinct, increasing seqs. `state` (job field updates, e.g. the terminal status) is written in the
    same transaction as the event. Nothing is logged after a terminal state: a late update from an item
    that was in flight when the job was canceled is dropped. Returns None when dropped.
    """
    wire = payload_wire(payload)
    with transaction.atomic():
        if payload.type not in DURABLE_EVENT_TYPES:
            commit_without_waiting_for_disk()
        job = Job.objects.select_for_update().only("id", "pipeline", "status").get(pk=job_id)
        if job.status in TERMINAL_STATUSES:
            return None
        if state:
            Job.objects.filter(pk=job.id).update(**state)
        last = JobEvent.objects.filter(job_id=job.id).aggregate(last=Max("seq"))["last"] or 0
        event = JobEvent.objects.create(job_id=job.id, seq=last + 1, type=payload.type, payload=wire)
        message = event_envelope(event, pipeline=job.pipeline)
        transaction.on_commit(lambda: event_broadcast(job_id=job.id, message=message))
    return event


def event_broadcast(*, job_id: object, message: dict) -> None:
    """Hand the event to this process's broadcaster (in order, without waiting for Redis)."""
    broadcaster.send(group_name(job_id), {"type": CHANNEL_MESSAGE_TYPE, "event": message})


def events_after(*, job_id: object, after_seq: int, before_seq: int | None = None) -> list[dict]:
    job = Job.objects.only("pipeline").get(pk=job_id)
    query = JobEvent.objects.filter(job_id=job_id, seq__gt=after_seq)
    if before_seq is not None:
        query = query.filter(seq__lt=before_seq)
    return [event_envelope(event, pipeline=job.pipeline) for event in query.order_by("seq")]
