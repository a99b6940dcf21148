"""Job tokens and API keys never reach a log line (issue 13, item 7)."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest
import requests

from booktrack.core.redaction import REDACTED, redact
from tests.servers import embedded_uvicorn

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok_" + "S3cr3tJobToken" * 2
API_KEY = "AIzaSyFAKE-google-key-0123456789"


@pytest.fixture
def log_stream():
    """A handler on the root logger, formatting as production does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_redact_replaces_token_and_key_parameters_only():
    line = f"GET /ws/progress?jobId=abc&token={TOKEN}&lastSeq=3 https://g/books?q=dune&key={API_KEY}&x=1"
    out = redact(line)
    assert TOKEN not in out and API_KEY not in out
    assert f"token={REDACTED}" in out and f"key={REDACTED}" in out
    assert "jobId=abc" in out and "lastSeq=3" in out and "q=dune" in out
    assert redact("monkey=1 isbn_key=2") == "monkey=1 isbn_key=2"


def test_the_access_log_record_is_redacted(log_stream):
    # The shape of uvicorn's access record: the path with its query is an argument.
    logging.getLogger("uvicorn.access").warning(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/v1/jobs/x?token={TOKEN}", "1.1", 200
    )
    text = log_stream.getvalue()
    assert "/v1/jobs/x?token=" in text
    assert TOKEN not in text


def test_an_upstream_url_with_an_api_key_in_a_traceback_is_redacted(log_stream):
    try:
        raise requests.ConnectionError(
            f"HTTPSConnectionPool(host='www.googleapis.com', port=443): Max retries exceeded with url: "
            f"/books/v1/volumes?q=dune&key={API_KEY}"
        )
    except requests.ConnectionError:
        logging.getLogger("search.providers").exception("google-books failed for %s", f"/volumes?key={API_KEY}")
    text = log_stream.getvalue()
    assert "Max retries exceeded" in text
    assert API_KEY not in text


def test_a_real_uvicorn_access_log_has_no_job_token(tmp_path):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with embedded_uvicorn(tmp_path, access_log=True, migrate=True) as base:
        requests.get(f"{base}/health/live?token={TOKEN}&key={API_KEY}", timeout=5)
        requests.get(f"{base}/v1/jobs/00000000-0000-0000-0000-000000000000?token={TOKEN}", timeout=5)
        ws_url = base.replace("http://", "ws://") + "/ws/progress?jobId=00000000-0000-0000-0000-000000000000"
        with pytest.raises(InvalidStatus):  # no such job: refused, and the handshake is logged
            connect(f"{ws_url}&token={TOKEN}", open_timeout=5)
        time.sleep(0.3)
    log = (tmp_path / "uvicorn.log").read_text()
    assert "/health/live?token=" in log  # the access log is on and wrote the line
    assert "/ws/progress?jobId=" in log  # and the WebSocket handshake's
    assert TOKEN not in log
    assert API_KEY not in log


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".env.*", ".git", ".venv", "var", "staticfiles"} <= ignored
    assert "!.env.example" in ignored


def test_compose_refuses_to_start_without_a_secret_key():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "${SECRET_KEY:?" in compose
    assert "change-me" not in compose


@pytest.mark.parametrize("key", ["", "dev-insecure-change-me", "change-me-in-production", "short"])
def test_production_settings_refuse_a_default_or_weak_secret_key(key):
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if k != "SECRET_KEY"},
        "DJANGO_SETTINGS_MODULE": "booktrack.settings.production",
        "SECRET_KEY": key,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_accept_a_real_secret_key():
    import os
    import secrets
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "booktrack.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
