"""CSV import routes (issue 10 item 1; CONTRACT 2, 5): 202 start, preview, errors with the contract's codes."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from booktrack.core.ratelimit import reset_local_windows
from enrichment.csv_import import MAX_BODY_BYTES, MAX_FILE_BYTES
from jobs.models import Job
from tests.samples import sample_bytes

START = "/api/import/csv-gemini"
PREVIEW = "/api/import/csv/preview"
GOODREADS = "csv/goodreads_export_2026_23col.csv"


@pytest.fixture
def client():
    reset_local_windows()
    yield APIClient()
    reset_local_windows()


@pytest.fixture(autouse=True)
def _uploads_in_tmp(storage):
    """Every route test stores uploads in a temporary folder (the `storage` fixture of conftest)."""


def upload(client, path, data: bytes | None, name="library.csv", query=""):
    body = {} if data is None else {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
    return client.post(path + query, body, format="multipart")


@pytest.mark.django_db(transaction=True)
def test_start_answers_202_envelope_and_queues_the_task_after_commit(client, no_task, storage):
    response = upload(client, START, sample_bytes(GOODREADS))
    assert response.status_code == 202
    body = response.json()
    assert body["success"] is True
    assert set(body["data"]) == {"jobId", "token"}
    job = Job.objects.get(pk=body["data"]["jobId"])
    assert job.pipeline == "csv_import" and job.total_count == 10
    assert job.params["format"] == "goodreads" and job.params["filename"] == "library.csv"
    assert no_task == [str(job.id)]
    assert (storage / job.params["storageKey"]).read_bytes() == sample_bytes(GOODREADS)


@pytest.mark.django_db(transaction=True)
def test_start_echoes_a_client_job_id_in_its_own_case(client, no_task):
    job_id = str(uuid.uuid4()).upper()
    response = upload(client, START, sample_bytes(GOODREADS), query=f"?jobId={job_id}")
    assert response.status_code == 202
    assert response.json()["data"]["jobId"] == job_id
    assert no_task == [job_id.lower()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "code", "status"),
    [
        (None, "library.csv", "INVALID_FILE", 400),
        (b"", "library.csv", "INVALID_FILE", 400),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", "INVALID_FILE", 400),
        (b'Title,Author\n"Dune,Frank Herbert\n' + b"Emma,Jane Austen\n" * 600, "broken.csv", "INVALID_FILE", 400),
        (b"foo,bar\n1,2\n", "unknown.csv", "INVALID_FILE", 400),  # no importer, no Gemini key
    ],
)
@pytest.mark.parametrize("path", [START, PREVIEW])
def test_bad_files_are_json_errors_with_the_contract_code(client, no_task, settings, path, data, name, code, status):
    settings.GEMINI_API_KEY = ""
    response = upload(client, path, data, name=name)
    assert response.status_code == status
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    assert body["error"]["message"]
    assert no_task == []
    assert not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [START, PREVIEW])
def test_too_many_rows_is_batch_too_large(client, no_task, settings, path):
    settings.CSV_IMPORT_MAX_ROWS = 3
    response = upload(client, path, sample_bytes(GOODREADS))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BATCH_TOO_LARGE"
    assert error["details"] == {"maxRows": 3, "receivedRows": 10}
    assert no_task == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", [START, PREVIEW])
def test_a_body_over_the_route_cap_is_413_before_the_view(client, no_task, path):
    response = upload(client, path, b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "FILE_TOO_LARGE"
    assert error["details"]["maxBytes"] == MAX_BODY_BYTES and error["details"]["resourceType"] == "file"
    assert no_task == []


@pytest.mark.django_db
def test_a_file_over_10_mb_inside_the_body_cap_is_413(client, no_task):
    response = upload(client, START, b"x" * (MAX_FILE_BYTES + 1))
    assert response.status_code == 413
    assert response.json()["error"]["details"]["maxBytes"] == MAX_FILE_BYTES


@pytest.mark.django_db
def test_a_json_body_is_not_a_500(client, no_task):
    response = client.post(START, {"file": "Title\nDune\n"}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.django_db
def test_start_is_rate_limited_in_the_expensive_scope(client, no_task, settings):
    settings.RATE_LIMIT_ENABLED = True
    statuses = [upload(client, START, b"").status_code for _ in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


@pytest.mark.django_db
def test_preview_answers_at_once_without_a_job(client, no_task):
    response = upload(client, PREVIEW, sample_bytes(GOODREADS))
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["format"] == "goodreads"
    assert data["rowCount"] == 10
    assert data["mapping"]["Title"] == "title"
    assert [row["row"] for row in data["rows"]] == list(range(1, 11))
    assert data["rows"][0]["title"] == "O Amor nos Tempos do Cólera"
    assert data["problems"] == []
    assert no_task == [] and not Job.objects.exists()


@pytest.mark.django_db
def test_preview_shows_at_most_20_rows_and_the_problems(client):
    lines = "".join(f"Book {i},Author {i}\n" for i in range(30)) + ",Nobody\n"
    response = upload(client, PREVIEW, ("Title,Author\n" + lines).encode())
    data = response.json()["data"]
    assert data["rowCount"] == 31
    assert len(data["rows"]) == 20
    assert [p["row"] for p in data["problems"]] == [31]
