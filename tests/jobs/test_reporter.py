from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobs.events import JobComplete, JobProgress, JobStarted, JobSummary
from jobs.models import Job, JobEvent, JobItem, JobStatus
from jobs.reporter import FakeProgressReporter, JobProgressReporter, ProgressReporter, StateThrottle
from jobs.services import job_cancel


def _state_writes(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith('UPDATE "jobs_job"'))


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [("batch_enrichment", 200), ("csv_import", 50), ("ai_scan", 1000)],
)
def test_reporter_throttles_state_writes_per_pipeline(make_job, clock, pipeline, expected):
    job, _ = make_job(pipeline=pipeline, total=1000)
    reporter = JobProgressReporter(job_id=job.id, clock=clock)
    reporter.started(total=1000)
    with CaptureQueriesContext(connection) as ctx:
        for i in range(1, 1001):
            reporter.progress(processed=i, status="working", current_item=f"item {i}")
    assert _state_writes(ctx.captured_queries) == expected
    assert reporter.state_writes == expected
    # every update is still in the log, replayable
    assert JobEvent.objects.filter(job=job, type="job_progress").count() == 1000


def test_reporter_writes_state_after_time_window(make_job, clock):
    job, _ = make_job(pipeline="csv_import", total=100)
    reporter = JobProgressReporter(job_id=job.id, clock=clock)
    reporter.started(total=100)
    with CaptureQueriesContext(connection) as ctx:
        for i in range(1, 11):
            clock.advance(31)  # csv_import: 30 s window beats the 20-update count
            reporter.progress(processed=i, status="rows")
    assert _state_writes(ctx.captured_queries) == 10
    job.refresh_from_db()
    assert job.processed_count == 10


def test_state_throttle_count_or_time_whichever_first(clock):
    throttle = StateThrottle(every=5, seconds=10, clock=clock)
    assert [throttle.should_write() for _ in range(4)] == [False] * 4
    assert throttle.should_write() is True
    throttle.written()
    clock.advance(10)
    assert throttle.should_write() is True


def test_reporter_events_have_increasing_seq_and_envelope_fields(make_job):
    job, _ = make_job(total=3)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=3)
    reporter.progress(processed=1, status="one", current_item="A")
    reporter.progress(processed=2, status="two", current_item="B")
    reporter.complete(
        summary=JobSummary(total_processed=3, success_count=3, failure_count=0, duration=5, resource_id=str(job.id)),
        results={"books": []},
    )
    events = list(JobEvent.objects.filter(job=job).order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert [e.type for e in events] == ["job_started", "job_progress", "job_progress", "job_complete"]
    assert events[-1].payload["resultsUrl"] == f"/v1/enrichment/results/{job.id}"
    assert len(json.dumps(events[-1].payload)) < 1024
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETE and job.progress == 1.0 and job.results_expire_at is not None


def test_reporter_progress_never_decreases_and_current_item_is_string(make_job):
    job, _ = make_job(total=10)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=10)
    reporter.progress(processed=5, status="x", current_item="5")
    reporter.progress(processed=3, status="x", current_item=7)  # late, out-of-order update
    payloads = [e.payload for e in JobEvent.objects.filter(job=job, type="job_progress").order_by("seq")]
    assert [p["progress"] for p in payloads] == [0.5, 0.5]
    assert [p["processedCount"] for p in payloads] == [5, 5]
    assert payloads[1]["currentItem"] == "7"


def test_reporter_logs_nothing_after_cancel(make_job):
    job, token = make_job(total=10)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=10)
    reporter.progress(processed=2, status="x")
    job_cancel(job_id=job.id, token=token)
    assert reporter.is_canceled() is True
    reporter.progress(processed=3, status="x")
    reporter.complete(
        summary=JobSummary(total_processed=3, success_count=3, failure_count=0, duration=1, resource_id="r"),
        results={"books": []},
    )
    types = list(JobEvent.objects.filter(job=job).order_by("seq").values_list("type", "payload"))
    assert types[-1][0] == "job_progress" and types[-1][1]["canceled"] is True
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED and job.processed_count == 2


