"""Services that restart mid-job (issue 13 item 4): Redis, then PostgreSQL.

Each test runs its own copy of the service on a spare port (never the machine's shared Redis or
PostgreSQL, which other test runs use), and its own worker and server pointed at it:

- Redis (`--save "" --appendonly no`: it comes back empty) killed with SIGKILL and restarted while a
  batch runs: the job completes, a client that reconnects with `lastSeq` gets every event it missed
  (replay from the log), WebSocket handshakes after the restart succeed (no 500 from connections to
  the old Redis left in the pools), the rate limiter fails open and says so once.
- PostgreSQL (a private cluster: initdb + pg_ctl in a temp dir) restarted while a batch runs: the
  task retries with back-off and the job completes, keeping the books finished before the restart.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from websockets.exceptions import InvalidStatus

from tests.integration.conftest import ROOT, ServiceProcess, _worker_ready, free_port, start_uvicorn
from tests.integration.test_jobs_e2e import collect, logged, run, unique_books

pytestmark = pytest.mark.integration


class Client:
    """HTTP and WebSocket access to one server of the test's own."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.session = requests.Session()

    def http(self, method: str, path: str, *, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.request(
            method, f"http://127.0.0.1:{self.port}{path}", headers=headers, timeout=15, **kwargs
        )

    def ws_url(self, job_id: str, token: str, **params) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"jobId": job_id, "token": token, **params}.items())
        return f"ws://127.0.0.1:{self.port}/ws/progress?{query}"

    def start_batch(self, books: list[dict]) -> tuple[str, str]:
        job_id = str(uuid.uuid4())
        response = self.http("POST", "/v1/enrichment/batch", json={"jobId": job_id, "books": books})
        assert response.status_code == 202, response.text
        return job_id, response.json()["data"]["token"]

    def wait_status(self, job_id: str, token: str, status: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        state: dict = {}
        while time.monotonic() < deadline:
            try:
                response = self.http("GET", f"/api/job-state/{job_id}", token=token)
                if response.status_code == 200:
                    state = response.json()
                    assert state["status"] != "failed", state
                    if state["status"] == status:
                        return state
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"job never reached {status}; last: {state}")


# --- Redis ----------------------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*argv, "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "private redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def _log_dir(name: str) -> Path:
    """Process logs outside pytest's rotating tmp dirs (IT_KEEP_LOGS=1 keeps them)."""
    return Path(tempfile.mkdtemp(prefix=f"booktrack-it-{name}-"))


@pytest.fixture
def redis_stack(stack, fake_upstreams):
    tmp_path = _log_dir("redis")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    private = PrivateRedis(tmp_path)
    private.start()
    env = {
        **stack.env,
        "REDIS_URL": private.url,
        "CELERY_BROKER_KEY_PREFIX": f"restart-{uuid.uuid4().hex[:8]}:",
        "RATE_LIMIT_ENABLED": "true",
    }
    argv = [a.replace("it-", "it-redis-", 1) if a.startswith("it-") else a for a in stack.worker.argv]
    worker = server = None
    try:
        worker = ServiceProcess("worker-redis", argv, env, tmp_path, ready=_worker_ready).start(timeout=60)
        server, port = start_uvicorn("uvicorn-redis", env, tmp_path)
        yield private, Client(port), worker, server
    finally:
        for proc in (server, worker):
            if proc is not None:
                proc.stop()
        private.kill()
        if not os.environ.get("IT_KEEP_LOGS"):
            shutil.rmtree(tmp_path, ignore_errors=True)


