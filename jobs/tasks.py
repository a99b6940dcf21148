"""Celery tasks of the jobs app (queue `default` by the `jobs.*` route)."""

from __future__ import annotations

from celery import shared_task

from jobs.services import jobs_cleanup_expired


@shared_task(name="jobs.cleanup_expired_jobs", acks_late=True)
def cleanup_expired_jobs() -> int:
    return jobs_cleanup_expired()
