"""Jobs end to end: HTTP -> Celery worker process -> Redis channel layer -> uvicorn -> WebSocket client."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytestmark = pytest.mark.integration


def run(coro, timeout: float = 90):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def unique_books(count: int, tag: str | None = None) -> list[dict]:
    # Unique titles: every book misses the caches and really goes to the (slow) fake upstreams.
    tag = tag or uuid.uuid4().hex[:8]
    return [{"title": f"Integration Book {tag} {i}", "author": "Nobody Known"} for i in range(count)]


def start_batch(stack, books: list[dict]) -> tuple[str, str]:
    job_id = str(uuid.uuid4())
    response = stack.http("POST", "/v1/enrichment/batch", json={"jobId": job_id, "books": books})
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    assert data["totalCount"] == len(books) and data["processedCount"] == 0
    return job_id, data["token"]


def wait_state(stack, job_id, token, predicate, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        state = stack.http("GET", f"/api/job-state/{job_id}", token=token).json()
        if predicate(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job state never matched; last: {state}")


async def collect(url, *, stop=None, subprotocols=None, timeout=60.0, send=()):
    """Messages until the server closes (or `stop(msg)` is true) and the close code (None if we left)."""
    messages: list[dict] = []
    code = None
    async with connect(url, subprotocols=subprotocols, open_timeout=10) as ws:
        for frame in send:
            await ws.send(json.dumps(frame))
        try:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                messages.append(message)
                if stop is not None and stop(message):
                    break
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
    return messages, code


def logged(messages):
    """The logged events (ephemeral frames repeat a seq; they carry no new information)."""
    return [
        m
        for m in messages
        if m["type"] not in ("ready_ack", "pong", "reconnected") and not m["payload"].get("keepAlive")
    ]


def assert_contiguous(messages):
    seqs = [m["seq"] for m in logged(messages)]
    assert seqs == list(range(1, len(seqs) + 1)), seqs


def test_http_start_reaches_worker_and_socket_through_redis(stack, running_worker, fake_upstreams):
    fake_upstreams.configure("all", latency_ms=150)
    books = unique_books(10)
    job_id, token = start_batch(stack, books)
    protocol = f"bookstrack-auth.{token}"
    messages, code = run(
        collect(stack.ws_url(job_id), subprotocols=[protocol], send=[{"type": "ready"}, {"type": "ping"}])
    )
    assert code == 1000
    types = [m["type"] for m in messages]
    assert "ready_ack" in types and "pong" in types
    events = logged(messages)
    assert_contiguous(messages)
    assert events[0]["type"] == "job_started" and events[-1]["type"] == "job_complete"
    progress = [m["payload"]["progress"] for m in events if m["type"] == "job_progress"]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert all(isinstance(m["payload"]["currentItem"], str) for m in events if m["type"] == "job_progress")
    complete = events[-1]
    assert complete["jobId"] == job_id and complete["pipeline"] == "batch_enrichment" and complete["version"] == "1.0.0"
    assert complete["payload"]["resultsUrl"] == f"/v1/enrichment/results/{job_id}"
    assert complete["payload"]["summary"]["totalProcessed"] == 10
    assert len(json.dumps(complete["payload"])) < 1024
    assert fake_upstreams.count() > 0  # the worker really called the upstreams
    results = stack.http("GET", f"/v1/enrichment/results/{job_id}", token=token).json()["data"]
    assert [b["title"] for b in results["books"]] == [b["title"] for b in books]


def test_client_connecting_after_finish_gets_every_event_and_close(stack, running_worker, fake_upstreams):
    job_id, token = start_batch(stack, unique_books(3))
    state = wait_state(stack, job_id, token, lambda s: s["status"] == "complete")
    assert state["resultsUrl"] == f"/v1/enrichment/results/{job_id}" and state["processedCount"] == 3
    messages, code = run(collect(stack.ws_url(job_id, token)))
    assert code == 1000
    assert_contiguous(messages)
    assert [m["type"] for m in messages] == ["job_started"] + ["job_progress"] * 3 + ["job_complete"]


def test_disconnect_and_resume_with_last_seq_has_no_gaps_or_duplicates(stack, running_worker, fake_upstreams):
    fake_upstreams.configure("all", latency_ms=250)
    job_id, token = start_batch(stack, unique_books(16))
    first, code = run(collect(stack.ws_url(job_id, token), stop=lambda m: m["seq"] >= 3))
    assert code is None  # we left mid-job
    last_seq = first[-1]["seq"]
    time.sleep(0.6)  # events keep coming while nobody listens
    second, code = run(collect(stack.ws_url(job_id, token, lastSeq=last_seq, reconnect="true")))
    assert code == 1000
    assert second[0]["type"] == "reconnected" and second[0]["seq"] == last_seq
    assert second[0]["payload"]["status"] in ("running", "complete")
    combined = logged(first) + logged(second)
    seqs = [m["seq"] for m in combined]
    assert seqs == list(range(1, len(seqs) + 1))
    assert combined[-1]["type"] == "job_complete"


def test_cancel_mid_job_freezes_progress_and_closes_1001(stack, running_worker, fake_upstreams):
    fake_upstreams.configure("all", latency_ms=400)
    books = unique_books(30)
    job_id, token = start_batch(stack, books)

    async def scenario():
        messages = []
        async with connect(stack.ws_url(job_id, token), open_timeout=10) as ws:
            canceled = False
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    messages.append(message)
                    if not canceled and message["type"] == "job_progress" and message["payload"]["processedCount"] >= 2:
                        response = await asyncio.to_thread(
                            stack.http, "POST", "/api/enrichment/cancel", json={"jobId": job_id}, token=token
                        )
                        assert response.status_code == 200 and response.json() == {
                            "jobId": job_id,
                            "status": "canceled",
                        }
                        canceled = True
            except ConnectionClosed as closed:
                return messages, closed.rcvd.code

    messages, code = run(scenario())
    assert code == 1001
    assert messages[-1]["payload"]["status"] == "canceled" and messages[-1]["payload"]["canceled"] is True
    assert_contiguous(messages)
    frozen = messages[-1]["payload"]["processedCount"]
    state = stack.http("GET", f"/api/job-state/{job_id}", token=token).json()
    assert state["status"] == "canceled" and state["processedCount"] == frozen
    calls_after_cancel = fake_upstreams.count()
    time.sleep(1.5)
    later = stack.http("GET", f"/api/job-state/{job_id}", token=token).json()
    assert later["processedCount"] == frozen and later["status"] == "canceled"
    # in-flight books may finish, but no new book is started after the cancel
    assert fake_upstreams.count() - calls_after_cancel <= 8 * 3
    results = wait_results(stack, job_id, token)
    assert len(results["books"]) == 30 and results["canceled"] is True
    assert any(book["error"].startswith("Canceled") for book in results["books"] if not book["success"])
    again = stack.http("POST", "/api/enrichment/cancel", json={"jobId": job_id, "token": token})
    assert again.status_code == 409


def wait_results(stack, job_id, token, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = stack.http("GET", f"/v1/enrichment/results/{job_id}", token=token)
        if response.status_code == 200:
            return response.json()["data"]
        time.sleep(0.2)
    raise AssertionError("results never appeared")


def test_wrong_token_is_refused_on_socket_and_routes(stack, running_worker, fake_upstreams):
    job_id, token = start_batch(stack, unique_books(1))

    async def refused(url, subprotocols=None):
        try:
            async with connect(url, subprotocols=subprotocols, open_timeout=10) as ws:
                await ws.recv()
        except InvalidStatus as error:
            return error.response.status_code
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    assert run(refused(stack.ws_url(job_id, "wrong-token"))) == 401
    assert run(refused(stack.ws_url(job_id), subprotocols=["bookstrack-auth.wrong"])) == 401
    assert run(refused(f"ws://127.0.0.1:{stack.port}/ws/progress?token={token}")) == 400
    assert stack.http("GET", f"/api/job-state/{job_id}", token="wrong").status_code == 401
    assert stack.http("GET", f"/api/job-state/{job_id}").status_code == 401
    assert stack.http("GET", f"/v1/enrichment/results/{job_id}", token="wrong").status_code == 401
    assert stack.http("GET", "/ws/progress").status_code == 426


def test_token_refresh_window(stack, running_worker, fake_upstreams):
    job_id, token = start_batch(stack, unique_books(1))
    early = stack.http("POST", "/api/token/refresh", json={"jobId": job_id, "oldToken": token})
    assert early.status_code == 401 and early.json()["error"]["code"] == "UNAUTHORIZED"
    stack.sql("UPDATE jobs_job SET token_expires_at = now() + interval '10 minutes' WHERE id = %s", (job_id,))
    refreshed = stack.http("POST", "/api/token/refresh", json={"jobId": job_id, "oldToken": token})
    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["expiresIn"] == 7200 and body["token"] != token
    assert stack.http("GET", f"/api/job-state/{job_id}", token=token).status_code == 401
    assert stack.http("GET", f"/api/job-state/{job_id}", token=body["token"]).status_code == 200
    messages, code = run(collect(stack.ws_url(job_id, body["token"])))
    assert code == 1000 and messages[-1]["type"] == "job_complete"


def test_worker_sigkill_mid_batch_resumes_without_losing_or_repeating_books(stack, running_worker, fake_upstreams):
    fake_upstreams.configure("all", latency_ms=500)
    books = unique_books(40)
    job_id, token = start_batch(stack, books)

    done_at_kill = stack.kill_worker_after_items(job_id, at_least=6, timeout=30)
    assert 6 <= done_at_kill < 40
    time.sleep(0.7)
    assert stack.items_done(job_id) == done_at_kill  # nothing runs while the worker is dead
    assert stack.restore_unacked() >= 1
    stack.worker.start(timeout=60)
    state = wait_state(stack, job_id, token, lambda s: s["status"] == "complete", timeout=60)
    assert state["processedCount"] == 40
    results = stack.http("GET", f"/v1/enrichment/results/{job_id}", token=token).json()["data"]
    assert [b["title"] for b in results["books"]] == [b["title"] for b in books]  # none lost, none twice
    assert stack.items_done(job_id) == 40
    rows = stack.sql("SELECT type, seq FROM jobs_jobevent WHERE job_id = %s ORDER BY seq", (job_id,))
    assert [seq for _, seq in rows] == list(range(1, len(rows) + 1))
    assert [t for t, _ in rows].count("job_started") == 1 and [t for t, _ in rows].count("job_complete") == 1
    messages, code = run(collect(stack.ws_url(job_id, token)))
    assert code == 1000 and len(logged(messages)) == len(rows)


def test_upper_case_job_id_as_swift_sends_it_and_results_without_a_token(stack, running_worker, fake_upstreams):
    """What the shipped iOS app does: `UUID().uuidString` (upper-case) as jobId, results with no token."""
    job_id = str(uuid.uuid4()).upper()
    books = unique_books(2)
    response = stack.http("POST", "/v1/enrichment/batch", json={"jobId": job_id, "books": books})
    assert response.status_code == 202 and response.json()["data"]["jobId"] == job_id
    token = response.json()["data"]["token"]
    messages, code = run(collect(stack.ws_url(job_id, token)))
    assert code == 1000 and all(m["jobId"] == job_id for m in messages)
    state = stack.http("GET", f"/api/job-state/{job_id}", token=token).json()
    assert state["jobId"] == job_id and state["status"] == "complete"
    assert state["resultsUrl"] == f"/v1/enrichment/results/{job_id}"
    results = stack.http("GET", state["resultsUrl"])  # no Authorization header, as the apps send it
    assert results.status_code == 200
    assert [b["title"] for b in results.json()["data"]["books"]] == [b["title"] for b in books]
    assert stack.http("GET", state["resultsUrl"], token="wrong").status_code == 401
