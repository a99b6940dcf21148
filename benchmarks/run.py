"""`make bench`: run every benchmark against real server processes; write docs/benchmarks.md.

Figures are measured side by side in one run on one machine, so compare ratios, not absolutes: the
development machines are shared (2 cores) and the load generator runs beside the server.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime

from benchmarks import harness

# Each module exposes `run(ctx) -> list[str]` (Markdown lines of its section).
SCENARIOS = (
    "benchmarks.bench_floor",
    "benchmarks.bench_search",
    "benchmarks.bench_tricks",
    "benchmarks.bench_jobs",
    "benchmarks.bench_csv",
    "benchmarks.bench_scan_intake",
    "benchmarks.bench_scan_ocr",
)


class Context:
    """What scenarios share: the database URL, the service env and a place for cross-section figures."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.env = harness.service_env(database_url)
        self.figures: dict[str, float] = {}
        self.csv_enrich = False


def _split_sections(lines: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Markdown lines -> (the lines before the first `## ` heading, [(heading, its lines)])."""
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("## "):
            sections.append((line, [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return preamble, sections


def splice_sections(existing: list[str], fresh: list[str]) -> list[str]:
    """`existing` (a whole benchmarks.md) with each of `fresh`'s sections put in place of the section of
    the same heading, or appended; its title and the old run line are dropped (the caller writes them)."""
    preamble, old = _split_sections(existing)
    _, new = _split_sections(fresh)
    replacements = dict(new)
    out = [line for line in preamble if not line.startswith(("# ", "Sections rewritten by"))]
    seen = set()
    for heading, lines in old:
        out.extend(replacements.get(heading, lines))
        seen.add(heading)
    for heading, lines in new:
        if heading not in seen:
            out.extend(["", *lines] if out and out[-1] else lines)
    while out and not out[0].strip():
        out.pop(0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="comma list of scenario modules to run")
    parser.add_argument("--out", default=str(harness.ROOT / "docs" / "benchmarks.md"))
    parser.add_argument(
        "--csv-enrich", action="store_true", help="also enrich 10,000 CSV rows at the real OpenLibrary budget (minutes)"
    )
    args = parser.parse_args()
    scenarios = SCENARIOS if not args.only else tuple(f"benchmarks.{n}" for n in args.only.split(","))
    name = f"booktrack_bench_{uuid.uuid4().hex[:8]}"
    database_url = harness.create_database(name)
    ctx = Context(database_url)
    ctx.csv_enrich = args.csv_enrich
    harness.flush_redis()
    harness.migrate(ctx.env)
    started = time.time()
    sections: list[str] = []
    try:
        for module_name in scenarios:
            print(f"== {module_name}", flush=True)
            module = importlib.import_module(module_name)
            sections.extend(module.run(ctx))
            sections.append("")
    finally:
        harness.drop_database(name)
    header = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {time.time() - started:.0f} s. "
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}. "
        "Server: the production configuration (uvicorn, `booktrack.settings.production`, PostgreSQL, Redis). "
        "The load generator (`benchmarks/load.py`, asyncio keep-alive clients) shares the machine with the "
        "server, so absolute figures are modest; compare the ratios, which are measured side by side in "
        "the same run.",
        "",
    ]
    if args.only and os.path.exists(args.out):
        # A partial run rewrites its own sections and keeps the others' figures where they are.
        with open(args.out, encoding="utf-8") as existing:
            kept = existing.read().splitlines()
        body = splice_sections(kept, sections)
        header = [
            "# Benchmarks",
            "",
            f"Sections rewritten by `python -m benchmarks.run --only {args.only}` on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {time.time() - started:.0f} s; the others are from "
            "the run described next.",
            "",
        ]
        lines = header + body
    else:
        lines = header + sections
    with open(args.out, "w", encoding="utf-8") as out:
        out.write("\n".join(lines).rstrip() + "\n")
    print("\n".join(sections))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
