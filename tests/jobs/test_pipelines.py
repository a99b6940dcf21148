"""The pipeline registry: jobs learns each pipeline's results route, task, throttle and result shapes
from what the pipeline's own app registers, and imports no feature app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import transaction

from enrichment.batch import BookRequest, batch_enrichment_start
from enrichment.tasks import run_batch_enrichment
from jobs import pipelines
from jobs.events import JobSummary
from jobs.models import Job, JobEvent, Pipeline
from jobs.pipelines import CanceledJob, PipelineSpec, pipeline_get, pipeline_register
from jobs.reporter import JobProgressReporter
from jobs.services import job_cancel, job_create, job_state_wire

JOBS_DIR = Path(pipelines.__file__).parent
FEATURE_APPS = {"search", "enrichment", "scanning", "harvest"}


def test_jobs_imports_no_feature_app():
    offenders = []
    for source in JOBS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [(source.name, name) for name in names if name.split(".")[0] in FEATURE_APPS]
    assert offenders == []


def test_every_contract_pipeline_is_registered_by_its_app():
    paths = {name: pipeline_get(name).results_url("ID") for name in Pipeline.values}
    assert paths == {
        "ai_scan": "/v1/scan/results/ID",
        "csv_import": "/v1/csv/results/ID",
        "batch_enrichment": "/v1/enrichment/results/ID",
    }
    assert pipeline_get("batch_enrichment").task.name == run_batch_enrichment.name
    with pytest.raises(LookupError, match="pipelines.py"):
        pipeline_get("nope")


def test_spec_needs_the_job_id_in_its_results_path():
    with pytest.raises(ValueError, match="job_id"):
        pipeline_register(
            PipelineSpec(name="x", results_path="/v1/x", state_every=1, state_seconds=1, canceled_results=dict)
        )


@pytest.fixture
def demo_pipeline(monkeypatch):
    """A pipeline jobs has never heard of, registered the way a feature app does."""
    seen: list[CanceledJob] = []

    def canceled(job: CanceledJob):
        seen.append(job)
        return {"demo": True, "finished": {str(k): v for k, v in job.finished.items()}, "params": dict(job.params)}

    spec = PipelineSpec(
        name="demo",
        results_path="/v9/demo/{job_id}/results",
        state_every=2,
        state_seconds=999.0,
        canceled_results=canceled,
        complete_extra=lambda results: {"demoCount": len(results["items"])},
    )
    monkeypatch.setitem(pipelines._registry, "demo", spec)
    return seen


def test_jobs_takes_everything_pipeline_specific_from_the_registry(db, demo_pipeline):
    job, token = job_create(pipeline="demo", total=4, params={"what": "ever"})
    reporter = JobProgressReporter(job_id=job.id)
    assert (reporter.throttle.every, reporter.throttle.seconds) == (2, 999.0)
    reporter.started(total=4)
    reporter.item_succeeded(index=1, result={"ok": 1})
    job_cancel(job_id=job.id, token=token)
    job.refresh_from_db()
    assert job.results == {"demo": True, "finished": {"1": {"ok": 1}}, "params": {"what": "ever"}}
    (canceled,) = demo_pipeline
    assert canceled.summary.total_processed == 1 and canceled.summary.resource_id == str(job.id)
    assert job_state_wire(job=job)["resultsUrl"] == f"/v9/demo/{job.id}/results"

    done, _ = job_create(pipeline="demo", total=1)
    reporter = JobProgressReporter(job_id=done.id)
    reporter.complete(
        summary=JobSummary(total_processed=1, success_count=1, failure_count=0, duration=1, resource_id="r"),
        results={"items": [1, 2, 3]},
    )
    complete = JobEvent.objects.get(job_id=done.id, type="job_complete").payload
    assert complete["demoCount"] == 3 and complete["resultsUrl"] == f"/v9/demo/{done.id}/results"


@pytest.mark.parametrize(
    ("pipeline", "results", "extra"),
    [
        (
            "ai_scan",
            {
                "totalDetected": 3,
                "approved": 2,
                "needsReview": 1,
                "books": [{}, {}, {}],
                "photos": [],
                "metadata": {"modelUsed": "gemini-2.5-flash", "processingTime": 1200, "timestamp": "t"},
            },
            {
                "totalDetected": 3,
                "approved": 2,
                "needsReview": 1,
                "metadata": {"modelUsed": "gemini-2.5-flash", "processingTime": 1200},
            },
        ),
        (
            "csv_import",
            {"books": [{}, {}], "errors": [{}], "successRate": "2/3"},
            {"booksCount": 2, "successRate": "2/3"},
        ),
        ("batch_enrichment", {"books": [], "summary": {}}, {}),
    ],
)
def test_job_complete_carries_each_pipelines_own_fields(make_job, pipeline, results, extra):
    job, _ = make_job(pipeline=pipeline, total=1)
    JobProgressReporter(job_id=job.id).complete(
        summary=JobSummary(total_processed=1, success_count=1, failure_count=0, duration=1, resource_id=str(job.id)),
        results=results,
    )
    payload = JobEvent.objects.get(job_id=job.id, type="job_complete").payload
    assert {k: v for k, v in payload.items() if k not in ("type", "resultsUrl", "summary")} == extra
    assert Job.objects.get(pk=job.id).results == results


@pytest.mark.django_db(transaction=True)
def test_batch_start_queues_its_task_only_after_commit(monkeypatch):
    queued: list[tuple] = []
    monkeypatch.setattr(run_batch_enrichment, "delay", lambda *args: queued.append(args))
    with transaction.atomic():
        job, _ = batch_enrichment_start(job_id=None, books=[BookRequest(title="Dune")])
        assert queued == []
    assert queued == [(str(job.id),)]
