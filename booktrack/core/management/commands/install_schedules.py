from django.core.management.base import BaseCommand

from booktrack.core.schedules import install_schedules


class Command(BaseCommand):
    help = "Install the periodic schedules declared in booktrack/core/schedules.py (idempotent)."

    def handle(self, *args, **options) -> None:
        for name in install_schedules():
            self.stdout.write(f"installed: {name}")
