"""Counters shared by every process: requests, latency, cache tiers, upstreams, model tokens, jobs.

Recording is cheap on the hot path: each process adds to an in-memory buffer, and a flusher
thread pushes the buffer once a second into the shared store (Redis hashes, one per time bucket,
in service mode; the process itself in embedded mode, where there is only one process). Reads merge
the shared store with this process's unflushed buffer, so figures are exact across processes.

Buckets: one per minute (kept 2 hours) and one per hour (kept 8 days); periods 15m and 1h read
minute buckets, 24h and 7d hour buckets (the JSON `GET /metrics?period=`). A third hash holds the
running totals since the store began (no expiry): the Prometheus exposition (`prometheus_registry`)
reads them through a prometheus_client Collector as cumulative counters and histograms, so Prometheus
computes rates and quantiles itself over any range.

Why a Collector over the shared store and not prometheus_client's multiprocess mode: the service runs
several uvicorn workers and Celery workers on any number of machines. Multiprocess mode sums files in
one local directory, so a scrape would see only the processes of the machine that answered, needs
PROMETHEUS_MULTIPROC_DIR set before import in every process and wiped at each start, and would give
figures that disagree with the JSON report. The Redis totals already hold every process of every
machine (each flushes once a second), so one scrape of any worker answers for the whole service.

Latency is kept as a histogram with fixed bounds (ms); JSON percentiles are interpolated inside the
bucket, the standard Prometheus approach.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

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


TOTAL_KEY = "metrics:total"  # running totals, never expire (Prometheus handles a reset of its counters)


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
    # "deadline": our own deadline cut the call short; the upstream did nothing wrong.
    failed = status != "deadline" and not (isinstance(status, int) and status < 500 and status != 429)
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
    """Push this process's buffer to the shared store (minute, hour and running-total hashes)."""
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
                if key.startswith("metrics:m:"):
                    _local_store[TOTAL_KEY].update(fields)
        return
    try:
        pipe = client.pipeline(transaction=False)
        for key, fields in pending.items():
            minute = key.startswith("metrics:m:")
            for name, value in fields.items():
                if value:
                    pipe.hincrbyfloat(key, name, value)
                    if minute:  # every figure lands in exactly one minute bucket: count it once in the totals
                        pipe.hincrbyfloat(TOTAL_KEY, name, value)
            pipe.expire(key, MINUTE_TTL if minute else HOUR_TTL)
        pipe.execute()
    except Exception:  # metrics never break a request; keep the data for next time
        logger.warning("metrics flush failed; keeping the buffer", exc_info=True)
        with _lock:
            for key, fields in pending.items():
                _buffer[key].update(fields)


def _flush_forever() -> None:
    while True:
        time.sleep(1.0)
        try:
            flush()
        except Exception:
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
        except Exception:
            logger.warning("metrics read failed", exc_info=True)
    with _lock:
        for key in keys:
            totals.update(_buffer.get(key, {}))
    return totals


def read_cumulative() -> Counter[str]:
    """Every counter since the store began (shared store + this process's unflushed minute buffers)."""
    totals: Counter[str] = Counter()
    client = _redis()
    if client is None:
        with _lock:
            totals.update(_local_store.get(TOTAL_KEY, {}))
    else:
        try:
            for name, value in client.hgetall(TOTAL_KEY).items():
                totals[name.decode() if isinstance(name, bytes) else name] += float(value)
        except Exception:
            logger.warning("metrics read failed", exc_info=True)
    with _lock:
        for key, fields in _buffer.items():
            if key.startswith("metrics:m:"):
                totals.update(fields)
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


@dataclass
class _Tally:
    """The counters of one read, grouped by what they count (field names are `kind|label|...`)."""

    requests: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (route, method, class)
    request_total: float = 0.0
    request_errors: float = 0.0
    request_hist: dict[str, float] = field(default_factory=dict)  # latency bound (ms) -> count
    request_latency_sum: float = 0.0  # ms
    upstream_calls: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    upstream_errors: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    upstream_statuses: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    upstream_hist: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    upstream_latency_sum: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cache: dict[tuple[str, str], float] = field(default_factory=dict)  # (tier, hit|miss)
    tokens: dict[tuple[str, str], float] = field(default_factory=dict)  # (model, prompt|output|calls)
    jobs: dict[tuple[str, str], float] = field(default_factory=dict)  # (pipeline, status)
    events: dict[str, float] = field(default_factory=dict)


