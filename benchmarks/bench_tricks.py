"""A/B rows for each hot-path trick, each side measured in the same run on the same machine.

1. The WSGI bridge (booktrack.asgi: Django's synchronous handler on a2wsgi's thread pool) vs Django's
   own ASGI handler (benchmarks/asgi_django.py): two uvicorn servers, one worker each (so no luck in
   how connections split across processes), against the same database, Redis and fakes; rounds
   interleaved, each loading `/health/live` then the cached ISBN over the same 16 connections.
2. Lean GET vs DRF's dispatch, and splicing the answer's pre-rendered bytes vs rendering its data per
   request: CPU per request inside Django's handler (benchmarks/inprocess.py, benchmarks/ab_views.py),
   the cached ISBN with and without each trick, and the floor.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import urllib.request

from benchmarks import harness
from benchmarks.bench_search import CACHED_ISBN
from benchmarks.load import run_load_phases

BRIDGE_ROUNDS = 3
BRIDGE_SECONDS = 4
BRIDGE_CONCURRENCY = 16
SIDES = {
    "bridge": "booktrack.asgi:application",
    "django_asgi": "benchmarks.asgi_django:application",
}


def run(ctx) -> list[str]:
    with harness.fakes_env(ctx.env) as (_fake, env):
        bridge = _bridge_ab(env)
        costs = _in_process(env)
    ctx.figures.update({f"inprocess_{name}_us": us for name, us in costs.items()})
    return harness.section(_summary(bridge, costs) + _bridge_rounds(bridge) + _in_process_table(costs))


# --- measuring -------------------------------------------------------------------------------------


def _bridge_ab(env: dict[str, str]) -> list[dict[str, tuple]]:
    """Per round, per side: (floor LoadResult, cached ISBN LoadResult)."""
    rounds: list[dict[str, tuple]] = []
    with (
        harness.server(env, workers=1, app=SIDES["bridge"]) as bridge,
        harness.server(env, workers=1, app=SIDES["django_asgi"]) as django_asgi,
    ):
        bases = {"bridge": bridge, "django_asgi": django_asgi}
        for base in bases.values():
            for _ in range(2):  # warm every tier of each process
                with urllib.request.urlopen(f"{base}/v1/search/isbn?isbn={CACHED_ISBN}", timeout=30) as r:
                    r.read()
        for _ in range(BRIDGE_ROUNDS):
            measured = {}
            for side, base in bases.items():
                measured[side] = tuple(
                    run_load_phases(
                        [f"{base}/health/live", f"{base}/v1/search/isbn?isbn={CACHED_ISBN}"],
                        concurrency=BRIDGE_CONCURRENCY,
                        duration=BRIDGE_SECONDS,
                    )
                )
                print(side, [f"{r.rps:,.0f}" for r in measured[side]], flush=True)
            rounds.append(measured)
    return rounds


def _in_process(env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [harness.PY, "-m", "benchmarks.inprocess"], cwd=harness.ROOT, env=env, check=True, capture_output=True
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


# --- reporting -------------------------------------------------------------------------------------


def _mean_rps(rounds: list[dict[str, tuple]], side: str, route: int) -> float:
    return statistics.mean(r[side][route].rps for r in rounds)


def _median_ratio(rounds: list[dict[str, tuple]], route: int) -> float:
    return statistics.median(
        r["bridge"][route].rps / r["django_asgi"][route].rps for r in rounds if r["django_asgi"][route].rps
    )


def _summary(rounds: list[dict[str, tuple]], costs: dict[str, float]) -> list[str]:
    isbn = costs["cached_isbn"]
    drf, plain = costs["drf_dispatch"], costs["plain_render"]
    lines = [
        "## Hot-path tricks: A/B, side by side",
        "",
        "Each trick of the cached-answer hot path against the same route without it, in this run. The "
        "bridge is measured over the wire (two uvicorn servers, one worker each, "
        f"{BRIDGE_CONCURRENCY} keep-alive clients, {BRIDGE_ROUNDS} interleaved rounds of "
        f"{BRIDGE_SECONDS} s per route, median of the per-round ratios); lean dispatch and splicing as "
        "CPU per request inside Django (median of 8,000 requests per route, the routes called in turn), "
        "where their cost is not hidden by the load generator sharing the machine.",
        "",
        "| trick (A) vs without it (B) | measure | A | B | A vs B |",
        "|---|---|---:|---:|---:|",
    ]
    for route, label in ((1, "cached `/v1/search/isbn`"), (0, "`/health/live`")):
        a, b = _mean_rps(rounds, "bridge", route), _mean_rps(rounds, "django_asgi", route)
        lines.append(
            f"| WSGI bridge (`booktrack.asgi`, a2wsgi) vs Django's ASGI handler | {label} req/s | "
            f"{a:,.0f} | {b:,.0f} | **{_median_ratio(rounds, route):.2f}x** throughput |"
        )
    lines += [
        f"| lean GET (`booktrack.core.lean`) vs DRF's dispatch | cached ISBN, CPU us/request | {isbn:.0f} | "
        f"{drf:.0f} | **{drf - isbn:.0f} us** saved ({(drf - isbn) / drf:.0%}) |",
        f"| pre-rendered splice (`search.answers`, `booktrack.core.rendering`) vs a plain render | cached "
        f"ISBN, CPU us/request | {isbn:.0f} | {plain:.0f} | **{plain - isbn:.0f} us** saved "
        f"({(plain - isbn) / plain:.0%}) |",
        "",
    ]
    return lines


def _bridge_rounds(rounds: list[dict[str, tuple]]) -> list[str]:
    lines = [
        "WSGI bridge vs Django's ASGI handler, per round (req/s, p50 / p99 ms):",
        "",
        "| round | bridge `/health/live` | bridge cached ISBN | ASGI handler `/health/live` | "
        "ASGI handler cached ISBN | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(rounds, 1):
        cells = [
            f"{res.rps:,.0f} ({res.p50:.1f} / {res.p99:.1f})"
            for res in (r["bridge"][0], r["bridge"][1], r["django_asgi"][0], r["django_asgi"][1])
        ]
        errors = sum(res.errors for side in r.values() for res in side)
        lines.append(f"| {i} | " + " | ".join(cells) + f" | {errors} |")
    return [*lines, ""]


def _in_process_table(costs: dict[str, float]) -> list[str]:
    floor, isbn = costs["floor"], costs["cached_isbn"]
    return [
        "## Search: CPU per request inside Django, cached ISBN vs the floor",
        "",
        "The same WSGI handler the server runs, called in one process (production settings, PostgreSQL, "
        "Redis, caches warm), the routes called in turn, each request timed in CPU time (`process_time`), "
        "median per route. The server "
        "adds the same ASGI and socket cost to every row. The B sides are the cached ISBN view with one "
        "trick taken out (benchmarks/ab_views.py); all four answer the same data.",
        "",
        "| route | us per request |",
        "|---|---:|",
        f"| `/health/live` | {floor:.0f} |",
        f"| `/v1/search/isbn` (cached; lean GET, pre-rendered splice) | {isbn:.0f} |",
        f"| the same through DRF's dispatch | {costs['drf_dispatch']:.0f} |",
        f"| the same rendering its data per request | {costs['plain_render']:.0f} |",
        "",
        f"Cached ISBN costs **{isbn - floor:.0f} us** more than the floor ({isbn / floor:.2f}x of it inside Django).",
        "",
    ]
