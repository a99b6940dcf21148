"""The integration harness: the real pieces, end to end.

One session builds: a fresh PostgreSQL database (`booktrack_it_<random>`, migrated by
`manage.py migrate` in a subprocess, dropped at the end), a dedicated Redis db (flushed before and
after), the local upstream fakes (`tests.fakes.server.FakeUpstreams`, in this process), a real Celery
worker subprocess and a real uvicorn subprocess serving `booktrack.asgi:application`, both in service
mode (`DATABASE_URL`, `REDIS_URL`, `DJANGO_SETTINGS_MODULE=booktrack.settings`, upstream base URLs
pointing at the fakes).

Use the `stack` fixture (session-scoped, `Stack`): `stack.http(...)`, `stack.ws_url(...)`,
`stack.fake`, `stack.worker.kill()` / `.start()`, `stack.sql(...)`. Mark tests
`@pytest.mark.integration`. Missing PostgreSQL/Redis -> skip, or fail when CI=true.

Knobs (env): IT_PG_DSN (default postgres://postgres@127.0.0.1:5432/postgres),
IT_REDIS_URL (default redis://127.0.0.1:6379/13), IT_KEEP_LOGS=1 keeps the process logs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PG_DSN = os.environ.get("IT_PG_DSN", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("IT_REDIS_URL", "redis://127.0.0.1:6379/13")
OPS_TOKEN = "integration-ops-" + secrets.token_hex(8)  # the stack's `Authorization: Bearer` for ops routes


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"integration prerequisite missing: {reason}", pytrace=False)
    pytest.skip(f"integration prerequisite missing: {reason}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_db(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@dataclass
class ServiceProcess:
    """A subprocess with a log file, restartable, killable with any signal."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    ready: callable = None  # () -> bool
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.{self.starts}.log"

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        self.starts += 1
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
            if self.ready is None or self.ready(self):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)  # our own process group (start_new_session)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when pytest dies, so no stray worker outlives a killed run."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_uvicorn(name: str, env: dict[str, str], log_dir: Path, *, workers: int = 1) -> tuple[ServiceProcess, int]:
    """A real uvicorn serving `booktrack.asgi:application` on a free port, started and answering."""
    port = free_port()
    argv = [
        str(VENV_BIN / "uvicorn"), "booktrack.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--lifespan", "off", "--log-level", "warning", "--no-access-log",
        "--no-proxy-headers",
    ]  # fmt: skip

    def ready(_proc) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    return ServiceProcess(name, argv, env, log_dir, ready=ready).start(timeout=60), port


def _worker_ready(proc: ServiceProcess) -> bool:
    # The worker's own "ready." line is below the project's celery log level: ask it over the broker.
    from celery import Celery

    probe = Celery(
        broker=proc.env["REDIS_URL"],
        broker_transport_options={"global_keyprefix": proc.env["CELERY_BROKER_KEY_PREFIX"]},
    )
    try:
        replies = probe.control.ping(timeout=0.5)
    finally:
        probe.close()
    name = next(arg for arg in proc.argv if arg.startswith("it-")).split("@")[0]
    return any(name in node for reply in replies for node in reply)


