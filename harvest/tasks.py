"""Celery tasks of the harvest app (queue `maintenance` by the `harvest.*` route; the alert check `default`)."""

from __future__ import annotations

from celery import shared_task

from harvest.alerts import alerts_check


@shared_task(name="harvest.check_alerts", acks_late=True, ignore_result=True)
def check_alerts() -> dict[str, list[str]]:
    """One alert check (celery-beat every 15 minutes). Idempotent: the dedupe window absorbs a rerun."""
    outcome = alerts_check()
    return {
        "fired": [alert.key for alert in outcome.fired],
        "sent": [alert.key for alert in outcome.sent],
        "suppressed": [alert.key for alert in outcome.suppressed],
    }
