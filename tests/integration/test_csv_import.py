"""CSV import end to end (issue 10): upload over HTTP in service mode, a real worker, WebSocket progress to
`job_complete`, the results route, and the content cache answering an identical re-upload."""

from __future__ import annotations

import json
import random
import time

import pytest

from benchmarks.bench_csv import goodreads_csv
from tests.integration.test_jobs_e2e import collect, logged, run

pytestmark = pytest.mark.integration

KNOWN_ROWS = (
    # Books the fakes know: one by ISBN, one by title + author only.
    '900001,Dune,Frank Herbert,"Herbert, Frank",,"=""0441172717""","=""9780441172719""",5,Ace,Paperback,'
    "896,1990,1965,2024/01/02,2023/12/01,,,read,,,,1,0\n"
    '900002,Piranesi,Susanna Clarke,"Clarke, Susanna",,"=""""","=""""",4,Bloomsbury,Hardcover,'
    "272,2020,2020,2024/02/03,2024/01/01,,,read,,,,1,0\n"
)


def upload(stack, data: bytes, name: str):
    return stack.http("POST", "/api/import/csv-gemini", files={"file": (name, data, "text/csv")})


def test_csv_upload_progress_to_job_complete_and_results(stack, running_worker, fake_upstreams):
    # A file no earlier run imported (the content cache would answer it at once).
    data = goodreads_csv(60, seed=random.randrange(10**9)) + KNOWN_ROWS.encode()
    rows = 62
    response = upload(stack, data, "goodreads_library_export.csv")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["success"] is True
    job_id, token = body["data"]["jobId"], body["data"]["token"]

    messages, code = run(collect(stack.ws_url(job_id, token), timeout=120), timeout=180)
    assert code == 1000
    events = logged(messages)
    assert events[0]["type"] == "job_started" and events[0]["payload"]["totalCount"] == rows
    assert events[-1]["type"] == "job_complete" and events[-1]["pipeline"] == "csv_import"
    progress = [m["payload"]["progress"] for m in events if m["type"] == "job_progress"]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert any(p == 0.5 for p in progress)  # the parse phase ends at 50 %
    complete = events[-1]["payload"]
    assert complete["resultsUrl"] == f"/v1/csv/results/{job_id}"
    assert complete["successRate"] == f"{complete['booksCount']}/{rows}"
    assert complete["summary"]["totalProcessed"] == rows
    assert len(json.dumps(complete)) < 1024

    results = stack.http("GET", f"/v1/csv/results/{job_id}").json()["data"]
    numbers = sorted([b["row"] for b in results["books"]] + [e["row"] for e in results["errors"]])
    assert numbers == list(range(1, rows + 1))  # every row in exactly one of books or errors
    by_title = {b["title"]: b for b in results["books"]}
    assert by_title["Dune"]["enrichmentStatus"] == "success" and by_title["Dune"]["match"]["method"] == "isbn"
    assert by_title["Piranesi"]["enrichmentStatus"] == "success"
    assert by_title["Piranesi"]["match"]["method"] == "title_author" and by_title["Piranesi"]["isbn13"]
    assert fake_upstreams.count("google") == 0  # bulk work never spends Google's daily quota
    assert stack.sql("SELECT count(*) FROM jobs_jobitem WHERE job_id = %s", (job_id,))[0][0] == rows
    # Matched books land in the catalog (the upsert task runs on the worker).
    deadline = time.monotonic() + 20
    while not stack.sql("SELECT count(*) FROM search_edition WHERE isbn13 = %s", ("9780441172719",))[0][0]:
        assert time.monotonic() < deadline, "Dune never reached the catalog"
        time.sleep(0.2)

    # The identical bytes under another name: answered from the content cache, at once.
    fake_upstreams.reset()
    started = time.monotonic()
    again = upload(stack, data, "renamed.csv")
    assert again.status_code == 202
    again_id, again_token = again.json()["data"]["jobId"], again.json()["data"]["token"]
    messages, code = run(collect(stack.ws_url(again_id, again_token), timeout=10), timeout=20)
    assert time.monotonic() - started < 2.0
    assert code == 1000 and logged(messages)[-1]["type"] == "job_complete"
    cached = stack.http("GET", f"/v1/csv/results/{again_id}").json()["data"]
    assert cached["cached"] is True and cached["books"] == results["books"]
    assert fake_upstreams.count() == 0


def test_worker_sigkill_mid_import_resumes_without_losing_or_repeating_rows(stack, running_worker, fake_upstreams):
    # Title + author rows: searched 8 to an OpenLibrary call, paced by the worker's share of its budget
    # (1.8 calls a second), 100 rows to a chunk whose outcomes are written together: the first chunk is
    # in after about 7 s, the whole import after about 20 s, so the worker dies with chunks to go.
    from tests.integration.test_jobs_e2e import wait_state

    tag = random.randrange(10**9)
    rows = 300
    data = ("Title,Author\n" + "".join(f"Unmatched Title {tag} {i},Nobody Known\n" for i in range(rows))).encode()
    response = upload(stack, data, "generic.csv")
    assert response.status_code == 202, response.text
    job_id, token = response.json()["data"]["jobId"], response.json()["data"]["token"]

    done_at_kill = stack.kill_worker_after_items(job_id, at_least=4, timeout=60)
    assert 4 <= done_at_kill < rows
    finished = {i for (i,) in stack.sql("SELECT index FROM jobs_jobitem WHERE job_id = %s", (job_id,))}
    searched_before = len([r for r in fake_upstreams.requests("openlibrary") if r["path"].endswith("/search.json")])
    time.sleep(1.5)
    assert stack.items_done(job_id) == done_at_kill  # nothing runs while the worker is dead
    assert stack.restore_unacked() >= 1
    stack.worker.start(timeout=60)
    state = wait_state(stack, job_id, token, lambda s: s["status"] == "complete", timeout=120)
    assert state["processedCount"] == rows
    results = stack.http("GET", f"/v1/csv/results/{job_id}").json()["data"]
    assert sorted(b["row"] for b in results["books"]) == list(range(1, rows + 1))  # none lost, none twice
    assert results["errors"] == [] and results["successRate"] == f"{rows}/{rows}"
    assert stack.items_done(job_id) == rows
    searches = [r for r in fake_upstreams.requests("openlibrary") if r["path"].endswith("/search.json")]
    asked_after = " ".join(str(r["query"]) for r in searches[searched_before:])
    # Finished rows are never looked up again; only the rows of the chunk in flight are.
    assert asked_after and not [i for i in finished if f'"Unmatched Title {tag} {i}"' in asked_after]
    assert [i for i in range(rows) if i not in finished if f'"Unmatched Title {tag} {i}"' in asked_after]
    events = stack.sql("SELECT type, seq FROM jobs_jobevent WHERE job_id = %s ORDER BY seq", (job_id,))
    assert [seq for _, seq in events] == list(range(1, len(events) + 1))
    types = [t for t, _ in events]
    assert types.count("job_started") == 1 and types.count("job_complete") == 1
