"""Counters shared by every process: requests, latency, cache tiers, upstreams, model tokens, jobs.

Recording is cheap on the hot path: each process adds to an in-memory buffer, and a flusher
thread pushes the buffer once a second into the shared store (Redis hashes, one per time bucket,
in service mode; the process itself in embedded mode, where there is only one process). Reads merge
the shared store with this process's unflushed buffer, so figures are exact across processes.

Buckets: one per minute (kept 2 hours) and one per hour (kept 8 days); periods 15m and 1h read
minute buckets, 24h and 7d hour buckets.

Latency is kept as a histogram with fixed bounds (ms); percentiles are interpolated inside the bucket,
the standard Prometheus approach.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable

logger = logging.getLogger(__name__)

LATENCY_BOUNDS_MS: tuple[float, ...] = (
    1,
    2.5,
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
    30000,
)
PERIODS: dict[str, tuple[str, int]] = {
    "15m": ("m", 15),
    "1h": ("m", 60),
    "24h": ("h", 24),
    "7d": ("h", 24 * 7),
}
MINUTE_TTL = 2 * 3600
HOUR_TTL = 8 * 24 * 3600
SEP = "|"

_lock = threading.Lock()
_buffer: dict[str, Counter[str]] = defaultdict(Counter)  # bucket key -> field -> value
_flusher: threading.Thread | None = None
_local_store: dict[str, Counter[str]] = defaultdict(Counter)  # embedded mode's "shared" store


def _bucket_keys(now: float) -> tuple[str, str]:
    minute = int(now // 60)
    hour = int(now // 3600)
    return f"metrics:m:{minute}", f"metrics:h:{hour}"


def _latency_bucket(latency_ms: float) -> str:
    for bound in LATENCY_BOUNDS_MS:
        if latency_ms <= bound:
            return str(bound)
    return "inf"


def _add(fields: Iterable[tuple[str, float]]) -> None:
    minute_key, hour_key = _bucket_keys(time.time())
    with _lock:
        for name, value in fields:
            _buffer[minute_key][name] += value
            _buffer[hour_key][name] += value
    _ensure_flusher()


def _field(*parts: object) -> str:
    return SEP.join(str(p) for p in parts)


def record_request(*, route: str, method: str, status: int, latency_ms: float) -> None:
    status_class = f"{status // 100}xx"
    _add(
        [
            (_field("req", route, method, status_class), 1),
            (_field("req_total"), 1),
            (_field("req_err"), 1 if status >= 500 else 0),
            (_field("req_lat", _latency_bucket(latency_ms)), 1),
            (_field("req_lat_sum"), latency_ms),
        ]
    )


def record_upstream_call(upstream: str, *, status: int | str, latency_ms: float) -> None:
    failed = not (isinstance(status, int) and status < 500 and status != 429)
    _add(
        [
            (_field("up", upstream, "calls"), 1),
            (_field("up", upstream, "errors"), 1 if failed else 0),
            (_field("up", upstream, "status", status), 1),
            (_field("up_lat", upstream, _latency_bucket(latency_ms)), 1),
            (_field("up_lat_sum", upstream), latency_ms),
        ]
    )


def record_cache(tier: str, *, hit: bool) -> None:
    _add([(_field("cache", tier, "hit" if hit else "miss"), 1)])


def record_model_tokens(model: str, *, prompt_tokens: int, output_tokens: int) -> None:
    _add(
        [
            (_field("tok", model, "prompt"), prompt_tokens),
            (_field("tok", model, "output"), output_tokens),
            (_field("tok", model, "calls"), 1),
        ]
    )


def record_job(pipeline: str, *, status: str) -> None:
    _add([(_field("job", pipeline, status), 1)])


def record_event(name: str, value: float = 1) -> None:
    """A free counter (e.g. rate-limit rejections, alerts fired)."""
    _add([(_field("ev", name), value)])


# --- storage -------------------------------------------------------------------------------


def _redis():
    from booktrack.core.redis import get_redis

    return get_redis()


def flush() -> None:
    """Push this process's buffer to the shared store."""
    with _lock:
        pending = {key: dict(fields) for key, fields in _buffer.items() if fields}
        _buffer.clear()
    if not pending:
        return
    client = _redis()
    if client is None:
        with _lock:
            for key, fields in pending.items():
                _local_store[key].update(fields)
        return
    try:
        pipe = client.pipeline(transaction=False)
        for key, fields in pending.items():
            for name, value in fields.items():
                if value:
                    pipe.hincrbyfloat(key, name, value)
            pipe.expire(key, MINUTE_TTL if key.startswith("metrics:m:") else HOUR_TTL)
        pipe.execute()
    except Exception:  # noqa: BLE001 - metrics never break a request; keep the data for next time
        logger.warning("metrics flush failed; keeping the buffer", exc_info=True)
        with _lock:
            for key, fields in pending.items():
                _buffer[key].update(fields)


