"""A job whose worker died resumes within 60 s, every book exactly once (issue 13 item 3; jobs.leases).

Service mode: the whole worker is SIGKILLed mid-batch and a new one started 2 s later. Nothing forces
the broker to redeliver (before leases, Redis redelivered after its 30-minute visibility timeout and
the job sat at `running` until then): the lease the dead worker held lapses, the new worker's lease
check sends the job again, and the new run resumes from the stored items.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter

import pytest

from tests.integration.conftest import ServiceProcess, _worker_ready, start_uvicorn
from tests.integration.test_jobs_e2e import collect as ws_collect
from tests.integration.test_jobs_e2e import logged, run, unique_books

pytestmark = pytest.mark.integration

RESUME_WITHIN = 60.0
BOOKS = 40


def _title_calls(fake, titles: list[str]) -> Counter:
    """Open Library searches per requested title (a book's lookup searches by its title)."""
    counts: Counter = Counter()
    for request in fake.requests("openlibrary"):
        text = " ".join(v for values in request["query"].values() for v in values)
        for title in titles:
            if re.search(re.escape(title) + r"(?!\d)", text):
                counts[title] += 1
    return counts


def _crash_and_resume(stack, worker: ServiceProcess, fake, *, http=None) -> dict:
    http = http or stack.http
    fake.configure("all", latency_ms=200)
    books = unique_books(BOOKS)
    titles = [b["title"] for b in books]
    job_id, token = _start(http, books)
    deadline = time.monotonic() + 60
    while stack.items_done(job_id) < 10:
        assert time.monotonic() < deadline, "the worker never reached 10 books"
        time.sleep(0.05)
    worker.kill()  # SIGKILL of the whole worker (its process group): no shutdown, no ack
    killed_at = time.monotonic()
    finished_before = {index for (index,) in stack.sql("SELECT index FROM jobs_jobitem WHERE job_id = %s", (job_id,))}
    assert 10 <= len(finished_before) < BOOKS
    time.sleep(2)
    worker.start(timeout=60)
    while stack.items_done(job_id) == len(finished_before) and time.monotonic() - killed_at < RESUME_WITHIN:
        time.sleep(0.1)
    first_new_item = time.monotonic() - killed_at
    print(f"first book of the resumed run stored {first_new_item:.1f} s after the kill")
    assert first_new_item <= 35  # lease (20 s) + lease check (5 s) + a new worker's start
    state = _wait_complete(http, job_id, token)
    resumed_in = time.monotonic() - killed_at
    assert resumed_in <= RESUME_WITHIN, f"complete {resumed_in:.1f} s after the kill"
    assert state["processedCount"] == BOOKS
    # Every book exactly once: one stored item each, results in request order, one job_started.
    assert stack.sql("SELECT count(*), count(DISTINCT index) FROM jobs_jobitem WHERE job_id = %s", (job_id,)) == [
        (BOOKS, BOOKS)
    ]
    results = http("GET", f"/v1/enrichment/results/{job_id}", token=token).json()["data"]
    assert [b["title"] for b in results["books"]] == titles
    rows = stack.sql("SELECT type, seq FROM jobs_jobevent WHERE job_id = %s ORDER BY seq", (job_id,))
    assert [seq for _, seq in rows] == list(range(1, len(rows) + 1))
    types = [t for t, _ in rows]
    assert types.count("job_started") == 1 and types.count("job_complete") == 1
    (run_number,) = stack.sql("SELECT run_number FROM jobs_job WHERE id = %s", (job_id,))[0]
    assert run_number >= 2  # the resumed run took a newer fencing number
    # No book finished before the kill was looked up again; the ones in flight at most twice.
    calls = _title_calls(fake, titles)
    base = Counter(calls.values()).most_common(1)[0][0]
    assert all(calls[titles[i]] == base for i in finished_before), {t: calls[t] for t in titles}
    assert all(calls[t] <= 2 * base for t in titles)
    return {"resumed_in": resumed_in, "job_id": job_id, "token": token}


def _start(http, books):
    import uuid

    job_id = str(uuid.uuid4())
    response = http("POST", "/v1/enrichment/batch", json={"jobId": job_id, "books": books})
    assert response.status_code == 202, response.text
    return job_id, response.json()["data"]["token"]


def _wait_complete(http, job_id, token, timeout=RESUME_WITHIN + 5):
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        state = http("GET", f"/api/job-state/{job_id}", token=token).json()
        if state["status"] == "complete":
            return state
        time.sleep(0.2)
    raise AssertionError(f"job never completed; last: {state}")


def test_sigkill_of_the_worker_mid_batch_resumes_within_60s_with_the_redis_broker(
    stack, running_worker, fake_upstreams
):
    outcome = _crash_and_resume(stack, stack.worker, fake_upstreams)
    print(f"redis broker: complete {outcome['resumed_in']:.1f} s after SIGKILL")
    messages, code = run(ws_collect(stack.ws_url(outcome["job_id"], outcome["token"])))
    assert code == 1000 and logged(messages)[-1]["type"] == "job_complete"


@pytest.fixture
def rabbitmq_stack(stack, fake_upstreams):
    """A worker and a server of the same stack using RabbitMQ (a private vhost) as the broker."""
    import kombu

    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not available")
    vhost = "booktrack_it_" + stack.env["CELERY_BROKER_KEY_PREFIX"].strip(":").split("_")[-1]
    try:
        subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True, timeout=30)
        subprocess.run(
            ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        broker = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
        with kombu.Connection(broker, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as error:
        pytest.skip(f"RabbitMQ at 127.0.0.1:5672 not usable: {error}")
    env = {**stack.env, "CELERY_BROKER_URL": broker}
    argv = [a.replace("it-", "it-rmq-", 1) if a.startswith("it-") else a for a in stack.worker.argv]
    stack.worker.stop()  # the Redis worker stays out of this test
    worker = ServiceProcess("worker-rabbitmq", argv, env, stack.worker.log_dir, ready=_worker_ready).start(timeout=60)
    server, port = start_uvicorn("uvicorn-rabbitmq", env, stack.worker.log_dir)
    try:
        yield worker, port
    finally:
        worker.stop()
        server.stop()
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=30)


def test_sigkill_of_the_worker_mid_batch_resumes_within_60s_with_rabbitmq(stack, rabbitmq_stack, fake_upstreams):
    import requests

    worker, port = rabbitmq_stack
    session = requests.Session()

    def http(method, path, *, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return session.request(method, f"http://127.0.0.1:{port}{path}", headers=headers, timeout=15, **kwargs)

    outcome = _crash_and_resume(stack, worker, fake_upstreams, http=http)
    print(f"rabbitmq broker: complete {outcome['resumed_in']:.1f} s after SIGKILL")