def _tally(totals: Counter[str]) -> _Tally:
    tally = _Tally()
    for name, value in totals.items():
        parts = _split(name)
        kind = parts[0]
        if kind == "req" and len(parts) == 4:
            tally.requests[(parts[1], parts[2], parts[3])] = value
        elif kind == "req_total":
            tally.request_total = value
        elif kind == "req_err":
            tally.request_errors = value
        elif kind == "req_lat":
            tally.request_hist[parts[1]] = value
        elif kind == "req_lat_sum":
            tally.request_latency_sum = value
        elif kind == "up" and parts[2] == "calls":
            tally.upstream_calls[parts[1]] += value
        elif kind == "up" and parts[2] == "errors":
            tally.upstream_errors[parts[1]] += value
        elif kind == "up" and parts[2] == "status":
            tally.upstream_statuses[parts[1]][parts[3]] = value
        elif kind == "up_lat":
            tally.upstream_hist[parts[1]][parts[2]] = value
        elif kind == "up_lat_sum":
            tally.upstream_latency_sum[parts[1]] = value
        elif kind == "cache":
            tally.cache[(parts[1], parts[2])] = value
        elif kind == "tok":
            tally.tokens[(parts[1], parts[2])] = value
        elif kind == "job":
            tally.jobs[(parts[1], parts[2])] = value
        elif kind == "ev":
            tally.events[parts[1]] = value
    return tally


def _latency_figures(hist: dict[str, float], latency_sum: float, count: float) -> dict[str, float | None]:
    return {
        "avg": round(latency_sum / count, 1) if count else None,
        "p50": percentile(hist, 0.5),
        "p95": percentile(hist, 0.95),
        "p99": percentile(hist, 0.99),
    }


def metrics_report(period: str) -> dict:
    """The JSON figures of `GET /metrics?period=` built from the shared counters."""
    tally = _tally(read_totals(period))
    by_route: dict[str, dict] = {}
    for (route, method, status_class), value in tally.requests.items():
        entry = by_route.setdefault(f"{method} {route}", {"route": route, "method": method})
        entry[status_class] = int(entry.get(status_class, 0) + value)
    providers = {}
    for name in sorted({*tally.upstream_calls, *tally.upstream_statuses}):
        calls = int(tally.upstream_calls.get(name, 0))
        errors = int(tally.upstream_errors.get(name, 0))
        providers[name] = {
            "calls": calls,
            "errors": errors,
            "statuses": {status: int(n) for status, n in tally.upstream_statuses.get(name, {}).items()},
            "errorRate": round(errors / calls, 4) if calls else 0.0,
            "latencyMs": _latency_figures(
                tally.upstream_hist.get(name, {}), tally.upstream_latency_sum.get(name, 0.0), calls
            ),
        }
    cache_tiers: dict[str, dict] = defaultdict(lambda: {"hits": 0, "misses": 0})
    for (tier, result), value in tally.cache.items():
        cache_tiers[tier]["hits" if result == "hit" else "misses"] += int(value)
    for entry in cache_tiers.values():
        looked = entry["hits"] + entry["misses"]
        entry["hitRate"] = round(entry["hits"] / looked, 4) if looked else 0.0
    tokens: dict[str, dict] = defaultdict(lambda: {"calls": 0, "promptTokens": 0, "outputTokens": 0})
    for (model, kind), value in tally.tokens.items():
        tokens[model][{"prompt": "promptTokens", "output": "outputTokens", "calls": "calls"}[kind]] += int(value)
    jobs: dict[str, dict] = defaultdict(dict)
    for (pipeline, status), value in tally.jobs.items():
        jobs[pipeline][status] = int(value)
    total = int(tally.request_total)
    errors = int(tally.request_errors)
    return {
        "period": period,
        "requests": {
            "total": total,
            "errors5xx": errors,
            "errorRate": round(errors / total, 4) if total else 0.0,
            "latencyMs": _latency_figures(tally.request_hist, tally.request_latency_sum, total),
            "byRoute": sorted(by_route.values(), key=lambda e: e["route"]),
        },
        "cache": dict(cache_tiers),
        "providers": providers,
        "models": dict(tokens),
        "jobs": dict(jobs),
        "events": tally.events,
    }