def test_reporter_items_are_recorded_once_and_resumable(make_job):
    job, _ = make_job(total=2)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.item_succeeded(index=0, result={"title": "A", "success": True})
    reporter.item_succeeded(index=0, result={"title": "A again", "success": True})
    assert JobItem.objects.filter(job=job).count() == 1
    again = JobProgressReporter(job_id=job.id)
    assert list(again.finished_items()) == [0]


def test_reporter_items_finished_writes_many_in_one_insert_and_never_twice(make_job):
    from jobs.reporter import ItemOutcome

    job, _ = make_job(total=150)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.item_succeeded(index=5, result={"row": 6})
    outcomes = [ItemOutcome(index=i, success=i % 2 == 0, result={"row": i + 1, "again": True}) for i in range(150)]
    with CaptureQueriesContext(connection) as queries:
        reporter.items_finished(outcomes=outcomes)
    assert sum(1 for q in queries if q["sql"].startswith("INSERT")) == 1
    assert JobItem.objects.filter(job=job).count() == 150
    assert JobItem.objects.get(job=job, index=5).result == {"row": 6}  # the first record stands
    assert JobProgressReporter(job_id=job.id).finished_items()[3].success is False


def test_reporter_resumed_start_does_not_repeat_job_started(make_job):
    job, _ = make_job(total=2)
    JobProgressReporter(job_id=job.id).started(total=2)
    JobProgressReporter(job_id=job.id).started(total=2)
    assert JobEvent.objects.filter(job=job, type="job_started").count() == 1


def test_reporter_fail_is_terminal_error_event(make_job):
    job, _ = make_job()
    reporter = JobProgressReporter(job_id=job.id)
    reporter.fail(code="PROVIDER_UNAVAILABLE", message="down", retryable=True)
    event = JobEvent.objects.get(job=job)
    assert event.type == "error" and event.payload == {
        "code": "PROVIDER_UNAVAILABLE",
        "message": "down",
        "retryable": True,
    }
    assert Job.objects.get(pk=job.id).status == JobStatus.FAILED


def test_reporters_satisfy_the_protocol(make_job):
    job, _ = make_job()
    assert isinstance(JobProgressReporter(job_id=job.id), ProgressReporter)
    assert isinstance(FakeProgressReporter(), ProgressReporter)


def test_reporter_resumed_after_redelivery_never_logs_lower_progress(make_job):
    job, _ = make_job(pipeline="csv_import", total=10)
    first = JobProgressReporter(job_id=job.id)
    first.started(total=10)
    for i in range(1, 5):  # under the 20-update throttle: the row still says 0
        first.progress(processed=i, status="x")
    assert Job.objects.get(pk=job.id).processed_count == 0
    resumed = JobProgressReporter(job_id=job.id)  # the task redelivered after a worker died
    resumed.started(total=10)
    resumed.progress(processed=1, status="x")  # the resumed run counts its own items from 1
    last = JobEvent.objects.filter(job=job, type="job_progress").order_by("-seq").first()
    assert last.payload["processedCount"] == 4 and last.payload["progress"] == 0.4


def test_event_payloads_are_snake_case_in_python_and_camel_case_on_the_wire():
    progress = JobProgress(progress=0.5, status="x", processed_count=1, total_count=2, current_item="Dune")
    assert progress.to_wire() == {
        "progress": 0.5,
        "status": "x",
        "processedCount": 1,
        "totalCount": 2,
        "currentItem": "Dune",
    }
    flagged = JobProgress(
        progress=1.0, status="x", processed_count=2, total_count=2, current_item="", keep_alive=True, canceled=True
    )
    assert flagged.to_wire()["keepAlive"] is True and flagged.to_wire()["canceled"] is True
    summary = JobSummary(total_processed=2, success_count=1, failure_count=1, duration=7, resource_id="r")
    complete = JobComplete(results_url="/v1/csv/results/r", summary=summary, extra={"booksCount": 1})
    assert complete.to_wire() == {
        "booksCount": 1,
        "resultsUrl": "/v1/csv/results/r",
        "summary": {"totalProcessed": 2, "successCount": 1, "failureCount": 1, "duration": 7, "resourceId": "r"},
    }
    assert JobStarted(total_count=3).to_wire() == {"totalCount": 3}
