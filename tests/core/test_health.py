"""CONTRACT 8: /health with real checks; /health/live with no I/O."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booktrack.core import health


@pytest.mark.django_db
def test_health_reports_every_dependency(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert "/health/live" in body["endpoints"]


@pytest.mark.django_db
def test_health_is_503_when_a_dependency_fails(client, monkeypatch):
    def broken_cache() -> str:
        raise ConnectionError("cache down")

    monkeypatch.setitem(health.CHECKS, "cache", broken_cache)
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "error"
    assert body["checks"]["cache"]["detail"] == "unavailable"


@pytest.mark.django_db
def test_health_shows_no_raw_exception_text(client, monkeypatch, caplog):
    def broken_database() -> str:
        raise RuntimeError("could not connect to server at 10.0.0.7:5432 as user booktrack password=hunter2")

    monkeypatch.setitem(health.CHECKS, "database", broken_database)
    response = client.get("/health")
    assert response.status_code == 503
    text = response.content.decode()
    assert "10.0.0.7" not in text and "hunter2" not in text and "RuntimeError" not in text
    assert response.json()["checks"]["database"] == {
        "status": "error",
        "latencyMs": response.json()["checks"]["database"]["latencyMs"],
        "detail": "unavailable",
    }
    logged = caplog.text
    assert "10.0.0.7" in logged and "hunter2" not in logged  # the operator sees it, redacted


@pytest.mark.django_db
def test_health_runs_its_checks_once_per_cache_period(client, monkeypatch, settings):
    settings.HEALTH_CACHE_SECONDS = 60
    calls = []
    monkeypatch.setitem(health.CHECKS, "database", lambda: calls.append(1) or "sqlite")
    for _ in range(5):
        assert client.get("/health").status_code == 200
    assert calls == [1]


@pytest.mark.django_db
def test_health_does_not_write_to_storage_on_every_hit(client, monkeypatch, settings):
    from django.core.files.storage import default_storage

    settings.HEALTH_CACHE_SECONDS = 0
    saves = []
    real_save = default_storage.save
    monkeypatch.setattr(default_storage, "save", lambda *a, **k: saves.append(1) or real_save(*a, **k))
    for _ in range(5):
        response = client.get("/health")
        assert response.json()["checks"]["storage"]["status"] == "ok"
    assert len(saves) == 1


@pytest.mark.django_db
def test_health_is_rate_limited_per_ip(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "health": (3, 60)}
    statuses = [client.get("/health", REMOTE_ADDR="10.1.1.1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/health", REMOTE_ADDR="10.1.1.1")
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED" and int(refused["Retry-After"]) >= 1
    assert client.get("/health", REMOTE_ADDR="10.1.1.2").status_code == 200  # another client


@pytest.mark.django_db
def test_health_live_does_no_io(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(queries) == 0


def test_plain_get_on_websocket_route_is_426(client):
    response = client.get("/ws/progress")
    assert response.status_code == 426
    assert response["Upgrade"] == "websocket"
    body = response.json()
    assert body["success"] is False and body["data"] is None and body["metadata"]["requestId"]
    assert body["error"]["code"] == "INVALID_REQUEST"


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "BooksTrack API"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_disallowed_host_is_json_400(client):
    response = client.get("/health/live", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "INVALID_REQUEST"
