"""`manage.py archive [--older-than-hours N] [--catalog-older-than-days N] [--dry-run]`, and
`--restore job:<id>|catalog:<work id>|isbn:<isbn13>` / `--show ...` to read an archived object back."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from booktrack.core.exceptions import DomainError
from harvest.archival import archive_find, archive_read, archive_restore, archive_run


class Command(BaseCommand):
    help = "Move finished jobs past their live window and cold catalog works to object storage (or read one back)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than-hours", type=int, default=None, help="jobs ended this long ago (default: setting)"
        )
        parser.add_argument(
            "--catalog-older-than-days", type=int, default=None, help="catalog works not fetched for this long"
        )
        parser.add_argument("--dry-run", action="store_true", help="count what is due, move nothing")
        parser.add_argument(
            "--show", metavar="REF", help="print an archived object's JSON (job:<id>, catalog:<id>, isbn:<isbn13>)"
        )
        parser.add_argument("--restore", metavar="REF", help="put an archived object's rows back into the database")

    def handle(self, *args, older_than_hours, catalog_older_than_days, dry_run, show, restore, **options) -> None:
        try:
            if show or restore:
                obj = archive_find(ref=show or restore)
                if show:
                    self.stdout.write(json.dumps(archive_read(obj), ensure_ascii=False, indent=2))
                else:
                    self.stdout.write(
                        f"restored {archive_restore(obj=obj)} rows of {obj.kind} {obj.key} from {obj.path}"
                    )
                return
            report = archive_run(
                older_than_hours=older_than_hours, catalog_older_than_days=catalog_older_than_days, dry_run=dry_run
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        verb = "due" if report.dry_run else "archived"
        self.stdout.write(
            f"{verb}: {report.jobs} jobs ({report.events} events), {report.catalog_works} catalog works "
            f"({report.editions} editions); {report.bytes_written} bytes written"
        )
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} objects failed (still in the database): {', '.join(report.failed)}"
            )
