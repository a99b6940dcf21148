"""Issue 13 item 5: no client can spend the shared upstream quotas or hold unbounded jobs.

Per-client hourly lookup budget on the routes that take lists of books/ISBNs (`/v3/books/enrich`,
`/v1/enrichment/batch`, `/api/enrichment/start`) and a cap on active jobs per client across the
pipelines; both answer the contract's 429.
"""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from booktrack.core.quotas import client_lookups_remaining
from enrichment.tasks import run_batch_enrichment
from jobs.models import Job, JobStatus
from jobs.services import job_create
from tests.samples import sample_bytes

ISBNS = ["9780441013593", "9780553293357", "9780345391803", "9780547928227", "9780061120084", "9780143127741"]


@pytest.fixture
def client():
    return APIClient(REMOTE_ADDR="203.0.113.7")


@pytest.fixture
def other_client():
    return APIClient(REMOTE_ADDR="198.51.100.20")


@pytest.fixture
def send_task():
    with mock.patch.object(run_batch_enrichment, "delay") as delay:
        yield delay


def _assert_contract_429(response, *, limit: int) -> None:
    assert response.status_code == 429
    body = response.json()
    assert body["success"] is False and body["data"] is None
    error = body["error"]
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    retry = error["details"]["retryAfter"]
    assert error["message"] == f"Rate limit exceeded. Please try again in {retry} seconds."
    assert error["details"] == {"retryAfter": retry, "requestsLimit": limit, "requestsRemaining": 0}
    assert int(response["Retry-After"]) == retry >= 1
    assert response["X-RateLimit-Limit"] == str(limit) and response["X-RateLimit-Remaining"] == "0"
    assert int(response["X-RateLimit-Reset"]) > 0


def _batch(client, n: int, path: str = "/v1/enrichment/batch"):
    if path == "/api/enrichment/start":
        body = {"jobId": str(uuid.uuid4()), "workIds": [f"Book {i}" for i in range(n)]}
    else:
        body = {"jobId": str(uuid.uuid4()), "books": [{"title": f"Book {i}"} for i in range(n)]}
    return client.post(path, body, format="json")


