"""Health checks with real I/O (database, cache, broker, storage) and the endpoint listing."""

from __future__ import annotations

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


def _timed(check: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a failing dependency is reported, not raised
        detail, ok = f"{type(exc).__name__}: {exc}"[:200], False
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


def _storage() -> str:
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)
    return type(default_storage).__name__


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "storage": _storage,
}


def health_report() -> tuple[bool, dict]:
    results = {name: _timed(check) for name, check in CHECKS.items()}
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
