"""Periodic work, declared in code and installed idempotently into django-celery-beat (UTC).

`install_schedules()` runs after every `migrate` (post_migrate) and can be run by hand with
`manage.py install_schedules`. It creates or updates each declared entry by name and disables
entries it once created that are no longer declared; it never touches entries an operator added.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models.signals import post_migrate
from django.dispatch import receiver

MANAGED_PREFIX = "booktrack: "


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str = "0"
    hour: str = "*"
    queue: str = "maintenance"


SCHEDULES: tuple[Schedule, ...] = (
    Schedule("job cleanup (hourly)", "jobs.cleanup_expired_jobs", minute="5", hour="*", queue="default"),
    Schedule("stalled job watchdog (every 10 min)", "jobs.requeue_stalled_jobs", minute="*/10", queue="default"),
    Schedule("cover harvest (03:00 UTC)", "harvest.scheduled_cover_harvest", minute="0", hour="3"),
    Schedule("archival (daily 02:00 UTC)", "harvest.archive_cold_data", minute="0", hour="2"),
    Schedule("scan photo retention (daily)", "scanning.purge_scan_photos", minute="30", hour="4"),
)


def install_schedules() -> list[str]:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    installed = []
    for item in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=item.minute,
            hour=item.hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=MANAGED_PREFIX + item.name,
            defaults={"task": item.task, "crontab": crontab, "queue": item.queue, "enabled": True},
        )
        installed.append(item.name)
    declared = {MANAGED_PREFIX + s.name for s in SCHEDULES}
    PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX).exclude(name__in=declared).update(enabled=False)
    return installed


@receiver(post_migrate)
def _install_after_migrate(sender, **kwargs) -> None:
    if getattr(sender, "name", None) != "django_celery_beat":
        return
    install_schedules()
