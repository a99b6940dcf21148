"""Celery tasks of the enrichment app (queue `providers` by the `enrichment.*` route)."""

from __future__ import annotations

from celery import shared_task

from enrichment.batch import TASK_NAME, batch_enrichment_execute
from enrichment.csv_import import TASK_NAME as CSV_IMPORT_TASK_NAME
from enrichment.csv_import import csv_import_execute


@shared_task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_batch_enrichment(job_id: str) -> None:
    # Idempotent: finished books are persisted one by one, so a redelivery resumes where it stopped.
    batch_enrichment_execute(job_id=job_id)


@shared_task(name=CSV_IMPORT_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_csv_import(job_id: str) -> None:
    # Idempotent: each row's outcome is stored as its chunk finishes; a redelivery re-reads the stored
    # file and skips the finished rows.
    csv_import_execute(job_id=job_id)