def test_redis_killed_and_restarted_mid_job_the_job_completes_and_clients_resume(redis_stack, fake_upstreams):
    private, client, worker, server = redis_stack
    fake_upstreams.configure("all", latency_ms=250)
    job_id, token = client.start_batch(unique_books(30))
    first, code = run(collect(client.ws_url(job_id, token), stop=lambda m: m["seq"] >= 4, timeout=90))
    assert code is None
    last_seq = max(m["seq"] for m in logged(first))

    # A client stays connected through the outage (its server-side receive loop is on the dead Redis).
    listener = threading.Thread(target=lambda: run(collect(client.ws_url(job_id, token), timeout=120), 150))
    listener.start()
    time.sleep(0.5)
    private.kill()  # Redis gone: broker, channel layer, cache, rate-limit counters
    time.sleep(1.5)
    # The rate limiter fails open (and says so) instead of refusing or failing requests.
    for _ in range(3):
        refused = client.http("POST", "/api/token/refresh", json={"jobId": job_id, "oldToken": token})
        assert refused.status_code == 401, refused.text  # too early to refresh: the route itself answered
    private.start()  # back, empty: nothing kept on disk

    # Handshakes right after the restart: every one succeeds (the pools' connections to the old
    # Redis are dead; each must be replaced, not answered with a 500).
    for attempt in range(6):
        try:
            messages, code = run(collect(client.ws_url(job_id, token), stop=lambda m: True, timeout=90), timeout=30)
        except InvalidStatus as refused:
            pytest.fail(f"handshake {attempt} after the Redis restart refused: {refused.response.status_code}")
        assert messages, f"handshake {attempt}: nothing sent"

    client.wait_status(job_id, token, "complete", timeout=90)
    refused = client.http("POST", "/api/token/refresh", json={"jobId": job_id, "oldToken": token})
    assert refused.status_code == 401, refused.text
    second, code = run(collect(client.ws_url(job_id, token, lastSeq=last_seq, reconnect="true"), timeout=90))
    assert code == 1000
    assert second[0]["type"] == "reconnected" and second[0]["seq"] == last_seq
    combined = [m for m in logged(first) if m["seq"] <= last_seq] + logged(second)
    seqs = [m["seq"] for m in combined]
    assert seqs == list(range(1, len(seqs) + 1)), seqs  # nothing missed, nothing twice
    assert combined[-1]["type"] == "job_complete"
    assert combined[-1]["payload"]["summary"]["totalProcessed"] == 30

    server.stop()
    log = server.log_path.read_text(errors="replace")
    assert log.count("rate limiter: counter store unavailable") == 1, log[-3000:]
    assert "rate limiter: counter store back" in log


# --- PostgreSQL -----------------------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb) on a spare port, run as the `postgres` user when root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="booktrack-pg-"))
        self.data = self.directory / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.directory, "postgres")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/booktrack"

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "booktrack")

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "log"), "-o", options, "-w", *args
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")  # terminates every connection, as a real restart does

    def destroy(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def postgres_stack(stack, fake_upstreams):
    tmp_path = _log_dir("postgres")
    if _pg_bin("initdb") is None or _pg_bin("pg_ctl") is None:
        pytest.skip("initdb/pg_ctl not installed")
    private = PrivatePostgres()
    try:
        private.init()
    except (subprocess.CalledProcessError, OSError) as error:
        private.destroy()
        pytest.skip(f"could not start a private PostgreSQL: {error}")
    env = {**stack.env, "DATABASE_URL": private.url, "CELERY_BROKER_KEY_PREFIX": f"pgrestart-{uuid.uuid4().hex[:8]}:"}
    worker = server = None
    try:
        subprocess.run(
            [str(Path(stack.worker.argv[0]).parent / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=180,
        )
        argv = [a.replace("it-", "it-pg-", 1) if a.startswith("it-") else a for a in stack.worker.argv]
        worker = ServiceProcess("worker-pg", argv, env, tmp_path, ready=_worker_ready).start(timeout=60)
        server, port = start_uvicorn("uvicorn-pg", env, tmp_path)
        yield private, Client(port), worker
    finally:
        for proc in (server, worker):
            if proc is not None:
                proc.stop()
        private.destroy()
        if not os.environ.get("IT_KEEP_LOGS"):
            shutil.rmtree(tmp_path, ignore_errors=True)


def _items(private: PrivatePostgres, job_id: str) -> dict[int, str]:
    import psycopg

    with psycopg.connect(private.url, autocommit=True) as conn:
        rows = conn.execute("SELECT index, created_at FROM jobs_jobitem WHERE job_id = %s", (job_id,)).fetchall()
    return {index: created.isoformat() for index, created in rows}


def test_postgres_restarted_mid_job_the_batch_retries_and_keeps_its_finished_books(postgres_stack, fake_upstreams):
    private, client, worker = postgres_stack
    fake_upstreams.configure("all", latency_ms=200)
    books = unique_books(30)
    job_id, token = client.start_batch(books)
    deadline = time.monotonic() + 60
    while len(_items(private, job_id)) < 8:
        assert time.monotonic() < deadline, "the batch never reached 8 books"
        time.sleep(0.1)
    private.restart()
    restarted_at = time.monotonic()
    before = _items(private, job_id)
    assert 8 <= len(before) < 30
    state = client.wait_status(job_id, token, "complete", timeout=120)  # never "failed" on the way
    print(f"PostgreSQL restart: job complete {time.monotonic() - restarted_at:.1f} s after it")
    assert state["processedCount"] == 30
    after = _items(private, job_id)
    assert len(after) == 30
    assert all(after[index] == created for index, created in before.items())  # kept, not redone
    results = client.http("GET", f"/v1/enrichment/results/{job_id}", token=token).json()["data"]
    assert [b["title"] for b in results["books"]] == [b["title"] for b in books]
    assert worker.process.poll() is None
