"""Celery tasks of the enrichment app (queue `providers` by the `enrichment.*` route).

Each holds the job's lease while it runs (jobs.leases.job_run: heartbeat, fencing); a database that
goes away mid-job (restart, failover) is retried with back-off, keeping the finished items.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from enrichment.batch import TASK_NAME, batch_enrichment_execute
from enrichment.csv_import import TASK_NAME as CSV_IMPORT_TASK_NAME
from enrichment.csv_import import csv_import_execute
from jobs.leases import job_run


def _db_retry(task: Task, job_id: str, error: Exception) -> Exception:
    """Retry with back-off (2, 4, 8 ... s, at most 60), taking over the interrupted run's lease."""
    close_old_connections()
    return task.retry(
        exc=error,
        countdown=min(60, 2 ** (task.request.retries + 1)),
        max_retries=settings.JOB_DB_RETRIES,
        kwargs={"job_id": job_id, "takeover": getattr(error, "job_run_number", None)},
    )


@shared_task(bind=True, name=TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_batch_enrichment(self: Task, job_id: str, takeover: int | None = None) -> None:
    # Idempotent: finished books are persisted one by one, so a redelivery resumes where it stopped.
    try:
        job_run(job_id=job_id, takeover=takeover, execute=lambda run: batch_enrichment_execute(job_id=job_id, run=run))
    except (OperationalError, InterfaceError) as error:
        raise _db_retry(self, job_id, error) from error


@shared_task(bind=True, name=CSV_IMPORT_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_csv_import(self: Task, job_id: str, takeover: int | None = None) -> None:
    # Idempotent: each row's outcome is stored as its chunk finishes; a redelivery re-reads the stored
    # file and skips the finished rows.
    try:
        job_run(job_id=job_id, takeover=takeover, execute=lambda run: csv_import_execute(job_id=job_id, run=run))
    except (OperationalError, InterfaceError) as error:
        raise _db_retry(self, job_id, error) from error
