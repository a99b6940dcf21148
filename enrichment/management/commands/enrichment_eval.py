"""`manage.py enrichment_eval [--live] [--no-write]`: precision of genre and author enrichment."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from enrichment.eval.runner import author_eval, genre_eval, report_markdown, write_report_section


class Command(BaseCommand):
    help = "Evaluate genre normalisation and Wikidata author facts; write docs/enrichment-eval.md."

    def add_arguments(self, parser):
        parser.add_argument("--live", action="store_true", help="query WIKIDATA_BASE_URL for authors")
        parser.add_argument("--no-write", action="store_true", help="print only, leave the doc alone")
        parser.add_argument("--doc", default=str(Path(settings.BASE_DIR) / "docs" / "enrichment-eval.md"))

    def handle(self, *args, **options):
        genres = genre_eval()
        authors = author_eval(live=options["live"])
        command = "python manage.py enrichment_eval" + (" --live" if options["live"] else "")
        section = report_markdown(genres, authors, command=command)
        self.stdout.write(section)
        if not options["no_write"]:
            write_report_section(Path(options["doc"]), section)
            self.stdout.write(f"wrote {options['doc']}")
