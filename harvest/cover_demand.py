"""Which ISBNs the cover harvest tries, from real demand.

Two sources of demand, in this order:

1. Books people imported or enriched (`csv_import` and `batch_enrichment` jobs of the last
   `HARVEST_DEMAND_DAYS`): each ISBN counted once per job item naming it, most named first.
2. The catalog (`search.Edition`): every ISBN lookup, title search and import writes its editions
   there (search.upsert_catalog), so it holds what was searched; most recently fetched first.

An ISBN whose cover is stored, or that no source had a cover for within `HARVEST_MISSING_RETRY_DAYS`,
is skipped (counted, not tried).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from harvest.models import Cover, CoverStatus
from jobs.models import JobItem, Pipeline
from search.isbn import isbn_to_13
from search.models import Edition

DEMAND_PIPELINES = (Pipeline.CSV_IMPORT, Pipeline.BATCH_ENRICHMENT)
# Job items read at most per run (the newest): bounds the scan of a busy deployment.
MAX_JOB_ITEMS = 50_000


@dataclass(frozen=True)
class Demand:
    candidates: tuple[str, ...]  # ISBN-13s to try, in order
    skipped: int  # ISBNs in demand that need nothing (stored, or known missing)
    more: bool = False  # more ISBNs are in demand than `limit`


def isbns_in_result(result: Any) -> list[str]:
    """The ISBN-13s a job item's result names: the row's own `isbn13`/`isbn`, and the matched edition's
    (`edition.isbn`, or `enriched.edition.isbn` for batch enrichment). Pure."""
    if not isinstance(result, Mapping):
        return []
    values: list[Any] = [result.get("isbn13"), result.get("isbn")]
    for holder in (result, result.get("enriched")):
        if isinstance(holder, Mapping) and isinstance(holder.get("edition"), Mapping):
            values.append(holder["edition"].get("isbn"))
    found = (isbn_to_13(v) for v in values if isinstance(v, str | int) and v)
    return list(dict.fromkeys(i for i in found if i))


def ranked_job_isbns(results: Iterable[Any]) -> list[str]:
    """ISBN-13s of job results, most named first (ties: first seen first). Pure."""
    counts: Counter[str] = Counter()
    for result in results:
        counts.update(isbns_in_result(result))
    return [isbn for isbn, _ in counts.most_common()]


def covers_done(*, now: datetime) -> QuerySet[Cover]:
    """Covers that need no harvest: stored, or missing and asked recently."""
    retry_after = now - timedelta(days=settings.HARVEST_MISSING_RETRY_DAYS)
    return Cover.objects.filter(
        Q(status=CoverStatus.STORED) | Q(status=CoverStatus.MISSING, checked_at__gte=retry_after)
    )


def covers_demand(*, now: datetime, limit: int) -> Demand:
    """Up to `limit` ISBN-13s to try, and how many in demand were skipped."""
    done = covers_done(now=now).values("isbn13")
    since = now - timedelta(days=settings.HARVEST_DEMAND_DAYS)
    job_results = (
        JobItem.objects.filter(job__pipeline__in=DEMAND_PIPELINES, created_at__gte=since)
        .order_by("-created_at")
        .values_list("result", flat=True)[:MAX_JOB_ITEMS]
    )
    job_isbns = ranked_job_isbns(job_results.iterator(chunk_size=1000))
    done_among_jobs = set(covers_done(now=now).filter(isbn13__in=job_isbns).values_list("isbn13", flat=True))
    candidates = [i for i in job_isbns if i not in done_among_jobs]
    skipped = len(done_among_jobs)

    chosen = set(candidates)
    catalog = Edition.objects.exclude(isbn13__in=done).order_by("-fetched_at").values_list("isbn13", flat=True)
    for isbn13 in catalog[: limit + 1 + len(chosen)].iterator(chunk_size=1000):
        if len(candidates) > limit:
            break
        if isbn13 not in chosen:
            candidates.append(isbn13)
            chosen.add(isbn13)
    skipped += Edition.objects.filter(isbn13__in=done).exclude(isbn13__in=done_among_jobs).count()
    return Demand(candidates=tuple(candidates[:limit]), skipped=skipped, more=len(candidates) > limit)
