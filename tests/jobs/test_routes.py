from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from jobs.models import Job, JobEvent, JobStatus
from jobs.reporter import JobProgressReporter
from jobs.services import job_cancel, job_create, jobs_cleanup_expired
from jobs.tasks import cleanup_expired_jobs
from tests.factories import bearer, job_complete


@pytest.fixture
def client():
    return APIClient()


def test_job_state_requires_the_jobs_token(client, make_job):
    job, token = make_job()
    other, other_token = make_job()
    assert client.get(f"/api/job-state/{job.id}").status_code == 401
    assert client.get(f"/api/job-state/{job.id}", **bearer(other_token)).status_code == 401
    assert client.get(f"/api/job-state/{uuid.uuid4()}", **bearer(token)).status_code == 404
    response = client.get(f"/api/job-state/{job.id}", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["jobId"] == str(job.id) and body["status"] == "queued" and body["pipeline"] == "batch_enrichment"
    assert {"progress", "processedCount", "totalCount", "startTime", "lastUpdate"} <= body.keys()
    assert "success" not in body  # raw body


def test_job_state_refuses_expired_token(client, make_job):
    job, token = make_job()
    Job.objects.filter(pk=job.id).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"/api/job-state/{job.id}", **bearer(token))
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"


def test_job_state_shows_results_url_when_complete(client, make_job):
    job, token = make_job(total=1)
    job_complete(job)
    body = client.get(f"/api/job-state/{job.id}", **bearer(token)).json()
    assert body["status"] == "complete" and body["resultsUrl"] == f"/v1/enrichment/results/{job.id}"
    assert isinstance(body["endTime"], int)


