"""`python manage.py check_alerts [--dry-run]`: one alert check, printing what fired and what was sent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from harvest.alerts import alerts_check, alerts_observe


class Command(BaseCommand):
    help = "Run one alert check now (the same as the 15-minute schedule) and print what fired."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="evaluate and print, send nothing")
        parser.add_argument("--period", choices=["15m", "1h", "24h", "7d"], help="metrics window (ALERT_PERIOD)")

    def handle(self, *args, dry_run: bool = False, period: str | None = None, **options) -> None:
        observed = alerts_observe(period=period)
        outcome = alerts_check(send=not dry_run, observed=observed)
        queues = ", ".join(f"{q.name}={q.depth}/{'?' if q.consumers is None else q.consumers}" for q in observed.queues)
        self.stdout.write(
            f"checked {outcome.checked_at:%Y-%m-%d %H:%M:%S} UTC over {observed.period}: "
            f"{observed.requests} requests, {observed.errors_5xx} 5xx, p99 {observed.p99_latency_ms} ms; "
            f"dead letters {observed.dead_letters if observed.dead_letters is not None else 'n/a'}; "
            f"queues (depth/consumers) {queues or 'n/a (embedded)'}"
        )
        if not outcome.fired:
            self.stdout.write(self.style.SUCCESS("no alert fired"))
            return
        sent = {alert.key for alert in outcome.sent}
        held = {alert.key for alert in outcome.suppressed}
        for alert in outcome.fired:
            if dry_run:
                state = "dry run, not sent"
            elif alert.key in sent:
                state = "sent via " + ", ".join(outcome.channels)
            elif alert.key in held:
                state = "already sent within the dedupe window"
            else:
                state = "NOT sent: " + ", ".join(outcome.failed_channels) + " failed; retried next check"
            self.stdout.write(self.style.WARNING(f"FIRED [{alert.severity}] {alert.key}: {alert.summary} ({state})"))
