"""A real uvicorn serving `booktrack.asgi:application` in embedded mode, for tests that need real sockets.

Embedded mode (no REDIS_URL, SQLite in a temporary DATA_DIR, no in-process worker), so no service is
needed; `env` overrides settings through the environment as a deployment would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def embedded_uvicorn(
    tmp_path: Path, env: dict[str, str] | None = None, *, migrate: bool = False, access_log: bool = False
):
    """Yields the base URL of a uvicorn subprocess (its output in `tmp_path / "uvicorn.log"`); stops it
    (SIGTERM, then SIGKILL) on exit."""
    port = free_port()
    full_env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "booktrack.settings",
        "DATA_DIR": str(tmp_path / "data"),
        "EMBEDDED_WORKER": "false",
        "SECRET_KEY": "embedded-uvicorn-test",
        "DEBUG": "false",
        **(env or {}),
    }
    if migrate:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=full_env, check=True
        )
    log_path = tmp_path / "uvicorn.log"
    argv = [
        str(VENV_BIN / "uvicorn"), "booktrack.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--lifespan", "off", "--log-level", "info" if access_log else "warning",
        "--access-log" if access_log else "--no-access-log", "--no-proxy-headers",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early:\n{log_path.read_text(errors='replace')[-4000:]}")
            try:
                if requests.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn not ready:\n{log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
