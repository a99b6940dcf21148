"""Routes of the cover harvest: `POST /api/harvest-covers`, `GET /api/harvest-covers/{runId}` (ops
auth), `GET /covers/{isbn13}` (stored covers, validators), and harvested covers in search answers."""

from __future__ import annotations

import io
import uuid

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from harvest.covers import covers_harvest, covers_harvest_create
from harvest.models import HarvestRun
from tests.factories import bearer

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "ops-token-for-tests"
DUNE = "9780441172719"  # Dune: in every fake upstream


@pytest.fixture
def ops(settings):
    settings.OPS_TOKEN = TOKEN
    return bearer(TOKEN)


def harvest(limit: int = 10):
    run = covers_harvest_create(trigger="command", limit=limit)
    return covers_harvest(run_id=str(run.id))


# --- ops routes --------------------------------------------------------------------------------------


def test_starting_a_run_needs_staff_or_the_ops_token(client, settings, harvest_env):
    settings.OPS_TOKEN = TOKEN
    anonymous = client.post("/api/harvest-covers", {}, content_type="application/json")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHORIZED"
    wrong = client.post("/api/harvest-covers", {}, content_type="application/json", **bearer("nope"))
    assert wrong.status_code == 401
    user = get_user_model().objects.create_user("reader", password="pw")
    client.force_login(user)
    assert client.post("/api/harvest-covers", {}, content_type="application/json").status_code == 403
    assert not HarvestRun.objects.exists()


def test_post_answers_202_with_the_run_id_and_the_run_happens(client, ops, harvest_env, catalog_editions):
    catalog_editions(DUNE)
    response = client.post("/api/harvest-covers", {"limit": 5}, content_type="application/json", **ops)
    assert response.status_code == 202
    body = response.json()
    assert body["success"] is True and set(body["data"]) == {"runId"}
    run_id = body["data"]["runId"]
    # Celery is eager in tests: the run is finished by now.
    state = client.get(f"/api/harvest-covers/{run_id}", **ops)
    assert state.status_code == 200
    data = state.json()["data"]
    assert data["runId"] == run_id and data["status"] == "complete" and data["trigger"] == "api"
    assert (data["limit"], data["tried"], data["stored"], data["skipped"], data["failed"]) == (5, 1, 1, 0, 0)
    assert data["budget"]["used"] == sum(harvest_env.counts().values()) and data["bytesStored"] > 0
    assert data["sources"]["isbndb"]["stored"] == 1 and data["finishedAt"]


def test_staff_session_may_start_and_read(client, settings, harvest_env):
    settings.OPS_TOKEN = None
    staff = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(staff)
    started = client.post("/api/harvest-covers", content_type="application/json")
    assert started.status_code == 202
    assert client.get(f"/api/harvest-covers/{started.json()['data']['runId']}").status_code == 200


@pytest.mark.parametrize("limit", [0, -1, "many", 100_001, True, 1.5])
def test_a_bad_limit_is_400(client, ops, harvest_env, limit):
    response = client.post("/api/harvest-covers", {"limit": limit}, content_type="application/json", **ops)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_REQUEST"


def test_a_second_start_while_one_runs_is_409_naming_it(client, ops, harvest_env):
    running = covers_harvest_create(trigger="schedule", limit=10)
    response = client.post("/api/harvest-covers", {}, content_type="application/json", **ops)
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"runId": str(running.id)}


@pytest.mark.parametrize("run_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_run_is_404(client, ops, run_id):
    response = client.get(f"/api/harvest-covers/{run_id}", **ops)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


# --- /covers/{isbn13} ------------------------------------------------------------------------------


def test_a_harvested_cover_is_served_in_each_size(client, harvest_env, catalog_editions, settings):
    catalog_editions(DUNE)
    harvest()
    edges = {}
    for size in ("small", "medium", "large"):
        response = client.get(f"/covers/{DUNE}", {"size": size})
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == f"public, max-age={settings.HARVEST_COVER_MAX_AGE}"
        assert response["ETag"].startswith('"')
        edges[size] = max(Image.open(io.BytesIO(response.content)).size)
    assert edges == {"small": 128, "medium": 320, "large": 640}
    default = client.get(f"/covers/{DUNE}")
    assert max(Image.open(io.BytesIO(default.content)).size) == 320  # medium by default
    # The ISBN-10 names the same book.
    assert (
        client.get("/covers/0441172717", {"size": "small"}).content
        == client.get(f"/covers/{DUNE}", {"size": "small"}).content
    )


def test_if_none_match_is_304(client, harvest_env, catalog_editions):
    catalog_editions(DUNE)
    harvest()
    etag = client.get(f"/covers/{DUNE}", {"size": "large"})["ETag"]
    again = client.get(f"/covers/{DUNE}", {"size": "large"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    other_size = client.get(f"/covers/{DUNE}", {"size": "small"}, HTTP_IF_NONE_MATCH=etag)
    assert other_size.status_code == 200


def test_no_stored_cover_is_404_json(client, db):
    response = client.get(f"/covers/{DUNE}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND" and response.json()["success"] is False


@pytest.mark.parametrize("isbn", ["9780441172710", "12345", "abc"])
def test_an_invalid_isbn_is_400_invalid_isbn(client, db, isbn):
    response = client.get(f"/covers/{isbn}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_ISBN"


def test_an_unknown_size_is_400(client, db):
    response = client.get(f"/covers/{DUNE}", {"size": "huge"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_REQUEST"


def test_a_cover_gone_from_storage_is_404_not_500(client, harvest_env, catalog_editions):
    from django.core.files.storage import default_storage

    from harvest.models import Cover

    catalog_editions(DUNE)
    harvest()
    default_storage.delete(Cover.objects.get(isbn13=DUNE).variants["small"]["key"])
    assert client.get(f"/covers/{DUNE}", {"size": "small"}).status_code == 404


# --- harvested covers in search answers -----------------------------------------------------------


def test_search_answers_name_the_harvested_cover_once_harvested(client, harvest_env, settings):
    settings.COVERS_PUBLIC_BASE_URL = "https://api.example.test"
    before = client.get("/v1/search/isbn", {"isbn": DUNE}).json()["data"]
    cover_before = before["editions"][0].get("coverImageURL")
    assert cover_before and not cover_before.startswith("https://api.example.test")  # the provider's own
    harvest()  # the search wrote Dune to the catalog: it is in demand
    url = f"https://api.example.test/covers/{DUNE}?size=large"
    after = client.get("/v1/search/isbn", {"isbn": DUNE}).json()["data"]
    assert after["editions"][0]["coverImageURL"] == url
    v3 = client.get(f"/v3/books/{DUNE}").json()
    book = v3.get("data", v3)
    assert book["coverUrl"] == url and book["coverUrls"]["large"] == url
    legacy = client.get("/search/isbn", {"isbn": DUNE}).json()
    assert legacy["items"][0]["volumeInfo"]["imageLinks"]["thumbnail"] == url
    # The URL serves the cover.
    assert client.get(f"/covers/{DUNE}", {"size": "large"}).status_code == 200
