"""Scan routes (CONTRACT 5): single photo, batch (JSON and multipart), cancel, results; every error."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from jobs.models import Job, JobStatus
from scanning import services
from scanning.tasks import run_scan
from tests.factories import bearer
from tests.scanning.conftest import detection, photo_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def queued(monkeypatch, stages, storage):
    """The real routes with the fake stages; the task recorded instead of sent."""
    monkeypatch.setattr(services, "default_stages", lambda: stages)
    sent: list[str] = []
    monkeypatch.setattr(run_scan, "delay", lambda job_id: sent.append(job_id))
    return sent


def post_photo(client, data: bytes, *, content_type="image/jpeg", job_id: str | None = None):
    path = "/api/scan-bookshelf" + (f"?jobId={job_id}" if job_id else "")
    return client.generic("POST", path, data, content_type=content_type)


def post_batch(client, images: list, **extra):
    return client.post("/api/scan-bookshelf/batch", {"images": images, **extra}, format="json")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# --- single photo --------------------------------------------------------------------------------


def test_single_photo_starts_a_job_with_the_raw_202(client, queued, storage, django_capture_on_commit_callbacks):
    job_id = str(uuid.uuid4()).upper()  # Swift's uuidString: echoed as sent
    with django_capture_on_commit_callbacks(execute=True):
        response = post_photo(client, photo_bytes(0), job_id=job_id)
    assert response.status_code == 202, response.content
    body = response.json()
    assert "success" not in body  # raw, as the apps expect
    assert body["jobId"] == job_id and body["token"] and body["status"] == "started" and body["websocketReady"] is True
    assert [s["name"] for s in body["stages"]] == ["image quality check", "AI detection", "enrichment"]
    assert all(s["typicalDuration"] > 0 and 0 < s["progress"] <= 1 for s in body["stages"])
    low, high = body["estimatedRange"]
    assert 1 <= low <= high
    job = Job.objects.get(pk=job_id.lower())
    assert job.pipeline == "ai_scan" and job.total_count == 1 and queued == [str(job.id)]
    (photo,) = job.params["photos"]
    assert photo["mimeType"] == "image/png" and photo["key"].startswith("scans/")  # sniffed, not the header
    assert (storage / photo["key"]).read_bytes() == photo_bytes(0)


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"", "image/jpeg", 400, "INVALID_FILE"),
        (b"%PDF-1.4 not a photo", "image/jpeg", 400, "INVALID_FILE"),
        (photo_bytes(0), "application/json", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (photo_bytes(0), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_single_photo_refusals(client, queued, data, content_type, status, code):
    response = post_photo(client, data, content_type=content_type)
    assert error_of(response) == (status, code)
    assert Job.objects.count() == 0 and queued == []


def test_not_an_image_says_why(client, queued):
    response = post_photo(client, b"hello, I am text")
    assert error_of(response) == (400, "INVALID_FILE")
    assert "not an image" in response.json()["error"]["message"]


def test_single_photo_over_5_mb_is_413(client, queued):
    response = post_photo(client, photo_bytes(0) + b"x" * (5 * 1024 * 1024))
    assert error_of(response) == (413, "FILE_TOO_LARGE")
    details = response.json()["error"]["details"]
    assert details["maxBytes"] == 5 * 1024 * 1024 and details["resourceType"] == "image"


def test_decompression_bomb_is_413_with_the_intakes_reason(client, queued):
    single = post_photo(client, photo_bytes(0, b"BOMB"))
    assert error_of(single) == (413, "FILE_TOO_LARGE") and "too many pixels" in single.json()["error"]["message"]
    images = [{"index": 0, "data": b64(photo_bytes(0))}, {"index": 1, "data": b64(photo_bytes(1, b"BOMB"))}]
    batch = post_batch(client, images).json()["error"]
    assert batch["code"] == "FILE_TOO_LARGE" and batch["details"] == {"photoIndex": 1, "resourceType": "image"}


def test_single_photo_bad_or_taken_job_id(client, queued):
    assert error_of(post_photo(client, photo_bytes(0), job_id="not-a-uuid")) == (400, "INVALID_REQUEST")
    job_id = str(uuid.uuid4())
    assert post_photo(client, photo_bytes(0), job_id=job_id).status_code == 202
    assert error_of(post_photo(client, photo_bytes(0), job_id=job_id)) == (409, "CONFLICT")


def test_scan_starts_are_rate_limited(client, queued, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "expensive": (1, 60)}
    assert post_photo(client, photo_bytes(0)).status_code == 202
    response = client.post(
        "/api/scan-bookshelf/batch", {"images": [{"index": 0, "data": b64(photo_bytes(0))}]}, format="json"
    )
    assert error_of(response) == (429, "RATE_LIMIT_EXCEEDED")


# --- batch ---------------------------------------------------------------------------------------


def test_batch_json_starts_a_job_with_the_envelope(client, queued, django_capture_on_commit_callbacks):
    job_id = str(uuid.uuid4())
    images = [
        {"index": 2, "data": b64(photo_bytes(2))},
        {"index": 0, "data": "data:image/png;base64," + b64(photo_bytes(0))},
        {"index": 1, "data": base64.urlsafe_b64encode(photo_bytes(1)).decode().rstrip("=")},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(client, images, jobId=job_id)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["success"] is True
    assert body["data"] == {"jobId": job_id, "token": body["data"]["token"], "totalPhotos": 3, "status": "processing"}
    job = Job.objects.get(pk=job_id)
    assert [p["index"] for p in job.params["photos"]] == [0, 1, 2] and queued == [job_id]


def test_batch_multipart_photos(client, queued):
    files = [SimpleUploadedFile(f"p{i}.jpg", photo_bytes(i), content_type="image/jpeg") for i in range(2)]
    response = client.post("/api/scan-bookshelf/batch", {"photos": files}, format="multipart")
    assert response.status_code == 202, response.content
    assert response.json()["data"]["totalPhotos"] == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"images": []}, 400, "EMPTY_BATCH"),
        ({}, 400, "EMPTY_BATCH"),
        ({"images": "nope"}, 400, "INVALID_REQUEST"),
        ({"images": [{"index": i, "data": b64(photo_bytes(i))} for i in range(6)]}, 400, "BATCH_TOO_LARGE"),
        ({"images": [{"index": 0, "data": "%%% not base64 %%%"}]}, 400, "INVALID_REQUEST"),
        ({"images": [{"index": 0}]}, 400, "INVALID_REQUEST"),
        (
            {"images": [{"index": 0, "data": b64(photo_bytes(0))}, {"index": 0, "data": b64(photo_bytes(1))}]},
            400,
            "INVALID_REQUEST",
        ),
        ({"images": [{"index": -1, "data": b64(photo_bytes(0))}]}, 400, "INVALID_REQUEST"),
        (
            {"images": [{"index": 0, "data": b64(photo_bytes(0))}, {"index": 1, "data": b64(b"GIF89a")}]},
            400,
            "INVALID_FILE",
        ),
        ({"images": [{"index": 0, "data": b64(photo_bytes(0))}], "jobId": "nope"}, 400, "INVALID_REQUEST"),
    ],
)
def test_batch_refusals(client, queued, body, status, code):
    assert error_of(client.post("/api/scan-bookshelf/batch", body, format="json")) == (status, code)
    assert Job.objects.count() == 0 and queued == []


def test_batch_names_the_photo_that_is_not_an_image(client, queued):
    images = [{"index": 0, "data": b64(photo_bytes(0))}, {"index": 4, "data": b64(b"plain text")}]
    error = post_batch(client, images).json()["error"]
    assert error["details"]["photoIndex"] == 4 and error["message"].startswith("Photo 4:")


def test_batch_photo_over_10_mb_is_413(client, queued):
    big = photo_bytes(0) + b"x" * (10 * 1024 * 1024)
    response = post_batch(client, [{"index": 0, "data": b64(big)}])
    assert error_of(response) == (413, "FILE_TOO_LARGE")
    assert response.json()["error"]["details"]["photoIndex"] == 0


def test_batch_multipart_refusals(client, queued):
    empty = client.post("/api/scan-bookshelf/batch", {"jobId": str(uuid.uuid4())}, format="multipart")
    assert error_of(empty) == (400, "EMPTY_BATCH")
    six = [SimpleUploadedFile(f"p{i}.jpg", photo_bytes(i)) for i in range(6)]
    assert error_of(client.post("/api/scan-bookshelf/batch", {"photos": six}, format="multipart")) == (
        400,
        "BATCH_TOO_LARGE",
    )


def test_batch_multipart_photo_over_10_mb_is_413_before_it_is_read(client, queued):
    files = [
        SimpleUploadedFile("ok.jpg", photo_bytes(0)),
        SimpleUploadedFile("big.jpg", photo_bytes(1) + b"x" * (10 * 1024 * 1024)),
    ]
    response = client.post("/api/scan-bookshelf/batch", {"photos": files}, format="multipart")
    assert error_of(response) == (413, "FILE_TOO_LARGE")
    assert response.json()["error"]["details"]["photoIndex"] == 1


def test_batch_body_cap_is_declared_on_the_route(client, queued):
    from scanning.views import MAX_BATCH_BODY_BYTES

    response = client.generic(
        "POST", "/api/scan-bookshelf/batch", b"{}", content_type="application/json",
        CONTENT_LENGTH=str(MAX_BATCH_BODY_BYTES + 1),
    )  # fmt: skip
    assert error_of(response) == (413, "FILE_TOO_LARGE")


# --- cancel and results --------------------------------------------------------------------------


def start(client, n: int = 2) -> tuple[str, str]:
    response = post_batch(client, [{"index": i, "data": b64(photo_bytes(i))} for i in range(n)])
    data = response.json()["data"]
    return data["jobId"], data["token"]


def test_cancel_with_bearer_or_body_token(client, queued):
    job_id, token = start(client)
    wrong = client.post("/api/scan-bookshelf/cancel", {"jobId": job_id, "token": "wrong"}, format="json")
    assert error_of(wrong) == (401, "UNAUTHORIZED")
    missing = client.post("/api/scan-bookshelf/cancel", {"jobId": job_id}, format="json")
    assert error_of(missing) == (401, "UNAUTHORIZED")
    response = client.post("/api/scan-bookshelf/cancel", {"jobId": job_id}, format="json", **bearer(token))
    assert response.status_code == 200 and response.json() == {"jobId": job_id, "status": "canceled"}
    again = client.post("/api/scan-bookshelf/cancel", {"jobId": job_id, "token": token}, format="json")
    assert error_of(again) == (409, "CONFLICT")
    unknown = client.post("/api/scan-bookshelf/cancel", {"jobId": str(uuid.uuid4()), "token": token}, format="json")
    assert error_of(unknown) == (404, "NOT_FOUND")
    # Canceled while queued: results exist (no photo finished, so no books).
    results = client.get(f"/v1/scan/results/{job_id}").json()["data"]
    assert (
        results["canceled"] is True
        and results["books"] == []
        and [p["status"] for p in results["photos"]] == ["pending"] * 2
    )


def test_route_to_task_to_results(client, queued, stages, engine):
    engine.replies = {0: [detection("Dune", "Frank Herbert", 0.95)], 1: [detection("Emma", "Jane Austen", None)]}
    job_id, token = start(client)
    assert error_of(client.get(f"/v1/scan/results/{job_id}")) == (404, "NOT_FOUND")  # not finished yet
    services.scan_execute(job_id=job_id, stages=stages)  # what the worker runs
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.COMPLETE
    body = client.get(f"/v1/scan/results/{job_id}", **bearer(token)).json()
    assert body["success"] is True
    results = body["data"]
    assert (results["totalDetected"], results["approved"], results["needsReview"]) == (2, 1, 1)
    assert [p["status"] for p in results["photos"]] == ["done", "done"]
    state = client.get(f"/api/job-state/{job_id}", **bearer(token)).json()
    assert state["resultsUrl"] == f"/v1/scan/results/{job_id}" and state["processedCount"] == 2
    # A redelivery of a finished job does nothing.
    assert services.scan_execute(job_id=job_id, stages=stages) is None
    assert error_of(client.get(f"/v1/scan/results/{uuid.uuid4()}")) == (404, "NOT_FOUND")
    assert error_of(client.get(f"/v1/scan/results/{job_id}", **bearer("wrong"))) == (401, "UNAUTHORIZED")


# --- with the real intake (scanning.images) ----------------------------------------------------


@pytest.fixture
def real_intake(monkeypatch, storage):
    sent: list[str] = []
    monkeypatch.setattr(run_scan, "delay", lambda job_id: sent.append(job_id))
    return sent


def picture(fmt: str) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 90, 60)).save(out, format=fmt)
    return out.getvalue()


def test_real_intake_stores_the_true_type_and_refuses_what_is_not_an_image(client, real_intake):
    png_labelled_jpeg = post_photo(client, picture("PNG"), content_type="image/jpeg")
    assert png_labelled_jpeg.status_code == 202, png_labelled_jpeg.content
    job = Job.objects.get(pk=png_labelled_jpeg.json()["jobId"])
    assert job.params["photos"][0]["mimeType"] == "image/png" and job.params["photos"][0]["key"].endswith(".png")
    text = post_photo(client, b"this is a text file, not a photo at all", content_type="image/jpeg")
    assert error_of(text) == (400, "INVALID_FILE") and text.json()["error"]["message"]
    truncated = post_batch(client, [{"index": 0, "data": b64(picture("JPEG")[:-200])}])
    assert truncated.status_code == 400 and truncated.json()["error"]["details"]["photoIndex"] == 0
    assert Job.objects.count() == 1
