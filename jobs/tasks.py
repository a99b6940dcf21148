"""Celery tasks of the jobs app (queue `default` by the `jobs.*` route)."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from jobs.leases import lease_check_timer_start, leases_check
from jobs.services import jobs_cleanup_expired, jobs_requeue_stalled


@shared_task(name="jobs.cleanup_expired_jobs", acks_late=True)
def cleanup_expired_jobs() -> int:
    return jobs_cleanup_expired()


@shared_task(name="jobs.requeue_stalled_jobs", acks_late=True)
def requeue_stalled_jobs(stalled_seconds: int | None = None, as_of: str | None = None) -> dict[str, list[str]]:
    """Send jobs no worker is running to their task again: beat, every 10 minutes; embedded mode once
    at start, for the jobs last written before it started (its in-memory broker died with the
    previous process; a job created since is in the new broker already)."""
    seconds = settings.JOB_STALL_SECONDS if stalled_seconds is None else stalled_seconds
    now = datetime.fromisoformat(as_of) if as_of else None
    outcome = jobs_requeue_stalled(stalled_for=timedelta(seconds=seconds), now=now)
    return {"requeued": outcome.requeued, "failed": outcome.failed}


@shared_task(name="jobs.check_job_leases", acks_late=True, ignore_result=True)
def check_job_leases() -> dict[str, list[str]]:
    """Send jobs whose lease (or dispatch deadline) lapsed to their task again (jobs.leases): celery-beat
    every 15 s, and a timer in every worker (`worker_ready` below)."""
    outcome = leases_check()
    return {"resumed": outcome.resumed, "dispatched": outcome.dispatched, "failed": outcome.failed}


@worker_ready.connect
def _lease_check_in_worker(**_: object) -> None:
    if settings.JOB_LEASE_CHECK_SECONDS > 0:
        lease_check_timer_start()
