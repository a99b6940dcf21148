"""CSV import (issue 10): a generated N-row Goodreads export, parsed, stored, and enriched.

`goodreads_csv(n)` builds a deterministic file in the current 23-column layout with the quirks of
real exports (Excel ="..." ISBNs, empty ISBNs, ASINs, quoted titles with commas, several shelves,
re-reads); 1 row in 10 has no ISBN (an ASIN or nothing), so it is matched by title + author.

The `make bench` section (`run(ctx)`, `python -m benchmarks.run --only bench_csv`):

1. parse: `parse_import` alone, rows/s and the peak memory the parse allocates (flat in the file size:
   the reader streams), at 10,000 and 40,000 rows;
2. parse + validate + store: the whole `csv_import` pipeline on PostgreSQL with the real reporter
   (every row's outcome stored as a JobItem, progress events, the results), lookups answering "not
   found" at once, so the figure is the job's own cost;
3. enrichment (`--csv-enrich`, minutes: not in the default run): the pipeline with the real search
   services against the local fakes, OpenLibrary held to its 3 req/s budget (and ISBNdb to 1 req/s)
   with the share a background worker gets, as a Celery worker runs it.

`python -m benchmarks.bench_csv 10000` prints the parse figures alone (no database).
"""

from __future__ import annotations

import csv
import io
import os
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass

from benchmarks import harness

PARSE_SIZES = (10_000, 40_000)
STORE_ROWS = 10_000
ENRICH_ROWS = 10_000
ENRICH_GOAL_S = 300

HEADER = (
    "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Publisher,Binding,"
    "Number of Pages,Year Published,Original Publication Year,Date Read,Date Added,Bookshelves,"
    "Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies"
).split(",")
FIRST = ("Ana", "Tom", "Lena", "Kofi", "Mei", "Olga", "Rui", "Sara", "Ivan", "Zoe")
LAST = ("Moreau", "Okafor", "Tanaka", "Silva", "Novak", "Haddad", "Berg", "Lindqvist", "Costa", "Reyes")
WORDS = ("river", "night", "glass", "garden", "winter", "letters", "empire", "salt", "quiet", "orchard")
BINDINGS = ("Paperback", "Hardcover", "Kindle Edition", "Mass Market Paperback", "Audiobook")
SHELVES = ("to-read", "currently-reading", "read", "did-not-finish")


