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
    assert "cache down" in body["checks"]["cache"]["detail"]


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
