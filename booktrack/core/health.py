"""Health checks with real I/O (database, cache, broker, storage) and the endpoint listing.

The route is public, so it is cheap to hit and tells an outsider nothing it should not (docs/security.md):
one process runs the checks at most once per `HEALTH_CACHE_SECONDS` (other hits get that report), the
storage check writes a file at most once per `HEALTH_STORAGE_CHECK_SECONDS`, a failing check shows its
name and `error` without the exception's text (that goes to the log), and the route is rate limited
per IP (scope `health`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    latency_ms: float
    detail: str

    def as_json(self) -> dict:
        return {"status": "ok" if self.ok else "error", "latencyMs": round(self.latency_ms, 1), "detail": self.detail}


logger = logging.getLogger(__name__)


def _timed(name: str, check: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception:  # a failing dependency is reported, not raised; its text goes to the log only
        logger.warning("health check %s failed", name, exc_info=True)
        detail, ok = "unavailable", False
    return CheckResult(ok, (time.perf_counter() - started) * 1000, detail)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _cache() -> str:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it stored")
    cache.delete(key)
    return type(cache).__name__


def _broker() -> str:
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        return "embedded (in-process worker)"
    from booktrack.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"


_storage_checked_at: float | None = None
_storage_lock = threading.Lock()


def _storage() -> str:
    """A write and a delete, at most once per `HEALTH_STORAGE_CHECK_SECONDS` per process (a success
    is remembered that long; a failure is retried on the next report)."""
    global _storage_checked_at
    backend = type(default_storage).__name__
    with _storage_lock:
        now = time.monotonic()
        if _storage_checked_at is not None and now - _storage_checked_at < settings.HEALTH_STORAGE_CHECK_SECONDS:
            return backend
        name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
        default_storage.delete(name)
        _storage_checked_at = now
    return backend


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "storage": _storage,
}


_report: tuple[float, bool, dict] | None = None
_report_lock = threading.Lock()


def health_report() -> tuple[bool, dict]:
    """(healthy, body), the checks run at most once per `HEALTH_CACHE_SECONDS` in this process."""
    global _report
    with _report_lock:  # one thread checks; the others wait for its report instead of checking too
        now = time.monotonic()
        if _report is not None and now - _report[0] < settings.HEALTH_CACHE_SECONDS:
            return _report[1], _report[2]
        healthy, body = _health_report_now()
        _report = (now, healthy, body)
        return healthy, body


def health_reset() -> None:
    """Forget the remembered report and storage check (tests)."""
    global _report, _storage_checked_at
    _report = None
    _storage_checked_at = None


def _health_report_now() -> tuple[bool, dict]:
    results = {name: _timed(name, check) for name, check in CHECKS.items()}
    healthy = all(r.ok for r in results.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "version": settings.APP_VERSION,
        "mode": "embedded" if settings.EMBEDDED else "service",
        "checks": {name: r.as_json() for name, r in results.items()},
        "endpoints": list_endpoints(),
    }
    return healthy, body


def list_endpoints() -> list[str]:
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                routes.append("/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return sorted({r for r in routes if not r.startswith("/admin/") and "(?P" not in r})
