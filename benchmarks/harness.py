"""Benchmark processes: a PostgreSQL database, Redis, the fakes, the ASGI server and Celery workers.

Benchmarks run the production server configuration (service mode: uvicorn workers on PostgreSQL and
Redis, `booktrack.settings.production` with TLS redirects off for loopback).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PG_DSN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")


def section(lines: list[str]) -> list[str]:
    """A scenario's Markdown section: shown as it is measured, returned for docs/benchmarks.md."""
    print("\n".join(lines), flush=True)
    return lines


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def create_database(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG_DSN}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_DSN}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_DSN}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()


def service_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "booktrack.settings.production",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS,
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_ENABLED": "false",
            "OPS_TOKEN": "bench-ops-token",
            "ISBNDB_API_KEY": "bench-key",
            "GEMINI_API_KEY": "bench-key",
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def fakes_env(base_env: dict[str, str]):
    """The local upstream fakes, started in this process, and `base_env` pointed at them.

    The default outbound budgets (OpenLibrary 3 req/s, ISBNdb 1 req/s, Google's daily quota) would
    pace the fakes rather than measure the service, so they are lifted. Broker keys get a private
    prefix, so no stray worker of another run takes these tasks.
    """
    import uuid

    from tests.fakes.server import FakeUpstreams

    fake = FakeUpstreams(port=0)
    fake.start()
    env = {
        **base_env,
        **fake.base_urls,
        "SEARCH_OPENLIBRARY_RPS": "100000",
        "SEARCH_ISBNDB_RPS": "100000",
        "SEARCH_GOOGLE_BOOKS_DAILY_QUOTA": "10000000",
        "CELERY_BROKER_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:",
    }
    try:
        yield fake, env
    finally:
        fake.stop()


def migrate(env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


@contextmanager
def server(
    env: dict[str, str], *, workers: int = 2, app: str = "booktrack.asgi:application", pid_out: list[int] | None = None
):
    """uvicorn serving `app` (the project's ASGI application unless an A/B row says otherwise).

    `pid_out` receives the server's process id (its workers are its children: memory figures)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--lifespan",
            "off",
            "--no-proxy-headers",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    if pid_out is not None:
        pid_out.append(proc.pid)
    try:
        wait_http(f"{base}/health/live")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def celery_worker(env: dict[str, str], *, concurrency: int = 8, queues: str = "default,providers,ai,maintenance"):
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "booktrack",
            "worker",
            "-Q",
            queues,
            "--pool",
            "threads",
            "-c",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(3)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
