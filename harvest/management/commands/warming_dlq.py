"""`manage.py warming_dlq [--requeue] [--all | --id N ...]`: list or requeue cache-warming dead letters."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from harvest.warming import dlq_list, dlq_requeue


class Command(BaseCommand):
    help = "List the cache-warming dead letters, or requeue them (--requeue with --all or --id)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--requeue", action="store_true", help="send the chosen letters to their task again")
        parser.add_argument("--all", action="store_true", help="every dead letter")
        parser.add_argument("--id", type=int, action="append", dest="ids", default=[], help="a dead-letter id")
        parser.add_argument("--limit", type=int, default=100, help="letters listed (default 100)")

    def handle(self, *args, requeue: bool, all: bool, ids: list[int], limit: int, **options) -> None:
        if requeue:
            if not all and not ids:
                raise CommandError("--requeue needs --all or at least one --id.")
            if all and ids:
                raise CommandError("Give --all or --id, not both.")
            done = dlq_requeue(ids=ids, everything=all)
            self.stdout.write(f"requeued {len(done.requeued)}")
            if done.not_found:
                self.stderr.write(f"not found: {', '.join(str(i) for i in done.not_found)}")
            return
        queue = dlq_list(limit=limit)
        self.stdout.write(f"queue {queue.queue}: {queue.depth} dead letter(s)")
        for item in queue.items:
            if ids and item.id not in ids:
                continue
            self.stdout.write(
                f"{item.id}\t{item.failed_at:%Y-%m-%d %H:%M:%S}\t{item.attempts} attempts\t{item.author}\t{item.error}"
            )
