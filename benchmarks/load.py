"""A small closed-loop HTTP/1.1 load generator (asyncio, keep-alive, no dependencies).

Each of `concurrency` connections sends a request, reads the whole response, records its latency and
sends the next, for `duration` seconds after a warm-up; `run_load_phases` runs several URLs in turn
over the same connections. Written for loopback benchmarks: it parses
just enough HTTP (status line, Content-Length or chunked) to keep connections alive.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    label: str
    requests: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    statuses: Counter

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return self.pct(0.99)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 400 or status == 0)


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = None
    chunked = False
    close = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and "close" in value.lower():
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    if close:
        raise ConnectionResetError("server closed")
    return status


def _request_bytes(url: str, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}\r\n{head}\r\n".encode()


@dataclass
class _Phase:
    request: bytes
    record_from: float
    stop_at: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


async def _worker(host: str, port: int, phases: list[_Phase]) -> None:
    """One keep-alive connection running every phase in turn (reconnecting only if the server closes it)."""
    reader = writer = None
    for phase in phases:
        while time.perf_counter() < phase.stop_at:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = time.perf_counter()
            try:
                writer.write(phase.request)
                await writer.drain()
                status = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError, ValueError):
                writer.close()
                writer = None
                if started >= phase.record_from and time.perf_counter() < phase.stop_at:
                    phase.statuses[0] += 1
                continue
            if started >= phase.record_from and time.perf_counter() <= phase.stop_at:
                phase.latencies.append((time.perf_counter() - started) * 1000)
                phase.statuses[status] += 1
    if writer is not None:
        writer.close()


async def _run(urls: list[str], concurrency: int, duration: float, warmup: float, headers: dict[str, str]):
    parts = urlsplit(urls[0])
    now = time.perf_counter()
    phases = []
    for i, url in enumerate(urls):
        begins = now + i * (warmup + duration)
        phases.append(_Phase(_request_bytes(url, headers), begins + warmup, begins + warmup + duration))
    await asyncio.gather(*(_worker(parts.hostname, parts.port or 80, phases) for _ in range(concurrency)))
    return [
        LoadResult(url, len(phase.latencies), duration, phase.latencies, phase.statuses)
        for url, phase in zip(urls, phases, strict=True)
    ]


def run_load(
    url: str, *, concurrency: int = 32, duration: float = 8.0, warmup: float = 1.5, headers: dict | None = None
) -> LoadResult:
    return asyncio.run(_run([url], concurrency, duration, warmup, headers or {}))[0]


def run_load_phases(
    urls: list[str], *, concurrency: int = 32, duration: float = 8.0, warmup: float = 1.5, headers: dict | None = None
) -> list[LoadResult]:
    """`run_load` for each URL in turn over the SAME connections (same host and port).

    With several server processes sharing one listening socket, which process accepts each connection
    is chance: 12 of 16 connections on one process halves throughput for that run. Phases that share
    their connections share that luck, so their ratio measures the routes, not the deal.
    """
    return asyncio.run(_run(urls, concurrency, duration, warmup, headers or {}))
