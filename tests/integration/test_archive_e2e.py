"""Archival end to end on PostgreSQL: a batch enrichment job run by the real worker, then
`manage.py archive` (a separate process, service mode) moves it to storage; the server's results
route still answers from the archive, and the database keeps no event, item or results of it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.conftest import ROOT
from tests.integration.test_jobs_e2e import start_batch, wait_state

pytestmark = pytest.mark.integration


def _archive(stack, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "archive", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_archived_job_is_served_from_storage(stack, running_worker, fake_upstreams):
    job_id, token = start_batch(stack, [{"title": "Dune", "author": "Frank Herbert"}])
    wait_state(stack, job_id, token, lambda s: s["status"] == "complete")
    before = stack.http("GET", f"/v1/enrichment/results/{job_id}").json()["data"]
    events = stack.sql("SELECT count(*) FROM jobs_jobevent WHERE job_id = %s", (job_id,))[0][0]
    assert events >= 2 and before["books"][0]["success"] is True

    # Past its live window: ended three hours ago, its token expired.
    stack.sql(
        "UPDATE jobs_job SET ended_at = now() - interval '3 hours', token_expires_at = now() - interval '1 hour',"
        " results_expire_at = now() + interval '21 hours' WHERE id = %s",
        (job_id,),
    )
    assert _archive(stack, "--dry-run").startswith("due: 1 jobs")
    assert _archive(stack).startswith("archived: 1 jobs")

    assert stack.sql("SELECT results IS NULL FROM jobs_job WHERE id = %s", (job_id,)) == [(True,)]
    assert stack.sql("SELECT count(*) FROM jobs_jobevent WHERE job_id = %s", (job_id,)) == [(0,)]
    assert stack.sql("SELECT count(*) FROM jobs_jobitem WHERE job_id = %s", (job_id,)) == [(0,)]
    [(path, count)] = stack.sql(
        "SELECT path, item_count FROM harvest_archivedobject WHERE kind = 'job' AND key = %s", (job_id,)
    )
    assert path.endswith(f"{job_id}.json.gz") and count == events

    after = stack.http("GET", f"/v1/enrichment/results/{job_id}")
    assert after.status_code == 200 and after.json()["data"] == before
    assert _archive(stack).startswith("archived: 0 jobs")  # nothing left to move
