"""CSV import: a generated N-row Goodreads export, parsed (read, detected, validated) in rows/s.

`goodreads_csv(n)` builds a deterministic file in the current 23-column layout with the quirks of
real exports (Excel ="..." ISBNs, empty ISBNs, ASINs, quoted titles with commas, several shelves,
re-reads); `measure_parse(data)` parses it through `parse_import` and reports rows/s and the peak
memory the parse allocated beyond the input (flat in the file size: the reader streams).
Not wired into run.py yet: `python -m benchmarks.bench_csv 10000` prints the figures.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time
import tracemalloc
from dataclasses import dataclass

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


def run(ctx=None, sizes: tuple[int, ...] = (10_000,)) -> list[str]:
    lines = [
        "## CSV import: parse",
        "",
        "A generated Goodreads export (23 columns) read, detected and validated by `parse_import`, in process.",
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
            f"| {figures.rows:,} | {len(data) / 1e6:.1f} | {figures.rows_per_s:,.0f} "
            f"| {figures.peak_kib:,.0f} | {figures.problems} |"
        )
    return lines


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booktrack.settings.test")
    django.setup()
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or (10_000,)
    print("\n".join(run(sizes=sizes)))