def _isbn13(rng: random.Random) -> str:
    body = "978" + "".join(rng.choice("0123456789") for _ in range(9))
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _isbn10(isbn13: str) -> str:
    body = isbn13[3:12]
    check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def goodreads_csv(rows: int, *, seed: int = 10) -> bytes:
    """A Goodreads export of `rows` books (UTF-8, LF), deterministic for a seed."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for n in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))).title()
        if n % 7 == 0:
            title += f" (The {rng.choice(WORDS).title()} Cycle, #{n % 5 + 1})"
        isbn13 = _isbn13(rng)
        kind = n % 20
        isbn_cell, isbn13_cell = f'="{_isbn10(isbn13)}"', f'="{isbn13}"'
        if kind == 0:  # a Kindle edition: an ASIN, no ISBN-13
            isbn_cell, isbn13_cell = f'="B0{rng.randrange(10**8):08d}"', '=""'
        elif kind == 1:  # no ISBN at all
            isbn_cell = isbn13_cell = '=""'
        shelf = rng.choice(SHELVES)
        read = shelf == "read"
        year = rng.randint(1950, 2025)
        writer.writerow(
            [
                100000 + n,
                title,
                f"{first} {last}",
                f"{last}, {first}",
                "" if n % 3 else f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                isbn_cell,
                isbn13_cell,
                rng.randint(1, 5) if read else 0,
                f"{rng.choice(LAST)}, {rng.choice(WORDS).title()} and Sons",
                rng.choice(BINDINGS),
                rng.randint(0, 900),
                year,
                year - rng.randint(0, 40),
                f"{rng.randint(2015, 2025)}/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}" if read else "",
                f"{rng.randint(2015, 2025)}/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}",
                "favorites, book-club" if n % 11 == 0 else "",
                "",
                shelf,
                "",
                "",
                "",
                rng.randint(1, 3) if read else 0,
                0,
            ]
        )
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class ParseFigures:
    rows: int
    books: int
    problems: int
    seconds: float
    rows_per_s: float
    peak_kib: float  # allocated by the parse, the input bytes excluded


def measure_parse(data: bytes) -> ParseFigures:
    from enrichment.importers.dto import ImportRow
    from enrichment.importers.service import parse_import

    started = time.perf_counter()
    books = problems = 0
    for item in parse_import(data, filename="goodreads_library_export.csv"):
        if isinstance(item, ImportRow):
            books += 1
        else:
            problems += 1
    seconds = time.perf_counter() - started
    tracemalloc.start()
    for _ in parse_import(data, filename="goodreads_library_export.csv"):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows = books + problems
    return ParseFigures(rows, books, problems, seconds, rows / seconds if seconds else 0.0, peak / 1024)


def _parse_lines(ctx, sizes: tuple[int, ...]) -> list[str]:
    lines = [
        "## CSV import",
        "",
        "A generated Goodreads export (23 columns; 1 row in 10 without an ISBN). Goals (issue 10): at least",
        "2,000 rows/s parsed, validated and stored, memory flat in the file size; all 10,000 rows enriched",
        "within 5 minutes with OpenLibrary held to 3 req/s.",
        "",
        "Parse alone (`parse_import`, in process):",
        "",
        "| rows | MB | rows/s | peak parse memory KiB | problems |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        data = goodreads_csv(size)
        figures = measure_parse(data)
        if ctx is not None:
            ctx.figures[f"csv_parse_rows_per_s_{size}"] = figures.rows_per_s
        lines.append(
            f"| {figures.rows:,} | {len(data) / 1e6:.1f} | {figures.rows_per_s:,.0f} | {figures.peak_kib:,.0f} "
            f"| {figures.problems} |"
        )
    return lines


class NullLookup:
    """Every upstream lookup answers "not found" at once: the pipeline's own cost, without any upstream
    (the catalog query of the title rows is the job's own cost, so it runs)."""

    def by_isbns(self, isbns13):
        return dict.fromkeys(isbns13)

    def by_title(self, *, title, author):
        return ()

    def by_title_keys(self, title_keys):
        from enrichment.csv_import import SearchLookup

        return SearchLookup().by_title_keys(title_keys)

    def to_catalog(self, hits):
        return None


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pipeline(data: bytes, name: str, lookup=None) -> tuple[float, dict, int]:
    """(seconds, results, JobItems stored) of one import run in this process, as the worker runs it."""
    from django.db import connection

    from enrichment.csv_import import csv_import_execute, csv_import_start
    from jobs.models import Job, JobItem
    from search.budgets import background_priority

    job, _ = csv_import_start(job_id=None, data=data, filename=name, enqueue=False)
    started = time.perf_counter()
    with background_priority():
        csv_import_execute(job_id=str(job.id), lookup=lookup)
    seconds = time.perf_counter() - started
    job = Job.objects.get(pk=job.id)
    stored = JobItem.objects.filter(job=job).count()
    connection.close()
    return seconds, job.results or {}, stored


def _store_lines(ctx) -> list[str]:
    data = goodreads_csv(STORE_ROWS, seed=random.randrange(10**9))  # a new file: no content cache hit
    rss_before = _rss_mib()
    seconds, results, stored = _pipeline(data, "goodreads_library_export.csv", lookup=NullLookup())
    rate = STORE_ROWS / seconds
    ctx.figures["csv_store_rows_per_s"] = rate
    accounted = len(results.get("books", [])) + len(results.get("errors", []))
    return [
        "",
        "Parse + validate + store (the `csv_import` pipeline on PostgreSQL, real reporter; lookups answer at once):",
        "",
        "| rows | seconds | rows/s | JobItems stored | rows in results | max RSS growth MiB |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {STORE_ROWS:,} | {seconds:.1f} | {rate:,.0f} | {stored:,} | {accounted:,} "
        f"| {_rss_mib() - rss_before:,.0f} |",
    ]


class TimedLookup:
    """The real lookup, with the seconds spent in bulk ISBN lookups and in title + author searches."""

    def __init__(self) -> None:
        from enrichment.csv_import import SearchLookup

        self.inner = SearchLookup()
        self.isbn_s = self.title_s = self.catalog_s = 0.0
        self.started = time.perf_counter()
        self.first_title_at: float | None = None  # the ISBN rows are done by then (they go first)
        self.title_batches = 0

    def by_isbns(self, isbns13):
        started = time.perf_counter()
        try:
            return self.inner.by_isbns(isbns13)
        finally:
            self.isbn_s += time.perf_counter() - started

    def by_title(self, *, title, author):
        started = time.perf_counter()
        if self.first_title_at is None:
            self.first_title_at = started - self.started
        try:
            return self.inner.by_title(title=title, author=author)
        finally:
            self.title_s += time.perf_counter() - started

    def by_titles(self, pairs):
        started = time.perf_counter()
        if self.first_title_at is None:
            self.first_title_at = started - self.started
        self.title_batches += 1
        try:
            return self.inner.by_titles(pairs)
        finally:
            self.title_s += time.perf_counter() - started

    def by_title_keys(self, title_keys):
        started = time.perf_counter()
        try:
            return self.inner.by_title_keys(title_keys)
        finally:
            self.catalog_s += time.perf_counter() - started

    def to_catalog(self, hits):
        self.inner.to_catalog(hits)


def _enrich_lines(ctx) -> list[str]:
    from django.test import override_settings

    from enrichment.csv_import import TITLE_BATCH
    from search.budgets import budget_reset_local

    # The fakes harness lifts the budgets (they would pace the fakes); this scenario is about them.
    budgets = override_settings(SEARCH_OPENLIBRARY_RPS=3, SEARCH_ISBNDB_RPS=1)
    budgets.enable()
    budget_reset_local()
    try:
        data = goodreads_csv(ENRICH_ROWS, seed=random.randrange(10**9))
        calls_before = ctx.fake.counts()
        lookup = TimedLookup()
        lookup.started = time.perf_counter()
        seconds, results, stored = _pipeline(data, "goodreads_library_export.csv", lookup=lookup)
        calls_after = ctx.fake.counts()
    finally:
        budgets.disable()

    def delta(prefix: str) -> int:
        return sum(n - calls_before.get(k, 0) for k, n in calls_after.items() if k.startswith(prefix))

    outcomes = results.get("outcomes", {})
    titled = [b for b in results.get("books", []) if (b.get("match") or {}).get("method") == "title_author"]
    known = sum(1 for b in titled if (b["match"].get("evidence") or {}).get("source") == "catalog")
    ol_bulk, ol_search = delta("GET /openlibrary/api/books"), delta("GET /openlibrary/search.json")
    ctx.figures["csv_enrich_seconds"] = seconds
    return [
        "",
        f"Enrichment (`--csv-enrich`): {ENRICH_ROWS:,} rows through the search services against the fakes, "
        "OpenLibrary at 3 req/s and ISBNdb at 1 req/s, with a background worker's share of each budget:",
        "",
        "| rows | seconds | goal s | ISBN rows done at s | in bulk ISBN lookups s | in title searches s "
        "| OpenLibrary bulk calls | OpenLibrary searches | ISBNdb calls | Google calls | not found "
        "| title + author rows | of them matched without a search |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {ENRICH_ROWS:,} | {seconds:,.0f} | {ENRICH_GOAL_S} | {lookup.first_title_at or seconds:,.0f} "
        f"| {lookup.isbn_s:,.0f} | {lookup.title_s:,.0f} "
        f"| {ol_bulk} | {ol_search} | {delta('POST /isbndb')} | {delta('GET /google')} "
        f"| {outcomes.get('notFound', 0):,} "
        f"| {len(titled):,} | {known:,} |",
        "",
        f"Title + author rows are matched against the books already known first (this import's ISBN "
        f"matches, the catalog: {lookup.catalog_s:,.1f} s of queries), identical rows once; only the rest is "
        f"searched upstream, up to {TITLE_BATCH} rows in one OpenLibrary search at a background worker's share "
        f"of 3 req/s (1.8 calls a second): here {ol_search:,} searches ({lookup.title_batches:,} of them "
        f"batched) for {len(titled) - known:,} rows (the generated titles are random words, unknown to the "
        "catalog and the fakes, so every batch answer is complete and no row is searched alone), the time "
        "above the ISBN rows'.",
    ]


def run(ctx=None, sizes: tuple[int, ...] = PARSE_SIZES) -> list[str]:
    lines = _parse_lines(ctx, sizes)
    if ctx is None:
        return lines
    from benchmarks.bench_jobs import _django_setup

    with harness.fakes_env(ctx.env) as (fake, env):
        ctx.fake = fake
        _django_setup(env)
        lines += _store_lines(ctx)
        if getattr(ctx, "csv_enrich", False) or os.environ.get("BENCH_CSV_ENRICH") == "1":
            lines += _enrich_lines(ctx)
        else:
            lines += ["", "Enrichment of 10,000 rows: `python -m benchmarks.run --only bench_csv --csv-enrich`."]
    return harness.section(lines)


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booktrack.settings.test")
    django.setup()
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or (10_000,)
    print("\n".join(run(sizes=sizes)))