# --- the hourly lookup budget ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_v3_enrich_charges_one_unit_per_valid_isbn_then_429(client, other_client, fake, settings):
    settings.RATE_LIMIT_ENABLED = True  # the `fake` fixture turns limits off for search tests
    settings.CLIENT_ISBN_BUDGET_PER_HOUR = 5
    first = client.post("/v3/books/enrich", {"isbns": ISBNS[:3] + ["not-an-isbn", ISBNS[0]]}, format="json")
    assert first.status_code == 200  # 3 distinct valid ISBNs: 3 units; junk and repeats cost nothing
    assert client_lookups_remaining(identity="203.0.113.7") == 2
    second = client.post("/v3/books/enrich", {"isbns": ISBNS[3:6]}, format="json")
    assert second.status_code == 200  # 2 left before it: admitted, charged in full (6 of 5 used)
    calls_before = fake.count("google")
    refused = client.post("/v3/books/enrich", {"isbns": ISBNS[:1]}, format="json")
    _assert_contract_429(refused, limit=5)
    assert fake.count("google") == calls_before  # refused before any upstream call
    assert other_client.post("/v3/books/enrich", {"isbns": ISBNS[:1]}, format="json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_batch_routes_share_the_clients_budget(client, other_client, send_task, settings):
    settings.CLIENT_ISBN_BUDGET_PER_HOUR = 150
    settings.MAX_ACTIVE_JOBS_PER_CLIENT = 0
    assert _batch(client, 100).status_code == 202
    assert _batch(client, 60, "/api/enrichment/start").status_code == 202  # 50 left: admitted (160/150)
    _assert_contract_429(_batch(client, 1), limit=150)
    _assert_contract_429(_batch(client, 1, "/api/enrichment/start"), limit=150)
    assert Job.objects.count() == 2 and send_task.call_count == 2
    assert _batch(other_client, 100).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_a_start_that_fails_gives_its_units_back(client, send_task, settings):
    settings.CLIENT_ISBN_BUDGET_PER_HOUR = 100
    job_id = str(uuid.uuid4())
    assert (
        client.post(
            "/v1/enrichment/batch", {"jobId": job_id, "books": [{"title": "A"}] * 30}, format="json"
        ).status_code
        == 202
    )
    conflict = client.post("/v1/enrichment/batch", {"jobId": job_id, "books": [{"title": "A"}] * 30}, format="json")
    assert conflict.status_code == 409
    assert client_lookups_remaining(identity="203.0.113.7") == 70  # the 409 cost nothing
    invalid = client.post("/v1/enrichment/batch", {"jobId": str(uuid.uuid4()), "books": []}, format="json")
    assert invalid.status_code == 400 and client_lookups_remaining(identity="203.0.113.7") == 70


@pytest.mark.django_db(transaction=True)
def test_budget_zero_turns_the_cap_off(client, send_task, settings):
    settings.CLIENT_ISBN_BUDGET_PER_HOUR = 0
    settings.MAX_ACTIVE_JOBS_PER_CLIENT = 0
    for _ in range(3):
        assert _batch(client, 100).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_rate_limits_off_turns_the_per_client_limits_off_too(client, send_task, settings):
    settings.RATE_LIMIT_ENABLED = False  # tests and benchmarks
    settings.CLIENT_ISBN_BUDGET_PER_HOUR = 10
    settings.MAX_ACTIVE_JOBS_PER_CLIENT = 1
    for _ in range(3):
        assert _batch(client, 100).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_budget_follows_the_trusted_proxy_client_address(send_task, settings):
    settings.CLIENT_ISBN_BUDGET_PER_HOUR = 10
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    assert (
        proxy.post(
            "/v1/enrichment/batch",
            {"jobId": str(uuid.uuid4()), "books": [{"title": "A"}] * 10},
            format="json",
            HTTP_X_FORWARDED_FOR="192.0.2.1",
        ).status_code
        == 202
    )
    spoof = proxy.post(
        "/v1/enrichment/batch",
        {"jobId": str(uuid.uuid4()), "books": [{"title": "A"}]},
        format="json",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.1",  # a client-written hop further left changes nothing
    )
    _assert_contract_429(spoof, limit=10)
    other = proxy.post(
        "/v1/enrichment/batch",
        {"jobId": str(uuid.uuid4()), "books": [{"title": "A"}]},
        format="json",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert other.status_code == 202


# --- active jobs per client ------------------------------------------------------------------------


@pytest.fixture
def csv_start(settings, tmp_path, monkeypatch):
    from enrichment.tasks import run_csv_import

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    monkeypatch.setattr(run_csv_import, "delay", lambda job_id: None)

    def start(api_client):
        upload = SimpleUploadedFile(
            "library.csv", sample_bytes("csv/goodreads_export_2026_23col.csv"), content_type="text/csv"
        )
        return api_client.post("/api/import/csv-gemini", {"file": upload}, format="multipart")

    return start


@pytest.mark.django_db(transaction=True)
def test_active_jobs_are_capped_per_client_across_pipelines(client, other_client, send_task, csv_start, settings):
    settings.MAX_ACTIVE_JOBS_PER_CLIENT = 2
    assert _batch(client, 1).status_code == 202
    assert csv_start(client).status_code == 202
    _assert_contract_429(_batch(client, 1), limit=2)
    _assert_contract_429(csv_start(client), limit=2)
    assert client_lookups_remaining(identity="203.0.113.7") == settings.CLIENT_ISBN_BUDGET_PER_HOUR - 1  # refunded
    assert _batch(other_client, 1).status_code == 202  # another client has its own slots
    assert Job.objects.filter(status=JobStatus.QUEUED).count() == 3

    # A slot frees when one of the client's jobs ends (complete, failed or canceled).
    finished = Job.objects.filter(pipeline="batch_enrichment").order_by("created_at").first()
    finished.status = JobStatus.COMPLETE
    finished.save(update_fields=["status"])
    assert _batch(client, 1).status_code == 202


@pytest.mark.django_db
def test_jobs_started_by_code_are_not_capped(settings):
    settings.MAX_ACTIVE_JOBS_PER_CLIENT = 1
    for _ in range(3):
        job_create(pipeline="batch_enrichment", total=1)  # commands, benchmarks: no client
    job_create(pipeline="batch_enrichment", total=1, client="203.0.113.7")
    with pytest.raises(Exception) as refused:
        job_create(pipeline="batch_enrichment", total=1, client="203.0.113.7")
    assert refused.value.code == "RATE_LIMIT_EXCEEDED" and refused.value.status == 429
    stored = Job.objects.exclude(client_key="").get()
    assert stored.client_key != "203.0.113.7" and len(stored.client_key) == 32  # a digest, not the address