# --- Prometheus exposition ---------------------------------------------------------------------


def _seconds_buckets(hist: dict[str, float]) -> list[tuple[str, float]]:
    """Per-bucket counts keyed by bound in ms -> cumulative `le` buckets in seconds (the base unit)."""
    buckets: list[tuple[str, float]] = []
    running = 0.0
    for bound in LATENCY_BOUNDS_MS:
        running += hist.get(str(bound), 0.0)
        buckets.append((floatToGoString(bound / 1000), running))
    running += hist.get("inf", 0.0)
    buckets.append(("+Inf", running))
    return buckets


class SharedCountersCollector(Collector):
    """The running totals of every process as cumulative Prometheus counters and histograms."""

    def collect(self) -> Iterator[Metric]:
        tally = _tally(read_cumulative())

        requests = CounterMetricFamily(
            "booktrack_http_requests", "HTTP requests answered", labels=["route", "method", "status"]
        )
        for (route, method, status_class), value in sorted(tally.requests.items()):
            requests.add_metric([route, method, status_class], value)
        yield requests

        latency = HistogramMetricFamily(
            "booktrack_http_request_duration_seconds", "HTTP request latency, every route", labels=[]
        )
        latency.add_metric([], _seconds_buckets(tally.request_hist), tally.request_latency_sum / 1000)
        yield latency

        cache = CounterMetricFamily("booktrack_cache_lookups", "Cache lookups per tier", labels=["tier", "result"])
        for (tier, result), value in sorted(tally.cache.items()):
            cache.add_metric([tier, result], value)
        yield cache

        calls = CounterMetricFamily(
            "booktrack_provider_calls", "Upstream calls (retries included)", labels=["provider"]
        )
        errors = CounterMetricFamily(
            "booktrack_provider_errors", "Upstream failures: 5xx, 429, timeouts, connection errors", labels=["provider"]
        )
        for provider in sorted(tally.upstream_calls):
            calls.add_metric([provider], tally.upstream_calls[provider])
            errors.add_metric([provider], tally.upstream_errors.get(provider, 0.0))
        yield calls
        yield errors

        responses = CounterMetricFamily(
            "booktrack_provider_responses", "Upstream answers by status", labels=["provider", "status"]
        )
        for provider, statuses in sorted(tally.upstream_statuses.items()):
            for status, value in sorted(statuses.items()):
                responses.add_metric([provider, status], value)
        yield responses

        upstream_latency = HistogramMetricFamily(
            "booktrack_provider_request_duration_seconds", "Upstream call latency", labels=["provider"]
        )
        for provider, hist in sorted(tally.upstream_hist.items()):
            upstream_latency.add_metric(
                [provider], _seconds_buckets(hist), tally.upstream_latency_sum.get(provider, 0.0) / 1000
            )
        yield upstream_latency

        tokens = CounterMetricFamily("booktrack_model_tokens", "Model tokens", labels=["model", "kind"])
        model_calls = CounterMetricFamily("booktrack_model_calls", "Model calls", labels=["model"])
        for (model, kind), value in sorted(tally.tokens.items()):
            if kind == "calls":
                model_calls.add_metric([model], value)
            else:
                tokens.add_metric([model, kind], value)
        yield tokens
        yield model_calls

        jobs = CounterMetricFamily("booktrack_jobs", "Job status transitions", labels=["pipeline", "status"])
        for (pipeline, status), value in sorted(tally.jobs.items()):
            jobs.add_metric([pipeline, status], value)
        yield jobs

        events = CounterMetricFamily(
            "booktrack_events", "Other counted events (rate-limit refusals, budgets spent, alerts)", labels=["event"]
        )
        for event, value in sorted(tally.events.items()):
            events.add_metric([event], value)
        yield events


# Only the shared counters: per-process collectors (GC, process CPU) would describe whichever worker
# happened to answer the scrape, not the service.
prometheus_registry = CollectorRegistry(auto_describe=False)
prometheus_registry.register(SharedCountersCollector())


def prometheus_exposition(accept: str) -> tuple[bytes, str]:
    """The exposition in the format the scraper asked for (Prometheus text or OpenMetrics)."""
    encoder, content_type = choose_encoder(accept)
    return encoder(prometheus_registry), content_type
