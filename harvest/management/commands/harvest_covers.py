"""`manage.py harvest_covers [--limit N]`: one cover harvest run in this process, with a progress bar.

The same run as `POST /api/harvest-covers` and the 03:00 UTC schedule (a `HarvestRun` row with its
figures; the same daily budget), run here instead of on a worker.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from booktrack.core.exceptions import DomainError
from harvest.covers import HarvestProgress, covers_harvest, covers_harvest_create, run_limit_parse
from harvest.models import HarvestTrigger


class Command(BaseCommand):
    help = "Harvest the covers of the ISBNs in demand into object storage (one run, in this process)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="most ISBNs to try (default HARVEST_RUN_LIMIT)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, cron)")

    def handle(self, *args, **options):
        try:
            run = covers_harvest_create(trigger=HarvestTrigger.COMMAND, limit=run_limit_parse(options["limit"]))
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"harvest run {run.id}")
        bar = None
        if not options["no_progress"]:
            bar = tqdm(total=0, unit="isbn", file=self.stderr._out, dynamic_ncols=True, desc="covers")

        def progress(step: HarvestProgress) -> None:
            if bar is None:
                return
            if bar.total != step.total:
                bar.total = step.total
                bar.refresh()
            bar.set_postfix_str(f"{step.isbn13} {step.outcome}, {step.budget_used} calls", refresh=False)
            bar.update(1)

        try:
            state = covers_harvest(run_id=str(run.id), progress=progress)
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(
            f"{state.status}{f' ({state.stop_reason})' if state.stop_reason else ''}: "
            f"tried {state.tried}, stored {state.stored}, skipped {state.skipped}, failed {state.failed}, "
            f"missing {state.missing}, {state.bytes_stored} bytes, {state.budget_used} upstream calls "
            f"(daily budget {state.budget_limit})"
        )
        for name, figures in state.sources.items():
            self.stdout.write(
                f"  {name}: tried {figures['tried']}, stored {figures['stored']}, "
                f"not found {figures['notFound']}, failed {figures['failed']}"
            )
