"""Cover harvest end to end: the route starts a run on the real worker (maintenance queue), the
covers land in storage and are served at `/covers/{isbn13}` and named by search answers; and the same
harvest with STORAGES on S3 (django-storages' boto3 backend against a real moto_server process)."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import pytest
import requests
from PIL import Image

from tests.integration.conftest import OPS_TOKEN, ROOT, start_uvicorn

pytestmark = pytest.mark.integration

DUNE = "9780441172719"


def wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def search_into_catalog(stack, isbn: str) -> None:
    """An ISBN search: the worker writes the book to the catalog (the harvest's demand)."""
    assert stack.http("GET", "/v1/search/isbn", params={"isbn": isbn}).status_code == 200
    wait_for(
        lambda: stack.sql("SELECT 1 FROM search_edition WHERE isbn13 = %s", (isbn,)),
        timeout=30,
        what=f"{isbn} in the catalog",
    )


def stored_covers(stack, run_id: str) -> list[tuple[str, int]]:
    """(isbn13, bytes of the small size) of the covers a run stored."""
    rows = stack.sql(
        "SELECT isbn13, variants->'small'->>'bytes' FROM harvest_cover WHERE status = 'stored' AND run_id = %s",
        (run_id,),
    )
    return [(isbn, int(size)) for isbn, size in rows]


def test_a_harvest_started_by_the_route_runs_on_the_worker_and_is_served(stack, running_worker, fake_upstreams):
    # Other tests of the session filled the catalog and ran imports too: all of it is demand, so the
    # checks below follow whatever this run stored (Dune is in demand for sure).
    search_into_catalog(stack, DUNE)
    assert stack.http("POST", "/api/harvest-covers", json={}).status_code == 401
    started = stack.http("POST", "/api/harvest-covers", json={"limit": 10}, token=OPS_TOKEN)
    assert started.status_code == 202, started.text
    run_id = started.json()["data"]["runId"]

    def finished():
        data = stack.http("GET", f"/api/harvest-covers/{run_id}", token=OPS_TOKEN).json()["data"]
        return data if data["status"] in ("complete", "failed") else None

    run = wait_for(finished, timeout=120, what="the harvest run")
    assert run["status"] == "complete", run
    assert run["tried"] <= 10 and run["stored"] >= 1 and run["bytesStored"] > 0, run
    assert run["budget"]["used"] >= 2 * run["stored"]
    stored = stored_covers(stack, run_id)
    assert len(stored) == run["stored"]
    isbn, small_bytes = stored[0]
    small = stack.http("GET", f"/covers/{isbn}", params={"size": "small"})
    assert small.status_code == 200 and small.headers["Content-Type"] == "image/jpeg"
    assert len(small.content) == small_bytes and max(Image.open(io.BytesIO(small.content)).size) <= 128
    etag = {"If-None-Match": small.headers["ETag"]}
    assert stack.http("GET", f"/covers/{isbn}", params={"size": "small"}, headers=etag).status_code == 304

    # The server process learns of the worker's covers (shared version key) and names them in answers.
    def cover_in_answer():
        data = stack.http("GET", "/v1/search/isbn", params={"isbn": isbn}).json()["data"]
        return any(e.get("coverImageURL") == f"/covers/{isbn}?size=large" for e in data["editions"])

    wait_for(cover_in_answer, timeout=15, what="the harvested cover in the search answer")


def test_a_harvest_into_s3_is_served_from_s3(stack, s3_server, fake_upstreams, tmp_path):
    search_into_catalog(stack, DUNE)
    stack.sql("DELETE FROM harvest_cover")  # covers harvested elsewhere in the session are harvested again
    bucket = s3_server.create_bucket()
    env = {**stack.env, **s3_server.env(bucket), "HARVEST_DAILY_BUDGET": "5000"}
    harvested = subprocess.run(
        [sys.executable, "manage.py", "harvest_covers", "--limit", "10", "--no-progress"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert harvested.returncode == 0, harvested.stderr[-3000:]
    assert "complete" in harvested.stdout, harvested.stdout
    run_id = stack.sql("SELECT id FROM harvest_harvestrun WHERE trigger = 'command' ORDER BY created_at DESC")[0][0]
    stored = stored_covers(stack, str(run_id))
    assert stored, harvested.stdout

    s3 = s3_server.client()
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    wanted = {f"covers/{isbn[-3:]}/{isbn}-{size}.jpg" for isbn, _ in stored for size in ("small", "medium", "large")}
    assert wanted == keys
    isbn, small_bytes = stored[0]
    stored_small = s3.get_object(Bucket=bucket, Key=f"covers/{isbn[-3:]}/{isbn}-small.jpg")["Body"].read()
    assert len(stored_small) == small_bytes

    server, port = start_uvicorn("uvicorn-s3", env, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        served = requests.get(f"{base}/covers/{isbn}", params={"size": "small"}, timeout=10)
        assert served.status_code == 200 and served.content == stored_small
        assert max(Image.open(io.BytesIO(served.content)).size) <= 128
        # Gone from the bucket: 404 JSON, not a 500.
        s3.delete_object(Bucket=bucket, Key=f"covers/{isbn[-3:]}/{isbn}-medium.jpg")
        gone = requests.get(f"{base}/covers/{isbn}", params={"size": "medium"}, timeout=10)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "NOT_FOUND"
        storage = requests.get(f"{base}/health", timeout=10).json()["checks"]["storage"]
        assert storage["status"] == "ok", storage  # a real write and delete, in the bucket
    finally:
        server.stop()
