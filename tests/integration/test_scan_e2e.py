"""Bookshelf scan end to end (issue 11): a batch of 3 photos over HTTP in service mode, a real worker
running the real stages (intake, quality, barcodes, the Gemini engine against the Gemini fake, lookups
against the search fakes), WebSocket progress per photo to `job_complete`, and the results route.

Photos: the two real shelf photos of tests/fixtures/upstream/images/ and a third made from the first
(mirrored, PNG), so the model is sent each photo's true type.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from pathlib import Path

import pytest

from tests.integration.test_jobs_e2e import collect, logged, run

pytestmark = pytest.mark.integration

IMAGES = Path(__file__).resolve().parents[1] / "fixtures" / "upstream" / "images"
SHELVES = ("bookshelf_shelf_photo_1538_1.jpg", "bookshelf_shelf_photo_1539_1.jpg")


def shelf_photos() -> list[bytes]:
    from PIL import Image, ImageOps

    photos = [(IMAGES / name).read_bytes() for name in SHELVES]
    with Image.open(io.BytesIO(photos[0])) as first:
        mirrored = ImageOps.mirror(ImageOps.exif_transpose(first).convert("RGB"))
        out = io.BytesIO()
        mirrored.save(out, format="PNG")
    return [*photos, out.getvalue()]


def box_in_range(box) -> bool:
    if box is None:
        return True
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    return 0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1 and x + w <= 1.001 and y + h <= 1.001


def test_batch_of_three_photos_progress_per_photo_to_results(stack, running_worker, fake_upstreams):
    photos = shelf_photos()
    job_id = str(uuid.uuid4())
    images = [{"index": i, "data": base64.b64encode(data).decode()} for i, data in enumerate(photos)]
    response = stack.http("POST", "/api/scan-bookshelf/batch", json={"jobId": job_id, "images": images})
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    assert data["jobId"] == job_id and data["totalPhotos"] == 3 and data["status"] == "processing"

    messages, code = run(collect(stack.ws_url(job_id, data["token"]), timeout=120), timeout=240)
    assert code == 1000, messages[-3:]
    events = logged(messages)
    assert events[0]["type"] == "job_started" and events[0]["payload"]["totalCount"] == 3
    assert events[-1]["type"] == "job_complete" and events[-1]["pipeline"] == "ai_scan"
    progress = [m["payload"] for m in events if m["type"] == "job_progress"]
    fractions = [p["progress"] for p in progress]
    assert fractions == sorted(fractions)
    statuses = [p["status"] for p in progress]
    for n in (1, 2, 3):  # the contract's stages, for each photo, and what each photo gave
        assert f"Photo {n} of 3: image quality check" in statuses, statuses
        assert any(s.startswith(f"Photo {n} of 3: ") and s.endswith(("found", ".")) for s in statuses), statuses
    assert all(isinstance(p["currentItem"], str) for p in progress)

    complete = events[-1]["payload"]
    assert complete["resultsUrl"] == f"/v1/scan/results/{job_id}"
    assert complete["approved"] + complete["needsReview"] == complete["totalDetected"]
    assert complete["metadata"]["modelUsed"] and complete["summary"]["totalProcessed"] == 3
    assert len(json.dumps(complete)) < 1024

    results = stack.http("GET", f"/v1/scan/results/{job_id}").json()["data"]
    assert results["totalDetected"] == complete["totalDetected"] == len(results["books"]) > 0
    assert results["approved"] + results["needsReview"] == results["totalDetected"]
    assert [p["index"] for p in results["photos"]] == [0, 1, 2]
    assert all(p["status"] in ("done", "failed") and p["quality"] for p in results["photos"])
    for book in results["books"]:
        assert box_in_range(book["boundingBox"]), book
        assert all(box_in_range(s["boundingBox"]) for s in book["evidence"]["sightings"])
        assert book["photoIndex"] in (0, 1, 2)
        assert book["confidence"] is None or 0 <= book["confidence"] <= 1
        assert book["reviewStatus"] in ("verified", "needsReview")
        assert book["enrichmentStatus"] in ("success", "not_found", "error")
    # The fakes' books are in the search fakes: some are enriched, with covers and editions.
    enriched = [b for b in results["books"] if b["enrichmentStatus"] == "success"]
    assert enriched and all(b["enrichment"]["work"]["title"] for b in enriched)
    # Each usable photo went to the model exactly once, with its true type.
    usable = sum(1 for p in results["photos"] if p["quality"]["usable"])
    assert fake_upstreams.count("POST /gemini") == usable
    inline = [
        part.get("inlineData") or part.get("inline_data")
        for request in fake_upstreams.requests("gemini")
        for content in json.loads(request["body"]).get("contents", [])
        for part in content.get("parts", [])
        if part.get("inlineData") or part.get("inline_data")
    ]
    sent_types = {data.get("mimeType") or data.get("mime_type") for data in inline}
    assert "image/png" in sent_types or usable < 3
    # The photos are in object storage under the job.
    stored = stack.sql("SELECT params FROM jobs_job WHERE id = %s", (job_id,))[0][0]
    keys = [p["key"] for p in stored["photos"]]
    assert len(keys) == 3 and all(f"/{job_id}/" in key for key in keys)
    assert all((Path(stack.env["DATA_DIR"]) / "media" / key).exists() for key in keys)


def test_worker_sigkill_mid_scan_resumes_without_sending_a_finished_photo_again(stack, running_worker, fake_upstreams):
    from tests.integration.test_jobs_e2e import wait_state

    fake_upstreams.configure("gemini", latency_ms=2500)  # a slow model: the scan is mid-way when killed
    photos = shelf_photos()
    images = [{"index": i, "data": base64.b64encode(data).decode()} for i, data in enumerate(photos)]
    response = stack.http("POST", "/api/scan-bookshelf/batch", json={"images": images})
    assert response.status_code == 202, response.text
    job_id, token = response.json()["data"]["jobId"], response.json()["data"]["token"]

    done_at_kill = stack.kill_worker_after_items(job_id, at_least=1, timeout=90)
    assert 1 <= done_at_kill < 3
    asked_before = fake_upstreams.count("POST /gemini")
    assert stack.restore_unacked() >= 1
    stack.worker.start(timeout=60)
    state = wait_state(stack, job_id, token, lambda s: s["status"] == "complete", timeout=120)
    assert state["processedCount"] == 3 and stack.items_done(job_id) == 3
    # Finished photos were not sent again: only the photos left (one may have been in flight).
    assert fake_upstreams.count("POST /gemini") - asked_before <= 3 - done_at_kill + 1
    assert fake_upstreams.count("POST /gemini") <= 4
    results = stack.http("GET", f"/v1/scan/results/{job_id}").json()["data"]
    assert [p["status"] for p in results["photos"]] == ["done", "done", "done"]
    assert results["approved"] + results["needsReview"] == results["totalDetected"] > 0
    events = stack.sql("SELECT type FROM jobs_jobevent WHERE job_id = %s ORDER BY seq", (job_id,))
    types = [t for (t,) in events]
    assert types.count("job_started") == 1 and types.count("job_complete") == 1


def test_single_photo_raw_body_to_results(stack, running_worker, fake_upstreams):
    photo = (IMAGES / SHELVES[1]).read_bytes()
    job_id = str(uuid.uuid4()).upper()
    response = stack.http(
        "POST", f"/api/scan-bookshelf?jobId={job_id}", data=photo, headers={"Content-Type": "image/jpeg"}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["jobId"] == job_id and body["status"] == "started" and "success" not in body
    assert [s["name"] for s in body["stages"]] == ["image quality check", "AI detection", "enrichment"]
    messages, code = run(collect(stack.ws_url(job_id, body["token"]), timeout=120), timeout=180)
    assert code == 1000
    events = logged(messages)
    assert events[0]["payload"]["totalCount"] == 1 and events[-1]["type"] == "job_complete"
    assert any(m["payload"].get("status", "").startswith("Photo 1 of 1: ") for m in events[1:-1])
    results = stack.http("GET", f"/v1/scan/results/{job_id}").json()["data"]
    assert len(results["photos"]) == 1 and results["approved"] + results["needsReview"] == results["totalDetected"]
    # The next scan's estimate comes from the timings of the scans that ran.
    again = stack.http("POST", "/api/scan-bookshelf", data=photo, headers={"Content-Type": "image/jpeg"}).json()
    assert again["estimatedRange"][0] <= again["estimatedRange"][1]
