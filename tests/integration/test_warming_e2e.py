"""Cache warming end to end: the upload on the real server, the warm-ups on the real Celery worker
process (providers queue, through Redis), then the same searches on the server cost zero upstream
calls (the fakes count every request), answered from the shared tier the worker filled."""

from __future__ import annotations

import base64
import time

import pytest

pytestmark = pytest.mark.integration

WITHIN_SECONDS = 90


def _ops(stack) -> str:
    return stack.env["OPS_TOKEN"]


def test_a_warming_run_on_the_worker_makes_the_searches_free(stack, running_worker, fake_upstreams):
    csv = base64.b64encode(b"author\nFrank Herbert\nAmal El-Mohtar\n").decode()
    response = stack.http("POST", "/api/warming/upload", token=_ops(stack), json={"csv": csv, "maxDepth": 2})
    assert response.status_code == 202, response.text
    started = response.json()["data"]
    assert started["authorsQueued"] == 2

    deadline = time.monotonic() + WITHIN_SECONDS
    state = {}
    while time.monotonic() < deadline:
        state = stack.http("GET", f"/api/warming/{started['jobId']}", token=_ops(stack)).json()["data"]
        if state["pending"] == 0:
            break
        time.sleep(0.25)
    assert state["pending"] == 0 and state["deadLettered"] == 0, state
    assert (state["warmed"], state["coauthorsQueued"]) == (3, 1)  # Max Gladstone, at depth 2
    assert fake_upstreams.count("openlibrary") > 0  # the worker did ask
    time.sleep(1.0)  # background work the warm-ups queued (catalog upserts) settles
    fake_upstreams.reset()

    searches = {
        "advanced": stack.http("GET", "/v1/search/advanced", params={"author": "Frank Herbert"}).json(),
        "coauthor": stack.http("GET", "/v1/search/advanced", params={"author": "Max Gladstone"}).json(),
        "title": stack.http("GET", "/v1/search/title", params={"q": "Dune"}).json(),
        "legacy author": stack.http("GET", "/search/author", params={"q": "Frank Herbert"}).json(),
    }

    assert fake_upstreams.counts() == {}, fake_upstreams.counts()
    for name in ("advanced", "coauthor", "title"):
        meta = searches[name]["metadata"]
        assert meta["cached"] is True and meta["cacheSource"] in ("KV", "EDGE_FRESH"), (name, meta)
        assert searches[name]["data"]["works"], name
    assert searches["legacy author"]["cached"] is True
    herbert = searches["advanced"]["data"]["authors"][0]
    assert herbert["name"] == "Frank Herbert" and herbert["wikidataID"] == "Q7934"  # warmed author facts

    dlq = stack.http("GET", "/api/warming/dlq", token=_ops(stack)).json()["data"]
    assert dlq == {"queue": "harvest.warm_author", "depth": 0, "items": []}
