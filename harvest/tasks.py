"""Celery tasks of the harvest app (queue `maintenance`, by the `harvest.*` route)."""

from __future__ import annotations

from celery import shared_task

from booktrack.core.exceptions import Conflict
from harvest.covers import covers_harvest, covers_harvest_start
from harvest.models import HarvestTrigger


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
