"""Celery tasks of the enrichment app (queue `providers` by the `enrichment.*` route)."""

from __future__ import annotations

from celery import shared_task

from enrichment.batch import TASK_NAME, batch_enrichment_execute


@shared_task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_batch_enrichment(job_id: str) -> None:
    # Idempotent: finished books are persisted one by one, so a redelivery resumes where it stopped.
    batch_enrichment_execute(job_id=job_id)