def test_token_refresh_only_in_last_30_minutes(client, make_job):
    job, token = make_job()
    early = client.post("/api/token/refresh", {"jobId": str(job.id), "oldToken": token}, format="json")
    assert early.status_code == 401
    assert "last 30 minutes" in early.json()["error"]["message"]
    Job.objects.filter(pk=job.id).update(token_expires_at=timezone.now() + timedelta(minutes=20))
    response = client.post("/api/token/refresh", {"jobId": str(job.id), "oldToken": token}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["jobId"] == str(job.id) and body["expiresIn"] == 7200 and body["token"] != token
    # the new token replaces the old one
    assert client.get(f"/api/job-state/{job.id}", **bearer(token)).status_code == 401
    assert client.get(f"/api/job-state/{job.id}", **bearer(body["token"])).status_code == 200


def test_token_refresh_refuses_wrong_or_expired_token(client, make_job):
    job, token = make_job()
    Job.objects.filter(pk=job.id).update(token_expires_at=timezone.now() + timedelta(minutes=10))
    wrong = client.post("/api/token/refresh", {"jobId": str(job.id), "oldToken": "nope"}, format="json")
    assert wrong.status_code == 401
    Job.objects.filter(pk=job.id).update(token_expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.post("/api/token/refresh", {"jobId": str(job.id), "oldToken": token}, format="json")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    missing = client.post("/api/token/refresh", {"jobId": str(job.id)}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "MISSING_PARAMETER"


def test_token_refresh_is_rate_limited_as_expensive(client, make_job, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "expensive": (2, 60)}
    job, token = make_job()
    codes = [
        client.post("/api/token/refresh", {"jobId": str(job.id), "oldToken": token}, format="json").status_code
        for _ in range(3)
    ]
    assert codes == [401, 401, 429]


@pytest.mark.parametrize("route", ["/api/enrichment/cancel", "/api/scan-bookshelf/cancel"])
def test_cancel_route_answers_per_contract(client, make_job, route):
    job, token = make_job(pipeline="ai_scan" if "scan" in route else "batch_enrichment")
    assert client.post(route, {"jobId": str(uuid.uuid4()), "token": token}, format="json").status_code == 404
    assert client.post(route, {"jobId": str(job.id)}, format="json").status_code == 401
    assert client.post(route, {"jobId": str(job.id), "token": "wrong"}, format="json").status_code == 401
    response = client.post(route, {"jobId": str(job.id)}, format="json", **bearer(token))
    assert response.status_code == 200
    assert response.json() == {"jobId": str(job.id), "status": "canceled"}
    again = client.post(route, {"jobId": str(job.id), "token": token}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "CONFLICT"


def test_cancel_of_finished_job_is_conflict(client, make_job):
    job, token = make_job(total=1)
    job_complete(job)
    assert (
        client.post("/api/enrichment/cancel", {"jobId": str(job.id), "token": token}, format="json").status_code == 409
    )


def test_cancel_freezes_processed_count_at_last_reported(client, make_job):
    job, token = make_job(total=100)
    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=100)
    for i in range(1, 4):  # below the 5-update throttle: the row still says 0
        reporter.progress(processed=i, status="x")
    client.post("/api/enrichment/cancel", {"jobId": str(job.id), "token": token}, format="json")
    body = client.get(f"/api/job-state/{job.id}", **bearer(token)).json()
    assert body["status"] == "canceled" and body["processedCount"] == 3
    last = JobEvent.objects.filter(job=job).order_by("-seq").first()
    assert last.payload["canceled"] is True and last.payload["processedCount"] == 3


def test_results_routes_serve_each_pipeline(client, db):
    for pipeline, path in [("ai_scan", "scan"), ("csv_import", "csv"), ("batch_enrichment", "enrichment")]:
        job, token = job_create(pipeline=pipeline, total=1)
        assert client.get(f"/v1/{path}/results/{job.id}", **bearer(token)).status_code == 404  # not finished yet
        job_complete(job, results={"pipeline": pipeline})
        response = client.get(f"/v1/{path}/results/{job.id}", **bearer(token))
        assert response.status_code == 200 and response.json()["data"] == {"pipeline": pipeline}
    other_job, other_token = job_create(pipeline="csv_import", total=1)
    job_complete(other_job)
    assert client.get(f"/v1/scan/results/{other_job.id}", **bearer(other_token)).status_code == 404


def test_results_outlive_the_live_token_but_not_24_hours(client, make_job):
    job, token = make_job(total=1)
    job_complete(job)
    Job.objects.filter(pk=job.id).update(token_expires_at=timezone.now() - timedelta(hours=1))
    assert client.get(f"/v1/enrichment/results/{job.id}?token={token}").status_code == 200
    Job.objects.filter(pk=job.id).update(results_expire_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"/v1/enrichment/results/{job.id}", **bearer(token))
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_cleanup_deletes_jobs_24h_after_completion(make_job):
    old, _ = make_job(total=1)
    recent, _ = make_job(total=1)
    running, _ = make_job(total=1)
    job_complete(old)
    job_complete(recent)
    Job.objects.filter(pk=old.id).update(ended_at=timezone.now() - timedelta(hours=25))
    assert cleanup_expired_jobs() == 1
    assert not Job.objects.filter(pk=old.id).exists()
    assert not JobEvent.objects.filter(job_id=old.id).exists()
    assert set(Job.objects.values_list("id", flat=True)) == {recent.id, running.id}
    assert jobs_cleanup_expired(now=timezone.now() + timedelta(days=8)) == 2


def test_job_create_conflicts_on_existing_job_id(db):
    from booktrack.core.exceptions import Conflict

    job, token = job_create(pipeline="csv_import", total=3)
    with pytest.raises(Conflict):
        job_create(pipeline="csv_import", job_id=job.id)
    stored = Job.objects.get(pk=job.id)
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert stored.status == JobStatus.QUEUED
    assert stored.token_expires_at - stored.created_at > timedelta(hours=1, minutes=59)


def test_cancel_of_queued_batch_leaves_results_for_every_requested_book(client, make_job):
    books = [{"title": "Dune", "author": "Frank Herbert"}, {"title": "Emma", "isbn": "9780141439587"}]
    job, token = make_job(total=2, params={"books": books})
    assert (
        client.post("/api/enrichment/cancel", {"jobId": str(job.id), "token": token}, format="json").status_code == 200
    )
    response = client.get(f"/v1/enrichment/results/{job.id}", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    results = body.get("data", body)
    assert [b["title"] for b in results["books"]] == ["Dune", "Emma"]
    assert all(
        b["success"] is False and b["error"] == "Canceled before this book was processed." for b in results["books"]
    )
    assert results["canceled"] is True and results["summary"]["totalProcessed"] == 0
    state = client.get(f"/api/job-state/{job.id}", **bearer(token)).json()
    assert state["resultsUrl"] == f"/v1/enrichment/results/{job.id}"


@pytest.mark.parametrize(("pipeline", "route"), [("ai_scan", "scan"), ("csv_import", "csv")])
def test_cancel_of_queued_job_makes_its_results_retrievable(client, make_job, pipeline, route):
    job, token = make_job(pipeline=pipeline, total=3)
    client.post("/api/scan-bookshelf/cancel", {"jobId": str(job.id), "token": token}, format="json")
    response = client.get(f"/v1/{route}/results/{job.id}", **bearer(token))
    assert response.status_code == 200
    body = response.json()
    results = body.get("data", body)
    assert results["books"] == [] and results["canceled"] is True


def test_worker_partial_results_replace_the_cancel_placeholder(make_job):
    job, token = make_job(total=2, params={"books": [{"title": "A"}, {"title": "B"}]})
    reporter = JobProgressReporter(job_id=job.id)
    reporter.started(total=2)
    job_cancel(job_id=job.id, token=token)
    partial = {"books": [{"title": "A", "success": True}, {"title": "B", "success": False}], "canceled": True}
    reporter.canceled(results=partial)
    assert Job.objects.get(pk=job.id).results == partial


RESULTS_ROUTES = [("ai_scan", "scan"), ("csv_import", "csv"), ("batch_enrichment", "enrichment")]


@pytest.mark.parametrize(("pipeline", "route"), RESULTS_ROUTES)
def test_results_answer_without_a_token(client, make_job, pipeline, route):
    job, _ = make_job(pipeline=pipeline, total=1)
    job_complete(job, results={"pipeline": pipeline})
    response = client.get(f"/v1/{route}/results/{job.id}")
    assert response.status_code == 200 and response.json()["data"] == {"pipeline": pipeline}
    assert client.get(f"/v1/{route}/results/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(("pipeline", "route"), RESULTS_ROUTES)
def test_results_refuse_a_wrong_token(client, make_job, pipeline, route):
    job, _ = make_job(pipeline=pipeline, total=1)
    _, other_token = make_job(pipeline=pipeline, total=1)
    job_complete(job)
    for wrong in (bearer("not-the-token"), bearer(other_token)):
        response = client.get(f"/v1/{route}/results/{job.id}", **wrong)
        assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"
    assert client.get(f"/v1/{route}/results/{job.id}?token=wrong").status_code == 401


@pytest.mark.parametrize(("pipeline", "route"), RESULTS_ROUTES)
def test_results_require_the_token_when_configured(client, make_job, settings, pipeline, route):
    settings.JOB_RESULTS_REQUIRE_TOKEN = True
    job, token = make_job(pipeline=pipeline, total=1)
    job_complete(job)
    response = client.get(f"/v1/{route}/results/{job.id}")
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"
    assert client.get(f"/v1/{route}/results/{job.id}", **bearer("wrong")).status_code == 401
    assert client.get(f"/v1/{route}/results/{job.id}", **bearer(token)).status_code == 200
