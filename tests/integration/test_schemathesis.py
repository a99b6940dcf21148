"""schemathesis over docs/openapi.yaml against a real server: zero server errors (issue 13, item 8).

A real uvicorn in embedded mode (its own SQLite database, migrated; the local upstream fakes; rate
limits off; the ops token sent, so ops routes are fuzzed too) and the schemathesis CLI on a bounded
budget: `SCHEMATHESIS_MAX_EXAMPLES` cases per operation (default 25), a fixed seed so a failure
reproduces, `not_a_server_error` as the check. Every 5xx it finds fails the test with schemathesis's
own report (the request to replay is in it).

The fakes answer every upstream and the outbound budgets are lifted (they exist for the real
upstreams), so any 5xx is a fault of ours: none is excluded.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import embedded_uvicorn

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "13"))


@pytest.mark.timeout(900)
def test_schemathesis_finds_no_server_error(tmp_path):
    from tests.fakes.server import FakeUpstreams

    ops_token = secrets.token_urlsafe(24)
    fake = FakeUpstreams(port=0).start()
    env = {
        **fake.base_urls,
        "RATE_LIMIT_ENABLED": "false",
        "ISBNDB_API_KEY": "fake",
        "GEMINI_API_KEY": "fake",
        "OPS_TOKEN": ops_token,
        # The outbound budgets protect the real upstreams (ISBNdb 1 req/s, Google's daily quota); the
        # fakes need no protection, and a budget 503 under fuzzing load is the budget, not a fault.
        "SEARCH_ISBNDB_RPS": "100000",
        "SEARCH_OPENLIBRARY_RPS": "100000",
        "SEARCH_GOOGLE_BOOKS_DAILY_QUOTA": "100000000",
    }
    reports = []
    try:
        with embedded_uvicorn(tmp_path, env, migrate=True) as base:
            # Two runs: the coverage phase on one worker (hypothesis describes its filters with
            # ast.parse, which CPython 3.11 cannot run in several threads at once), fuzzing on four.
            for phases, workers in (("examples,coverage", 1), ("fuzzing", 4)):
                result = subprocess.run(
                    [
                        str(Path(sys.executable).parent / "schemathesis"), "run", str(ROOT / "docs" / "openapi.yaml"),
                        "--url", base,
                        "--checks", "not_a_server_error",
                        "--max-examples", str(MAX_EXAMPLES),
                        "--seed", str(SEED),
                        "--workers", str(workers),
                        "--phases", phases,
                        "--request-timeout", "30",
                        "--header", f"Authorization: Bearer {ops_token}",
                        "--suppress-health-check", "all",
                        "--generation-database", "none",
                        "--no-color",
                    ],
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=420,
                )  # fmt: skip
                reports.append((phases, result))
    finally:
        fake.stop()
    server_log = (tmp_path / "uvicorn.log").read_text(errors="replace")
    for phases, result in reports:
        report = result.stdout[-12000:] + result.stderr[-3000:]
        print(f"--- schemathesis {phases}\n{report}")
        assert result.returncode == 0, report
        assert " passed" in report and "generated" in report
    for marker in ("Internal Server Error", "Unhandled error"):
        assert marker not in server_log, server_log[-6000:]
