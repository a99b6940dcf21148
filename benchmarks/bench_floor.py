"""The floor: /health/live throughput and latency under concurrency (no I/O in the view)."""

from __future__ import annotations

from benchmarks import harness
from benchmarks.load import run_load

CONCURRENCY = (1, 16, 64)


def run(ctx) -> list[str]:
    lines = [
        "## Floor: `GET /health/live`",
        "",
        "Liveness answers from memory with no I/O; every later figure is compared with it. "
        "uvicorn with 2 workers, 8 s per level after a 1.5 s warm-up.",
        "",
        "| concurrency | requests/s | p50 ms | p99 ms | errors |",
        "|---:|---:|---:|---:|---:|",
    ]
    with harness.server(ctx.env) as base:
        for concurrency in CONCURRENCY:
            result = run_load(f"{base}/health/live", concurrency=concurrency)
            ctx.figures[f"floor_rps_c{concurrency}"] = result.rps
            lines.append(
                f"| {concurrency} | {result.rps:,.0f} | {result.p50:.1f} | {result.p99:.1f} | {result.errors} |"
            )
            print(lines[-1], flush=True)
    return lines