@dataclass
class Stack:
    base_url: str
    port: int
    env: dict[str, str]
    db_url: str
    redis_url: str
    fake: object
    worker: ServiceProcess
    server: ServiceProcess
    session: requests.Session = field(default_factory=requests.Session)

    def http(self, method: str, path: str, *, token: str | None = None, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base_url + path, headers=headers, timeout=15, **kwargs)

    def ws_url(self, job_id, token: str | None = None, **params) -> str:
        query = {"jobId": str(job_id), **({"token": token} if token else {}), **params}
        return f"ws://127.0.0.1:{self.port}/ws/progress?" + "&".join(
            f"{k}={v}" for k, v in query.items() if v is not None
        )

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description is not None else []

    def items_done(self, job_id: str) -> int:
        """How many of a job's items are recorded as finished (JobItem rows)."""
        return self.sql("SELECT count(*) FROM jobs_jobitem WHERE job_id = %s", (job_id,))[0][0]

    def kill_worker_after_items(self, job_id: str, *, at_least: int, timeout: float) -> int:
        """Wait until the job has `at_least` finished items, SIGKILL the worker, return the count then."""
        deadline = time.monotonic() + timeout
        while self.items_done(job_id) < at_least:
            assert time.monotonic() < deadline, f"the worker never reached {at_least} items of job {job_id}"
            time.sleep(0.1)
        self.worker.kill()  # SIGKILL: no shutdown, the acks-late message stays unacknowledged
        return self.items_done(job_id)

    def restore_unacked(self) -> int:
        """Make the broker redeliver unacknowledged messages now.

        After a worker dies holding an acks-late message, Redis redelivers it once the transport's
        visibility timeout (CELERY_VISIBILITY_TIMEOUT) has passed. This does what that timeout does, at once.
        """
        from kombu import Connection

        options = {"visibility_timeout": 0, "global_keyprefix": self.env["CELERY_BROKER_KEY_PREFIX"]}
        with Connection(self.redis_url, transport_options=options) as conn:
            channel = conn.default_channel
            # ZCARD is not among the commands kombu's prefixed client rewrites: prefix it here.
            before = channel.client.zcard(channel.global_keyprefix + channel.unacked_index_key)
            channel.qos.restore_visible(num=1000)
            return before


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    try:
        import psycopg
        import redis
    except ImportError as exc:  # pragma: no cover
        _unavailable(str(exc))
    try:
        admin = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)
    except Exception as exc:
        _unavailable(f"PostgreSQL at {PG_DSN}: {exc}")
    try:
        redis_client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        redis_client.ping()
    except Exception as exc:
        admin.close()
        _unavailable(f"Redis at {REDIS_URL}: {exc}")

    from tests.fakes.server import FakeUpstreams

    db_name = f"booktrack_it_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{db_name}"')
    redis_client.flushdb()
    log_dir = Path(tempfile.mkdtemp(prefix="booktrack-it-"))
    fake = FakeUpstreams(port=0).start()
    db_url = _with_db(PG_DSN, db_name)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        **fake.base_urls,
        "DJANGO_SETTINGS_MODULE": "booktrack.settings",
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        # Private broker keys: a stray worker from an earlier, killed run can never take our tasks.
        "CELERY_BROKER_KEY_PREFIX": f"{db_name}:",
        "SECRET_KEY": "integration-" + secrets.token_hex(8),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATA_DIR": str(log_dir / "data"),
        "RATE_LIMIT_ENABLED": "false",
        "ISBNDB_API_KEY": "integration-key",
        "GEMINI_API_KEY": "integration-key",
        "OPS_TOKEN": OPS_TOKEN,
        "HARVEST_COVERS_REFRESH_SECONDS": "1",  # the server sees covers the worker harvested within 1 s
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
    }
    worker = server = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=180
        )
        worker = ServiceProcess(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "booktrack",
                "worker",
                "-Q",
                "default,providers,ai,maintenance",
                "--pool",
                "threads",
                "-c",
                "4",
                "--loglevel",
                "INFO",
                "-n",
                f"it-{db_name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
            log_dir,
            ready=_worker_ready,
        ).start(timeout=60)

        server, port = start_uvicorn("uvicorn", env, log_dir)
        yield Stack(
            base_url=f"http://127.0.0.1:{port}",
            port=port,
            env=env,
            db_url=db_url,
            redis_url=REDIS_URL,
            fake=fake,
            worker=worker,
            server=server,
        )
    finally:
        for proc in (server, worker):
            if proc is not None:
                proc.stop()
        fake.stop()
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.close()
        redis_client.flushdb()
        if os.environ.get("IT_KEEP_LOGS"):
            print(f"integration logs kept in {log_dir}")
        else:
            shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture
def fake_upstreams(stack):
    """The shared fakes, reset around each test (latency, faults, counters)."""
    stack.fake.reset()
    yield stack.fake
    stack.fake.reset()


@pytest.fixture
def running_worker(stack):
    """The worker, (re)started if a previous test killed it."""
    if stack.worker.process is None or stack.worker.process.poll() is not None:
        stack.worker.start(timeout=60)
    return stack.worker


# --- a local S3 (moto_server) ---------------------------------------------------------------------


@dataclass
class S3Server:
    """A real moto S3 server process; `env(bucket)` is what points the app's storage at a bucket of it."""

    endpoint_url: str
    process: ServiceProcess

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="moto",
            aws_secret_access_key="moto",
        )

    def create_bucket(self, prefix: str = "booktrack-it") -> str:
        name = f"{prefix}-{secrets.token_hex(4)}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "moto",
            "AWS_SECRET_ACCESS_KEY": "moto",
            "AWS_S3_ADDRESSING_STYLE": "path",
        }


@pytest.fixture(scope="session")
def s3_server():
    """`moto_server` (moto[server], a dev dependency) on a free port, for django-storages' S3 backend."""
    executable = VENV_BIN / "moto_server"
    if not executable.exists():
        _unavailable(f"{executable} (pip install 'moto[server]')")
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="booktrack-moto-"))

    def ready(_proc) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1).status_code < 500
        except requests.RequestException:
            return False

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = ServiceProcess(
        "moto", [str(executable), "-H", "127.0.0.1", "-p", str(port)], env, log_dir, ready=ready
    ).start(timeout=60)
    try:
        yield S3Server(endpoint_url=f"http://127.0.0.1:{port}", process=process)
    finally:
        process.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