def _flush_forever() -> None:
    while True:
        time.sleep(1.0)
        try:
            flush()
        except Exception:  # noqa: BLE001
            logger.exception("metrics flusher error")


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is not None and _flusher.is_alive():
        return
    with _lock:
        if _flusher is not None and _flusher.is_alive():
            return
        _flusher = threading.Thread(target=_flush_forever, name="metrics-flusher", daemon=True)
        _flusher.start()


def read_totals(period: str) -> Counter[str]:
    """Sum every counter over the period (shared store + this process's unflushed buffer)."""
    kind, count = PERIODS[period]
    now = time.time()
    step = 60 if kind == "m" else 3600
    current = int(now // step)
    keys = [f"metrics:{kind}:{current - i}" for i in range(count)]
    totals: Counter[str] = Counter()
    client = _redis()
    if client is None:
        with _lock:
            for key in keys:
                totals.update(_local_store.get(key, {}))
    else:
        try:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(key)
            for fields in pipe.execute():
                for name, value in fields.items():
                    name = name.decode() if isinstance(name, bytes) else name
                    totals[name] += float(value)
        except Exception:  # noqa: BLE001
            logger.warning("metrics read failed", exc_info=True)
    with _lock:
        for key in keys:
            totals.update(_buffer.get(key, {}))
    return totals


def percentile(histogram: dict[str, float], q: float) -> float | None:
    """Interpolated percentile (0-1) from a {bound: count} histogram."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    target = q * total
    seen = 0.0
    lower = 0.0
    for bound in [*LATENCY_BOUNDS_MS, float("inf")]:
        key = "inf" if bound == float("inf") else str(bound)
        n = histogram.get(key, 0.0)
        if n and seen + n >= target:
            if bound == float("inf"):
                return lower
            return round(lower + (bound - lower) * ((target - seen) / n), 2)
        seen += n
        if bound != float("inf"):
            lower = bound
    return lower


def reset_local() -> None:
    """Drop in-process figures (tests)."""
    with _lock:
        _buffer.clear()
        _local_store.clear()


# --- reports ----------------------------------------------------------------------------------


def _split(name: str) -> list[str]:
    return name.split(SEP)


def metrics_report(period: str) -> dict:
    """The JSON figures of `GET /metrics?period=` built from the shared counters."""
    totals = read_totals(period)
    by_route: dict[str, dict] = {}
    req_hist: dict[str, float] = {}
    up: dict[str, dict] = defaultdict(lambda: {"calls": 0, "errors": 0, "statuses": {}, "_hist": {}, "_sum": 0.0})
    cache_tiers: dict[str, dict] = defaultdict(lambda: {"hits": 0, "misses": 0})
    tokens: dict[str, dict] = defaultdict(lambda: {"calls": 0, "promptTokens": 0, "outputTokens": 0})
    jobs: dict[str, dict] = defaultdict(dict)
    events: dict[str, float] = {}
    for name, value in totals.items():
        parts = _split(name)
        kind = parts[0]
        if kind == "req" and len(parts) == 4:
            entry = by_route.setdefault(f"{parts[2]} {parts[1]}", {"route": parts[1], "method": parts[2]})
            entry[parts[3]] = int(entry.get(parts[3], 0) + value)
        elif kind == "req_lat":
            req_hist[parts[1]] = value
        elif kind == "up" and parts[2] in ("calls", "errors"):
            up[parts[1]][parts[2]] += int(value)
        elif kind == "up" and parts[2] == "status":
            up[parts[1]]["statuses"][parts[3]] = int(value)
        elif kind == "up_lat":
            up[parts[1]]["_hist"][parts[2]] = value
        elif kind == "up_lat_sum":
            up[parts[1]]["_sum"] = value
        elif kind == "cache":
            cache_tiers[parts[1]]["hits" if parts[2] == "hit" else "misses"] += int(value)
        elif kind == "tok":
            key = {"prompt": "promptTokens", "output": "outputTokens", "calls": "calls"}[parts[2]]
            tokens[parts[1]][key] += int(value)
        elif kind == "job":
            jobs[parts[1]][parts[2]] = int(value)
        elif kind == "ev":
            events[parts[1]] = value
    total = int(totals.get("req_total", 0))
    errors = int(totals.get("req_err", 0))
    providers = {}
    for name, entry in up.items():
        hist = entry.pop("_hist")
        latency_sum = entry.pop("_sum")
        calls = entry["calls"]
        providers[name] = {
            **entry,
            "errorRate": round(entry["errors"] / calls, 4) if calls else 0.0,
            "latencyMs": {
                "avg": round(latency_sum / calls, 1) if calls else None,
                "p50": percentile(hist, 0.5),
                "p95": percentile(hist, 0.95),
                "p99": percentile(hist, 0.99),
            },
        }
    for entry in cache_tiers.values():
        looked = entry["hits"] + entry["misses"]
        entry["hitRate"] = round(entry["hits"] / looked, 4) if looked else 0.0
    return {
        "period": period,
        "requests": {
            "total": total,
            "errors5xx": errors,
            "errorRate": round(errors / total, 4) if total else 0.0,
            "latencyMs": {
                "avg": round(totals.get("req_lat_sum", 0) / total, 1) if total else None,
                "p50": percentile(req_hist, 0.5),
                "p95": percentile(req_hist, 0.95),
                "p99": percentile(req_hist, 0.99),
            },
            "byRoute": sorted(by_route.values(), key=lambda e: e["route"]),
        },
        "cache": dict(cache_tiers),
        "providers": providers,
        "models": dict(tokens),
        "jobs": dict(jobs),
        "events": events,
    }


def prometheus_text(period: str) -> str:
    """The same figures in the Prometheus text format (gauges over the window, labelled by period)."""
    report = metrics_report(period)
    lines: list[str] = []

    def gauge(name: str, help_text: str, samples: list[tuple[dict[str, str], float | None]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in samples:
            if value is None:
                continue
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in {"period": period, **labels}.items())
            lines.append(f"{name}{{{label_text}}} {value}")

    req = report["requests"]
    gauge("booktrack_requests", "HTTP requests in the window", [({}, req["total"])])
    gauge("booktrack_request_error_rate", "Share of 5xx responses in the window", [({}, req["errorRate"])])
    gauge(
        "booktrack_request_latency_ms",
        "Request latency percentiles in the window",
        [({"quantile": q}, req["latencyMs"][key]) for q, key in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99"))],
    )
    gauge(
        "booktrack_cache_hit_rate",
        "Cache hit rate per tier in the window",
        [({"tier": tier}, entry["hitRate"]) for tier, entry in report["cache"].items()],
    )
    gauge(
        "booktrack_provider_calls",
        "Upstream calls in the window",
        [({"provider": p}, e["calls"]) for p, e in report["providers"].items()],
    )
    gauge(
        "booktrack_provider_errors",
        "Upstream failures (5xx, 429, timeouts, connection errors) in the window",
        [({"provider": p}, e["errors"]) for p, e in report["providers"].items()],
    )
    gauge(
        "booktrack_provider_latency_ms",
        "Upstream latency p95 in the window",
        [({"provider": p, "quantile": "0.95"}, e["latencyMs"]["p95"]) for p, e in report["providers"].items()],
    )
    gauge(
        "booktrack_model_tokens",
        "Model tokens in the window",
        [
            ({"model": m, "kind": kind}, e[key])
            for m, e in report["models"].items()
            for kind, key in (("prompt", "promptTokens"), ("output", "outputTokens"))
        ],
    )
    gauge(
        "booktrack_jobs",
        "Job status transitions in the window",
        [({"pipeline": p, "status": s}, n) for p, statuses in report["jobs"].items() for s, n in statuses.items()],
    )
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
