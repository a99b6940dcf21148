"""Leases, heartbeats and fencing: a job whose worker died resumes in seconds, and a stale run stops.

- A run of a job (one delivery of its pipeline task) first takes the job's lease (`lease_acquire`):
  a new fencing number (`Job.run_number`), its owner and an expiry `JOB_LEASE_SECONDS` ahead. A job
  that another run holds with a live lease, or that has finished, is not run (the delivery is a
  duplicate: the broker's own redelivery, or a second dispatch).
- While it works, a heartbeat thread renews the lease every `JOB_HEARTBEAT_SECONDS`
  (`UPDATE ... WHERE run_number = N`).
- The lease check (`leases_check`, every `JOB_LEASE_CHECK_SECONDS` in each worker, and celery-beat)
  finds jobs whose lease lapsed (the worker was SIGKILLed, lost its host, hangs) and queued jobs not
  picked up by their dispatch deadline (the publish failed after commit, or the broker lost the
  message), moves the fencing number on and sends each to its task again.
- Every write of a run's reporter is conditional on its fencing number in the same statement; a run
  that finds it moved on raises `StaleRun` and stops, so no item is written, or started, twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs.events import StaleRun
from jobs.models import ACTIVE_STATUSES, Job, JobStatus

logger = logging.getLogger(__name__)

__all__ = ["JobRun", "LeaseCheck", "StaleRun", "job_lease", "job_run", "lease_acquire", "leases_check"]

T = TypeVar("T")
MAX_LEASE_LAPSES = 3  # a job whose runs lost their lease this many times fails (it kills its workers)


def _lease() -> timedelta:
    return timedelta(seconds=settings.JOB_LEASE_SECONDS)


@dataclass(frozen=True)
class JobRun:
    """One run of a job: its fencing number. `lost` is set once the heartbeat finds it moved on."""

    job_id: object
    run_number: int
    owner: str
    lost: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


def lease_owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:200]


def lease_acquire(
    *, job_id: object, owner: str | None = None, now: datetime | None = None, takeover: int | None = None
) -> JobRun | None:
    """Take the job's lease with a new fencing number; None if it finished or a live run holds it.

    `takeover`: the number of a run this delivery replaces (a retry after the database went away,
    whose lease could not be released): its lease counts as free.
    """
    now = now or timezone.now()
    owner = owner or lease_owner_name()
    free = Q(lease_owner="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    if takeover is not None:
        free |= Q(run_number=takeover)
    with transaction.atomic():
        job = (
            Job.objects.select_for_update()
            .filter(free, pk=job_id, status__in=ACTIVE_STATUSES)
            .only("id", "run_number")
            .first()
        )
        if job is None:
            return None
        number = job.run_number + 1
        Job.objects.filter(pk=job.pk).update(run_number=number, lease_owner=owner, lease_expires_at=now + _lease())
    return JobRun(job_id=job.pk, run_number=number, owner=owner)


def lease_renew(*, run: JobRun, now: datetime | None = None) -> bool:
    """Extend the lease; False once the run is stale (fencing number moved on) or the job ended."""
    now = now or timezone.now()
    renewed = Job.objects.filter(pk=run.job_id, run_number=run.run_number, status__in=ACTIVE_STATUSES).update(
        lease_expires_at=now + _lease()
    )
    return renewed == 1


def run_is_current(*, run: JobRun) -> bool:
    return Job.objects.filter(pk=run.job_id, run_number=run.run_number).exists()


def lease_release(*, run: JobRun) -> None:
    """Give the lease up (the run ended); a job still active is then sent again by the next lease check."""
    Job.objects.filter(pk=run.job_id, run_number=run.run_number).update(lease_owner="", lease_expires_at=None)


class LeaseHeartbeat(threading.Thread):
    """Renews a run's lease every `every` seconds on its own database connection, until stopped."""

    def __init__(self, run: JobRun, *, every: float) -> None:
        super().__init__(name=f"lease-heartbeat-{run.job_id}", daemon=True)
        self.job_run = run
        self.every = every
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.wait(self.every):
                try:
                    if lease_renew(run=self.job_run):
                        continue
                    if not run_is_current(run=self.job_run):
                        logger.warning(
                            "job %s: run %s lost its lease to a newer run; it stops at its next write",
                            self.job_run.job_id,
                            self.job_run.run_number,
                        )
                        self.job_run.lost.set()
                    return  # stale, or the job ended
                except DatabaseError as error:  # database restarting: try again next beat
                    logger.warning("job %s: lease renewal failed: %s", self.job_run.job_id, error)
                    connection.close()
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


@contextmanager
def job_lease(*, job_id: object, takeover: int | None = None) -> Iterator[JobRun | None]:
    """Hold the job's lease (renewed by a heartbeat) for the block; yields None if not ours to run."""
    run = lease_acquire(job_id=job_id, takeover=takeover)
    if run is None:
        yield None
        return
    heartbeat = LeaseHeartbeat(run, every=float(settings.JOB_HEARTBEAT_SECONDS))
    heartbeat.start()
    try:
        yield run
    finally:
        heartbeat.stop()
        try:
            lease_release(run=run)
        except DatabaseError:  # the database is gone: the lease lapses by itself
            close_old_connections()


