"""WebSocket fan-out and a soak of mixed traffic (issue 13 item 8), against real processes.

1. Fan-out: 500 concurrent `/ws/progress` clients on 50 running jobs (10 each), served by uvicorn
   (2 workers) through the Redis channel layer. The benchmark process publishes progress events with
   the real `JobProgressReporter`; latency = a client's receive time minus the start of the publishing
   call (p50 / p99 over every receipt); server memory = RSS of the uvicorn process tree before the
   clients, with them connected, and after the events.
2. Soak (`--soak-seconds`, default 600): mixed traffic for the whole run (paced cached search hits,
   a 10-book batch started every few seconds and run by a real Celery worker, WebSocket clients
   following those jobs to their end and reconnecting), the RSS of the server tree and of the worker
   sampled every 5 s; the mean RSS of the first minute after warm-up is compared with the last minute
   (target: within 10 %). A shorter run is for trying it; the figure in docs/benchmarks.md is from 600 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import threading
import time
import uuid

from benchmarks import harness
from benchmarks.bench_jobs import _django_setup, _pct, _ws_url

FANOUT_CLIENTS = 500
FANOUT_JOBS = 50
FANOUT_ROUNDS = 20
FANOUT_ROUND_SPACING_S = 1.0
SOAK_SECONDS_DEFAULT = 600
SOAK_SEARCH_RPS = 20
SOAK_JOB_EVERY_S = 6.0
SOAK_WS_CLIENTS = 40
SAMPLE_EVERY_S = 5.0
SEARCH_ISBNS = ("9780441172719", "9780374104092", "9780451524935", "9780061120084", "9780743273565")


def run(ctx) -> list[str]:
    soak_seconds = int(os.environ.get("BENCH_SOAK_SECONDS") or getattr(ctx, "soak_seconds", 0) or SOAK_SECONDS_DEFAULT)
    lines: list[str] = []
    with harness.fakes_env(ctx.env) as (fake, env):
        _django_setup(env)
        pids: list[int] = []
        with harness.server(env, pid_out=pids) as base:
            lines += _fanout(base, pids[0], ctx)
        fake.configure("all", latency_ms=50)
        pids = []
        with harness.server(env, pid_out=pids) as base, harness.celery_worker(env, concurrency=4) as worker:
            lines += _soak(base, pids[0], worker.pid, soak_seconds, ctx)
    return lines


# --- memory --------------------------------------------------------------------------------------


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and its descendants (Linux /proc), in MB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total_kb = 0
    stack = [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


# --- 1. fan-out ----------------------------------------------------------------------------------


def _fanout(base: str, server_pid: int, ctx) -> list[str]:
    from django.db import close_old_connections, connection

    from jobs.events import JobSummary
    from jobs.models import Pipeline
    from jobs.reporter import JobProgressReporter
    from jobs.services import job_create

    jobs = []
    for _ in range(FANOUT_JOBS):
        job, token = job_create(pipeline=Pipeline.BATCH_ENRICHMENT, total=FANOUT_ROUNDS)
        reporter = JobProgressReporter(job_id=job.id)
        reporter.started(total=FANOUT_ROUNDS)
        jobs.append((str(job.id), token, reporter))
    sent: dict[tuple[str, int], float] = {}
    latencies: list[float] = []
    rss = {"idle": tree_rss_mb(server_pid)}
    connected_ok: list[bool] = []

    def publish() -> None:
        try:
            for round_ in range(1, FANOUT_ROUNDS + 1):
                started = time.perf_counter()
                for job_id, _, reporter in jobs:
                    sent[(job_id, round_)] = time.perf_counter()
                    reporter.progress(processed=round_, status=f"bench {round_}", current_item=f"item {round_}")
                time.sleep(max(0.0, FANOUT_ROUND_SPACING_S - (time.perf_counter() - started)))
        finally:
            close_old_connections()

    failures: list[str] = []

    async def client(job_id: str, token: str, ready: asyncio.Queue, go: asyncio.Event, gate) -> int:
        from websockets.asyncio.client import connect

        got = 0
        announced = False
        try:
            async with gate:  # at most 100 handshakes in flight: clients arrive over seconds, not at once
                ws = await connect(_ws_url(base, job_id, token), max_queue=None, open_timeout=60)
            async with ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 60))
                assert first["type"] == "job_started", first
                await ready.put(True)
                announced = True
                await go.wait()
                while got < FANOUT_ROUNDS:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    now = time.perf_counter()
                    payload = message.get("payload", {})
                    if message["type"] == "job_progress" and not payload.get("keepAlive"):
                        latencies.append((now - sent[(job_id, payload["processedCount"])]) * 1000)
                        got += 1
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}"[:200])
            if not announced:
                await ready.put(False)
        return got

    async def main() -> tuple[float, int]:
        ready: asyncio.Queue = asyncio.Queue()
        go = asyncio.Event()
        gate = asyncio.Semaphore(100)
        started = time.perf_counter()
        tasks = [
            asyncio.create_task(client(job_id, token, ready, go, gate))
            for i in range(FANOUT_CLIENTS)
            for job_id, token, _ in [jobs[i % FANOUT_JOBS]]
        ]
        for _ in range(FANOUT_CLIENTS):
            connected_ok.append(await ready.get())
        connect_s = time.perf_counter() - started
        await asyncio.sleep(2)
        rss["connected"] = tree_rss_mb(server_pid)
        go.set()
        publisher = threading.Thread(target=publish, name="bench-publisher")
        publisher.start()
        results = await asyncio.gather(*tasks)
        await asyncio.to_thread(publisher.join)
        rss["after_events"] = tree_rss_mb(server_pid)
        return connect_s, sum(results)

    connect_s, received = asyncio.run(main())
    for job_id, _, reporter in jobs:
        reporter.complete(
            summary=JobSummary(
                total_processed=FANOUT_ROUNDS,
                success_count=FANOUT_ROUNDS,
                failure_count=0,
                duration=0,
                resource_id=job_id,
            ),
            results={"books": []},
        )
    connection.close()
    expected = FANOUT_CLIENTS * FANOUT_ROUNDS
    p50, p99 = statistics.median(latencies), _pct(latencies, 0.99)
    per_client_kb = (rss["connected"] - rss["idle"]) * 1024 / FANOUT_CLIENTS
    ctx.figures.update({"ws_fanout_p99_ms": p99, "ws_fanout_rss_mb": rss["after_events"]})
    lines = [
        "## WebSocket fan-out",
        "",
        f"{FANOUT_CLIENTS} concurrent `websockets` clients on `/ws/progress`, {FANOUT_CLIENTS // FANOUT_JOBS} on "
        f"each of {FANOUT_JOBS} running jobs, served by uvicorn (2 workers, production settings) through the "
        f"Redis channel layer. The benchmark process publishes {FANOUT_ROUNDS} rounds of one `progress()` per "
        f"job ({FANOUT_JOBS * FANOUT_ROUNDS} events, one round every {FANOUT_ROUND_SPACING_S * 1000:.0f} ms) with "
        "the real `JobProgressReporter` (event log on PostgreSQL, after-commit `group_send`); every client "
        "receives its job's events. Latency = client receive time minus the start of the publishing call "
        "(publish -> receipt, everything the user waits for). The clients run in the benchmark process on the "
        "same machine as the server.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| clients connected (handshake + replay) | {sum(connected_ok)} of {FANOUT_CLIENTS} in {connect_s:.1f} s "
        "(at most 100 handshakes in flight) |",
        f"| client errors | {len(failures)}{': ' + failures[0] if failures else ''} |",
        f"| events received / expected | {len(latencies)} / {expected} |",
        f"| latency p50 / p90 / p99 / max ms | {p50:.1f} / {_pct(latencies, 0.9):.1f} / {p99:.1f} / "
        f"{max(latencies):.1f} |",
        f"| server RSS idle -> {FANOUT_CLIENTS} clients -> after the events (MB, uvicorn tree) | "
        f"{rss['idle']:.0f} -> {rss['connected']:.0f} -> {rss['after_events']:.0f} |",
        f"| memory per connected client | {per_client_kb:.0f} KB |",
        "",
        f"**p99 {p99:.0f} ms** from publish to receipt with {FANOUT_CLIENTS} clients connected; "
        f"{received} frames counted by the clients.",
        "",
    ]
    return harness.section(lines)


# --- 2. soak -------------------------------------------------------------------------------------


def _soak(base: str, server_pid: int, worker_pid: int, seconds: int, ctx) -> list[str]:
    import requests

    stop = threading.Event()
    counts = {"search": 0, "search_5xx": 0, "jobs": 0, "jobs_5xx": 0, "ws_sessions": 0, "ws_frames": 0, "ws_errors": 0}
    lock = threading.Lock()
    started_jobs: list[tuple[str, str]] = []
    samples: list[tuple[float, float, float]] = []  # (t, server MB, worker MB)
    t0 = time.monotonic()

    def bump(key: str, n: int = 1) -> None:
        with lock:
            counts[key] += n

    def searches() -> None:
        session = requests.Session()
        for isbn in SEARCH_ISBNS:
            session.get(f"{base}/v1/search/isbn?isbn={isbn}", timeout=30)  # warm every tier
        interval = 1.0 / SOAK_SEARCH_RPS
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                status = session.get(
                    f"{base}/v1/search/isbn?isbn={random.choice(SEARCH_ISBNS)}", timeout=30
                ).status_code
                bump("search")
                if status >= 500:
                    bump("search_5xx")
            except requests.RequestException:
                bump("search_5xx")
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))

    def job_starts() -> None:
        session = requests.Session()
        while not stop.is_set():
            tag = uuid.uuid4().hex[:8]
            books = [{"title": f"Soak Book {tag} {i}", "author": "Nobody Known"} for i in range(10)]
            job_id = str(uuid.uuid4())
            try:
                response = session.post(
                    f"{base}/v1/enrichment/batch", json={"jobId": job_id, "books": books}, timeout=30
                )
                bump("jobs")
                if response.status_code == 202:
                    with lock:
                        started_jobs.append((job_id, response.json()["data"]["token"]))
                elif response.status_code >= 500:
                    bump("jobs_5xx")
            except requests.RequestException:
                bump("jobs_5xx")
            stop.wait(SOAK_JOB_EVERY_S)

    async def ws_client() -> None:
        from websockets.asyncio.client import connect

        while not stop.is_set():
            with lock:
                recent = started_jobs[-5:]
            if not recent:
                await asyncio.sleep(1)
                continue
            job_id, token = random.choice(recent)
            try:
                async with connect(_ws_url(base, job_id, token), open_timeout=30) as ws:
                    bump("ws_sessions")
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline and not stop.is_set():
                        try:
                            await asyncio.wait_for(ws.recv(), 5)
                            bump("ws_frames")
                        except TimeoutError:
                            continue
            except Exception as error:  # a closed socket ends a session; anything else is counted
                if type(error).__name__ not in ("ConnectionClosedOK",):
                    bump("ws_errors")
            await asyncio.sleep(random.uniform(0.2, 1.0))

    async def ws_clients() -> None:
        await asyncio.gather(*(ws_client() for _ in range(SOAK_WS_CLIENTS)))

    def sampler() -> None:
        while not stop.is_set():
            samples.append((time.monotonic() - t0, tree_rss_mb(server_pid), tree_rss_mb(worker_pid)))
            stop.wait(SAMPLE_EVERY_S)

    threads = [threading.Thread(target=f, daemon=True) for f in (searches, job_starts, sampler)]
    threads.append(threading.Thread(target=lambda: asyncio.run(ws_clients()), daemon=True))
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    finished = _jobs_finished([job_id for job_id, _ in started_jobs])
    warmup = min(60.0, seconds / 5)
    window = min(60.0, seconds / 5)
    first = [s for s in samples if warmup <= s[0] < warmup + window]
    last = [s for s in samples if s[0] >= seconds - window]
    server_first, server_last = statistics.mean(s[1] for s in first), statistics.mean(s[1] for s in last)
    worker_first, worker_last = statistics.mean(s[2] for s in first), statistics.mean(s[2] for s in last)
    server_change = (server_last - server_first) / server_first * 100
    worker_change = (worker_last - worker_first) / worker_first * 100
    ctx.figures.update({"soak_server_rss_change_pct": server_change, "soak_seconds": seconds})
    verdict = "flat within 10 %" if abs(server_change) <= 10 else "NOT within 10 %"
    note = "" if seconds >= SOAK_SECONDS_DEFAULT else f" (a {seconds} s trial run, not the 600 s figure)"
    lines = [
        "## Soak",
        "",
        f"{seconds} s{note} of mixed traffic against uvicorn (2 workers) and a Celery worker (4 threads), "
        f"production settings, fakes at 50 ms: cached `GET /v1/search/isbn` hits paced at {SOAK_SEARCH_RPS}/s, "
        f"a 10-book `POST /v1/enrichment/batch` every {SOAK_JOB_EVERY_S:.0f} s, {SOAK_WS_CLIENTS} WebSocket "
        "clients that each follow one of the latest jobs for up to 30 s and reconnect. RSS of the server "
        f"(uvicorn tree) and of the worker sampled every {SAMPLE_EVERY_S:.0f} s; the mean of the first "
        f"{window:.0f} s after a {warmup:.0f} s warm-up is compared with the mean of the last {window:.0f} s.",
        "",
        "| process | RSS first window MB | RSS last window MB | change | min / max over the run MB |",
        "|---|---:|---:|---:|---:|",
        f"| server (uvicorn, 2 workers) | {server_first:.0f} | {server_last:.0f} | {server_change:+.1f} % | "
        f"{min(s[1] for s in samples):.0f} / {max(s[1] for s in samples):.0f} |",
        f"| Celery worker | {worker_first:.0f} | {worker_last:.0f} | {worker_change:+.1f} % | "
        f"{min(s[2] for s in samples):.0f} / {max(s[2] for s in samples):.0f} |",
        "",
        f"Traffic: {counts['search']} search requests ({counts['search_5xx']} 5xx or failed), {counts['jobs']} job "
        f"starts ({counts['jobs_5xx']} 5xx or failed; {finished} of them complete by the end), "
        f"{counts['ws_sessions']} WebSocket sessions, {counts['ws_frames']} frames received, "
        f"{counts['ws_errors']} WebSocket errors.",
        "",
        f"**Server RSS {server_change:+.1f} % from the first to the last minute: {verdict}.**",
        "",
    ]
    return harness.section(lines)


def _jobs_finished(job_ids: list[str]) -> int:
    from django.db import connection

    from jobs.models import Job

    try:
        return Job.objects.filter(pk__in=job_ids, status="complete").count()
    finally:
        connection.close()
