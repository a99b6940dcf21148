"""Known traffic through the real processes, exact counts back from /metrics in both formats.

Two uvicorn worker processes (a server of its own, with an OPS_TOKEN), the stack's Celery worker
process and the test process all record into the shared Redis counters. The figures are read as
deltas of the cumulative Prometheus counters around the traffic, and checked against what the local
upstream fakes themselves counted; the JSON report over the last hour (the Redis db is flushed when the
integration session starts, so it holds the same history) must say the same as the exposition.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import start_uvicorn

pytestmark = pytest.mark.integration

OPS_TOKEN = "metrics-exact-" + uuid.uuid4().hex[:8]
AUTH = {"Authorization": f"Bearer {OPS_TOKEN}"}


_server: dict = {}


@pytest.fixture(scope="module")
def ops_server(stack, tmp_path_factory):
    proc, port = start_uvicorn(
        "metrics", {**stack.env, "OPS_TOKEN": OPS_TOKEN}, tmp_path_factory.mktemp("m"), workers=2
    )
    _server["proc"] = proc
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def _accepted(response: requests.Response) -> dict:
    """The 202's data; any other answer fails with the server's log, so a failure says why."""
    assert response.status_code == 202, f"{response.text}\n--- server log:\n{_server['proc'].log()[-4000:]}"
    return response.json()["data"]


def _scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"{base}/metrics?format=prometheus", headers=AUTH, timeout=10).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _get(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _gemini_answer(columns: dict) -> dict:
    return {
        "candidates": [
            {"content": {"parts": [{"text": json.dumps({"hasHeaderRow": True, "columns": columns})}]}, "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 900, "candidatesTokenCount": 40, "thoughtsTokenCount": 10},
        "modelVersion": "gemini-2.5-flash",
    }


def _wait_complete(stack, job_id: str, token: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = stack.http("GET", f"/api/job-state/{job_id}", token=token).json()
        if state["status"] in ("complete", "failed", "canceled"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def test_known_traffic_across_processes_reads_back_exactly(stack, ops_server, running_worker, fake_upstreams):
    time.sleep(1.5)  # earlier tests' unflushed counters land before the first reading
    before = _scrape(ops_server)
    fake_upstreams.reset()  # the fakes count from the same instant as `before`

    # 7 liveness requests spread over the two server processes, 1 unknown route.
    for _ in range(7):
        assert requests.get(f"{ops_server}/health/live", timeout=10).status_code == 200
    assert requests.get(f"{ops_server}/no/such/route", timeout=10).status_code == 404
    # 1 batch job started by the server, run by the worker process.
    tag = uuid.uuid4().hex[:8]
    job_id = str(uuid.uuid4())
    books = [{"title": f"Metrics Book {tag} {i}", "author": "Nobody Known"} for i in range(2)]
    started = _accepted(
        requests.post(f"{ops_server}/v1/enrichment/batch", json={"jobId": job_id, "books": books}, timeout=30)
    )
    assert _wait_complete(stack, job_id, started["token"])["status"] == "complete"
    # 1 CSV of a layout no importer knows: the server asks Gemini (a scripted answer with known usage).
    fake_upstreams.queue("gemini", [{"status": 200, "body": _gemini_answer({"title": 0, "author": 1})}])
    csv = f"Livre {tag},Auteur {tag}\nDune,Frank Herbert\n".encode()
    csv_job = _accepted(
        requests.post(f"{ops_server}/api/import/csv-gemini", files={"file": ("x.csv", csv, "text/csv")}, timeout=30)
    )
    assert _wait_complete(stack, csv_job["jobId"], csv_job["token"])["status"] == "complete"

    def fake_counts() -> dict[str, int]:
        return {
            "google-books": fake_upstreams.count("google"),
            "openlibrary": fake_upstreams.count("openlibrary"),
            "isbndb": fake_upstreams.count("isbndb"),
            "wikidata": fake_upstreams.count("wikidata"),
            "gemini": fake_upstreams.count("gemini"),
        }

    # Read once the service is quiet: every process has flushed (once a second) and no upstream call
    # happened between the fakes' count and the scrape (background work after a job may still run).
    for _ in range(10):
        counted = fake_counts()
        time.sleep(1.5)
        after = _scrape(ops_server)
        if fake_counts() == counted:
            break

    def delta(name: str, **labels) -> float:
        return _get(after, name, **labels) - _get(before, name, **labels)

    requests_total = "booktrack_http_requests_total"
    assert delta(requests_total, route="health/live", method="GET", status="2xx") == 7
    assert delta(requests_total, route="unmatched", method="GET", status="4xx") == 1
    assert delta(requests_total, route="v1/enrichment/batch", method="POST", status="2xx") == 1
    assert delta(requests_total, route="api/import/csv-gemini", method="POST", status="2xx") == 1
    assert delta(requests_total, route="metrics", method="GET", status="2xx") == 1  # the first scrape
    for pipeline in ("batch_enrichment", "csv_import"):
        for status in ("queued", "started", "complete"):  # queued by a server process, the rest by the worker
            assert delta("booktrack_jobs_total", pipeline=pipeline, status=status) == 1, (pipeline, status)
    tokens = "booktrack_model_tokens_total"
    assert delta(tokens, model="gemini-2.5-flash", kind="prompt") == 900
    assert delta(tokens, model="gemini-2.5-flash", kind="output") == 50  # 40 + 10 thinking
    assert delta("booktrack_model_estimated_cost_usd_total", model="gemini-2.5-flash") == pytest.approx(
        (900 * 0.30 + 50 * 2.50) / 1e6
    )
    assert counted["google-books"] >= 2 and counted["gemini"] == 1
    for upstream, count in counted.items():
        if upstream != "gemini":  # the Gemini SDK has its own transport: counted as tokens, not calls
            assert delta("booktrack_provider_calls_total", provider=upstream) == count, upstream
    used_before = 1000 - _get(before, "booktrack_upstream_budget_remaining", upstream="google-books", window="day")
    used_after = 1000 - _get(after, "booktrack_upstream_budget_remaining", upstream="google-books", window="day")
    assert used_after - used_before == counted["google-books"]

    # The JSON report of the last hour says what the exposition says.
    report = requests.get(f"{ops_server}/metrics?period=1h", headers=AUTH, timeout=10).json()
    by_route = {(r["route"], r["method"]): r for r in report["requests"]["byRoute"]}
    assert by_route[("health/live", "GET")]["2xx"] == _get(
        after, requests_total, route="health/live", method="GET", status="2xx"
    )
    for pipeline, statuses in report["jobs"].items():
        for status, count in statuses.items():
            assert count == _get(after, "booktrack_jobs_total", pipeline=pipeline, status=status)
    for upstream, figures in report["providers"].items():
        assert figures["calls"] == _get(after, "booktrack_provider_calls_total", provider=upstream), upstream
    model = report["models"]["gemini-2.5-flash"]
    assert model["promptTokens"] == _get(after, tokens, model="gemini-2.5-flash", kind="prompt")
    google = report["budgets"]["google-books"]
    assert google["limit"] == 1000 and google["used"] >= used_after
