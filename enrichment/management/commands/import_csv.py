"""`manage.py import_csv PATH [--dry-run]`: the CSV import of `POST /api/import/csv-gemini`, from a shell.

The same checks, job and pipeline as the route (the job's results are then served at
`/v1/csv/results/<jobId>`), run in this process with a progress bar. `--dry-run` only reads the file:
format, column mapping, rows and problems; no job, no lookups.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from booktrack.core.exceptions import DomainError
from enrichment.csv_import import csv_import_execute, csv_import_preview, csv_import_start
from jobs.models import Job

BAR_WIDTH = 30


class ProgressBar:
    """A carriage-return bar on a terminal; one line per step elsewhere (logs, CI)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last = ""

    def __call__(self, fraction: float, status: str) -> None:
        filled = int(round(BAR_WIDTH * max(0.0, min(1.0, fraction))))
        line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction * 100:5.1f}%  {status}"
        if line == self.last:
            return
        self.last = line
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.last:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Import a library export (Goodreads, StoryGraph, LibraryThing, ... CSV) as the upload route does."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file")
        parser.add_argument("--dry-run", action="store_true", help="read and check the file only: no job, no lookups")

    def handle(self, *args, **options):
        path = Path(options["path"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror or error}") from error
        try:
            if options["dry_run"]:
                self._dry_run(data, path.name)
            else:
                self._import(data, path.name)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error

    def _dry_run(self, data: bytes, name: str) -> None:
        preview = csv_import_preview(data=data, filename=name)
        self.stdout.write(f"format: {preview.format} ({preview.encoding}, delimiter {preview.delimiter!r})")
        self.stdout.write(
            f"rows: {preview.row_count:,}, problems: {len(preview.problems)}, blank lines: {preview.blank_lines}"
        )
        for column, field in preview.mapping.items():
            self.stdout.write(f"  {column} -> {field}")
        for problem in preview.problems[:20]:
            self.stdout.write(f"  row {problem.row}: {problem.error}")

    def _import(self, data: bytes, name: str) -> None:
        job, _ = csv_import_start(job_id=None, data=data, filename=name, enqueue=False)
        self.stdout.write(f"job {job.id} ({job.total_count:,} rows)")
        bar = ProgressBar(sys.stderr)
        try:
            csv_import_execute(job_id=str(job.id), observe=bar)
        finally:
            bar.close()
        job.refresh_from_db()
        self._summary(job)

    def _summary(self, job: Job) -> None:
        results = job.results if isinstance(job.results, dict) else {}
        if job.status != "complete":
            raise CommandError(f"job {job.id} ended {job.status}: {job.error_message or 'no results'}")
        outcomes = results.get("outcomes") or {}
        cached = " (from the content cache)" if results.get("cached") else ""
        self.stdout.write(f"done{cached}: {results.get('successRate')} rows imported as books")
        for label, key in (
            ("matched by ISBN", "matchedByIsbn"),
            ("matched by title + author", "matchedByTitleAuthor"),
            ("needs review", "needsReview"),
            ("not found", "notFound"),
            ("lookup failed", "lookupFailed"),
            ("invalid rows", "invalid"),
        ):
            self.stdout.write(f"  {label}: {outcomes.get(key, 0)}")
        self.stdout.write(f"  duplicates in the file: {results.get('duplicates', 0)}")
        self.stdout.write(f"results: /v1/csv/results/{job.id}")