def job_run(*, job_id: object, execute: Callable[[JobRun], T], takeover: int | None = None) -> T | None:
    """Run a pipeline's `execute(run)` holding the job's lease; what a pipeline task calls.

    Returns None without running when the job finished or another live run holds it (a duplicate
    delivery), and when this run turns out stale (another run took over: it stops, that one goes on).
    A database error propagates (the task retries) carrying `job_run_number`, the run to take over.
    """
    close_old_connections()
    with job_lease(job_id=job_id, takeover=takeover) as run:
        if run is None:
            logger.info("job %s: not run by this delivery (finished, or a live run holds its lease)", job_id)
            return None
        try:
            return execute(run)
        except StaleRun as stale:
            logger.warning("job %s: %s; this run stops", job_id, stale)
            return None
        except DatabaseError as error:
            error.job_run_number = run.run_number  # type: ignore[attr-defined]
            raise


# --- the lease check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaseCheck:
    resumed: list[str]  # running jobs whose lease lapsed, sent again
    dispatched: list[str]  # queued jobs not picked up by their dispatch deadline, sent again
    failed: list[str]  # jobs whose runs lost their lease MAX_LEASE_LAPSES times


def leases_check(*, now: datetime | None = None) -> LeaseCheck:
    """Send every job whose lease (or dispatch deadline) lapsed to its task again, with a new fencing number.

    A lapsed lease of a run moves `run_number` on at once, so that run, should it wake up, stops at its
    next write. Concurrent checks (every worker runs one) never send a job twice: each job is taken
    with SKIP LOCKED and its deadline moved on in the same transaction.
    """
    from jobs.pipelines import pipelines_registered
    from jobs.reporter import JobProgressReporter
    from jobs.services import job_enqueue

    now = now or timezone.now()
    with_task = [spec.name for spec in pipelines_registered() if spec.task is not None]
    # No lease at all: a job from before leases existed, or whose run gave the lease up unfinished.
    leaseless = Q(lease_expires_at__isnull=True, last_update__lte=now - _lease())
    lapsed = Job.objects.filter(Q(lease_expires_at__lte=now) | leaseless, status__in=ACTIVE_STATUSES).filter(
        pipeline__in=with_task
    )
    resumed: list[str] = []
    dispatched: list[str] = []
    to_fail: list[Job] = []
    dispatch_deadline = now + timedelta(seconds=settings.JOB_DISPATCH_SECONDS)
    for job_id in lapsed.values_list("id", flat=True)[:500]:
        with transaction.atomic():
            job = lapsed.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if job is None:
                continue  # picked up, finished, or another check has it
            held = bool(job.lease_owner)
            lapses = job.requeue_count + (1 if held else 0)
            Job.objects.filter(pk=job.pk).update(
                run_number=F("run_number") + 1,
                lease_owner="",
                lease_expires_at=dispatch_deadline,
                requeue_count=lapses,
            )
            if held and lapses > MAX_LEASE_LAPSES:
                to_fail.append(job)
                continue
            job_enqueue(job=job)
            if job.status == JobStatus.RUNNING:
                resumed.append(str(job.id))
                logger.warning(
                    "job %s: the lease of run %s (%s) lapsed at %s; sent to its task again",
                    job.id,
                    job.run_number,
                    job.lease_owner or "no owner",
                    job.lease_expires_at,
                )
            else:
                dispatched.append(str(job.id))
                logger.warning("job %s: still queued past its dispatch deadline; sent to its task again", job.id)
    for job in to_fail:
        JobProgressReporter(job_id=job.id).fail(
            code="INTERNAL_ERROR",
            message=f"The worker running this job stopped {MAX_LEASE_LAPSES + 1} times; it was not finished.",
            retryable=True,
        )
    return LeaseCheck(resumed=resumed, dispatched=dispatched, failed=[str(j.id) for j in to_fail])


# --- the in-worker timer -------------------------------------------------------------------------

_timer_started = False
_timer_lock = threading.Lock()


def lease_check_timer_start(
    *, every: float | None = None, check: Callable[[], object] | None = None
) -> threading.Event | None:
    """Run the lease check every `every` seconds in this process (a worker), once per process.

    Beat runs it too, but through the `default` queue, where a backlog would delay it; this timer
    keeps resume within a minute of a crash whatever the queues hold. Returns the timer's stop event
    (None if a timer runs already).
    """
    global _timer_started
    with _timer_lock:
        if _timer_started:
            return None
        _timer_started = True
    interval = float(every or settings.JOB_LEASE_CHECK_SECONDS)
    stop = threading.Event()

    def loop() -> None:
        # At once, then every interval: a worker started after a crash finds the dead worker's jobs
        # as soon as their leases lapse.
        while True:
            try:
                (check or leases_check)()
            except DatabaseError as error:  # database restarting: next tick
                logger.warning("lease check failed: %s", error)
                connection.close()
            except Exception:
                logger.exception("lease check failed")
                connection.close()
            if stop.wait(interval):
                return

    threading.Thread(target=loop, name="job-lease-check", daemon=True).start()
    logger.info("job lease check every %.0f s in this worker", interval)
    return stop
