"""Celery tasks of the scanning app (queue `ai` by the `scanning.*` route)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from scanning.services import TASK_NAME, scan_execute
from scanning.storage import photos_purge

PURGE_TASK_NAME = "scanning.purge_scan_photos"


@shared_task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_scan(job_id: str) -> None:
    # Idempotent: each finished photo is stored as a job item at once, so a redelivery resumes with
    # the next photo and never sends a finished one to the model again.
    scan_execute(job_id=job_id)


@shared_task(name=PURGE_TASK_NAME, acks_late=True, ignore_result=True)
def purge_scan_photos() -> int:
    return photos_purge(older_than_days=int(settings.SCAN_PHOTO_RETENTION_DAYS))
