from __future__ import annotations

import uuid
from unittest import mock

import pytest
from rest_framework.test import APIClient

from booktrack.core.ratelimit import reset_local_windows
from enrichment.tasks import run_batch_enrichment
from jobs.models import Job


@pytest.fixture
def client():
    reset_local_windows()
    yield APIClient()
    reset_local_windows()


@pytest.fixture
def send_task():
    """The batch task's `delay`, which `delay_on_commit` calls once the transaction commits."""
    with mock.patch.object(run_batch_enrichment, "delay") as delay:
        yield delay


def _post(client, body, path="/v1/enrichment/batch"):
    return client.post(path, body, format="json")


@pytest.mark.django_db(transaction=True)
def test_batch_route_starts_job_and_queues_task_after_commit(client, send_task):
    job_id = str(uuid.uuid4())
    response = _post(
        client, {"jobId": job_id, "books": [{"title": "Dune", "author": "Frank Herbert", "isbn": "9780441013593"}]}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert data["success"] is True and data["processedCount"] == 0 and data["totalCount"] == 1
    assert data["jobId"] == job_id and len(data["token"]) >= 32
    send_task.assert_called_once_with(job_id)
    job = Job.objects.get(pk=job_id)
    assert job.params == {"books": [{"title": "Dune", "author": "Frank Herbert", "isbn": "9780441013593"}]}
    assert job.token_hash != data["token"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"jobId": "J", "books": []}, "INVALID_REQUEST"),
        ({"books": [{"title": "x"}]}, "MISSING_PARAMETER"),
        ({"jobId": str(uuid.uuid4())}, "MISSING_PARAMETER"),
        ({"jobId": str(uuid.uuid4()), "books": []}, "EMPTY_BATCH"),
        ({"jobId": str(uuid.uuid4()), "books": [{"title": "x"}] * 101}, "BATCH_TOO_LARGE"),
        ({"jobId": str(uuid.uuid4()), "books": "Dune"}, "INVALID_REQUEST"),
        ({"jobId": str(uuid.uuid4()), "books": [{"author": "nobody"}]}, "INVALID_REQUEST"),
        ({"jobId": str(uuid.uuid4()), "books": [{"title": "x" * 501}]}, "INVALID_REQUEST"),
        ({"jobId": str(uuid.uuid4()), "books": [{"title": "x", "author": "a" * 301}]}, "INVALID_REQUEST"),
        ({"jobId": str(uuid.uuid4()), "books": [{"title": "x", "isbn": "9" * 18}]}, "INVALID_REQUEST"),
    ],
)
def test_batch_route_validation_errors(client, send_task, body, code):
    response = _post(client, body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["success"] is False and payload["error"]["code"] == code
    send_task.assert_not_called()
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_batch_route_accepts_100_books_and_limits_at_boundaries(client, send_task):
    books = [{"title": "t" * 500, "author": "a" * 300, "isbn": "978-0-441-01359-3"}] * 100
    assert _post(client, {"jobId": str(uuid.uuid4()), "books": books}).status_code == 202


@pytest.mark.django_db
def test_batch_route_existing_job_id_is_conflict(client, send_task):
    job_id = str(uuid.uuid4())
    assert _post(client, {"jobId": job_id, "books": [{"title": "Dune"}]}).status_code == 202
    again = _post(client, {"jobId": job_id, "books": [{"title": "Dune"}]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "CONFLICT"


@pytest.mark.django_db
def test_legacy_start_route_is_deprecated_but_works(client, send_task):
    job_id = str(uuid.uuid4())
    response = _post(client, {"jobId": job_id, "workIds": ["9780441013593", "Emma"]}, path="/api/enrichment/start")
    assert response.status_code == 202
    assert response["Deprecation"] == "true" and "GMT" in response["Sunset"]
    assert response.json()["data"]["totalCount"] == 2
    assert Job.objects.get(pk=job_id).params["books"] == [
        {"title": "9780441013593", "isbn": "9780441013593"},
        {"title": "Emma"},
    ]
    empty = _post(client, {"jobId": str(uuid.uuid4()), "workIds": []}, path="/api/enrichment/start")
    assert empty.json()["error"]["code"] == "EMPTY_BATCH"


@pytest.mark.django_db
def test_batch_route_is_rate_limited_as_expensive(client, send_task, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "expensive": (2, 60)}
    codes = [_post(client, {"jobId": str(uuid.uuid4()), "books": [{"title": "x"}]}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/v1/enrichment/batch", "/api/enrichment/start"])
def test_batch_start_answers_an_upper_case_job_id_as_sent(client, send_task, path):
    job_id = uuid.uuid4()
    sent = str(job_id).upper()
    body = {"jobId": sent, "books": [{"title": "Dune"}]} if "batch" in path else {"jobId": sent, "workIds": ["Dune"]}
    response = _post(client, body, path=path)
    assert response.status_code == 202 and response.json()["data"]["jobId"] == sent
    assert Job.objects.filter(pk=job_id).exists()  # stored canonical: any spelling finds it
    again = _post(client, {**body, "jobId": str(job_id)}, path=path)
    assert again.status_code == 409
