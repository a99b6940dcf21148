"""Celery tasks of the harvest app (queue `maintenance`, by the `harvest.*` route).

Celery tasks of the harvest app. `harvest.*` goes to the maintenance queue (settings), except the
warm-ups, which call the book providers and so run on `providers`, inside the providers' budgets.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from booktrack.core.exceptions import Conflict, InvalidQuery
from harvest.archival import archive_run
from harvest.covers import covers_harvest, covers_harvest_start
from harvest.models import HarvestTrigger
from harvest.warming import author_warm, dead_letter_store, warming_follow, warming_record_warmed


@shared_task(name="harvest.run_cover_harvest", acks_late=True, ignore_result=True)
def run_cover_harvest(run_id: str) -> dict:
    """Run one harvest run. Idempotent: a finished run is left alone, a stored ISBN skipped, and a
    run another live worker holds is not run twice."""
    return covers_harvest(run_id=run_id).to_wire()


@shared_task(name="harvest.scheduled_cover_harvest", acks_late=True, ignore_result=True)
def scheduled_cover_harvest() -> str | None:
    """celery-beat, 03:00 UTC: start a run (none when one is already under way)."""
    try:
        return str(covers_harvest_start(trigger=HarvestTrigger.SCHEDULE).id)
    except Conflict:
        return None


class WarmAuthorTask(Task):
    """After the last retry (or an error not worth retrying) the warm-up becomes a dead letter."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        dead_letter_store(
            task_id=task_id,
            author=str(kwargs.get("author", args[0] if args else "")),
            depth=int(kwargs.get("depth", 1)),
            max_depth=int(kwargs.get("max_depth", 1)),
            run_id=kwargs.get("run_id"),
            error=f"{type(exc).__name__}: {exc}",
            attempts=int(kwargs.get("prior_attempts", 0)) + self.request.retries + 1,
        )


@shared_task(
    bind=True,
    base=WarmAuthorTask,
    name="harvest.warm_author",
    queue="providers",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    dont_autoretry_for=(InvalidQuery,),  # a name the search services refuse never becomes valid
    max_retries=settings.WARMING_MAX_RETRIES,
    retry_backoff=settings.WARMING_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=settings.WARMING_RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=False,  # 300, 600, 900 s...: each retry comes after a degraded answer's 5-minute TTL
)
def warm_author(
    self, author: str, depth: int = 1, max_depth: int = 1, run_id: str | None = None, prior_attempts: int = 0
) -> int:
    """Warm one author's search cache entries, then queue its co-authors while depth < max_depth.
    Idempotent: warming again rewrites the same entries; co-authors are queued once per run."""
    warmed = author_warm(name=author)
    warming_record_warmed(run_id=run_id)
    return warming_follow(run_id=run_id, coauthors=warmed.coauthors, depth=depth, max_depth=max_depth)


@shared_task(name="harvest.archive_cold_data", acks_late=True, ignore_result=True)
def archive_cold_data() -> dict:
    """Daily at 02:00 UTC (booktrack.core.schedules): finished jobs and cold catalog works to storage.
    Idempotent: what was archived is no longer due; an interrupted run is finished by the next."""
    return archive_run().to_wire()
