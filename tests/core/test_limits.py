"""CONTRACT 2 (413) and 8 (rate limits, CORS): limits enforced before any view runs."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core.limits import MB, body_limit_for_path
from booktrack.core.ratelimit import client_ip, rate_limit_check

VIEW_CALLS: list[str] = []


class LimitedUpload(APIView):
    max_body_bytes = 2 * MB
    body_resource_type = "image"

    def post(self, request):
        VIEW_CALLS.append("upload")
        return Response({"size": len(request.body)})


class Expensive(APIView):
    rate_limit_scope = "expensive"

    def post(self, request):
        VIEW_CALLS.append("expensive")
        return Response({"ok": True})


class Plain(APIView):
    def post(self, request):
        VIEW_CALLS.append("plain")
        return Response({"ok": True})


urlpatterns = [
    path("t/upload", LimitedUpload.as_view()),
    path("t/expensive", Expensive.as_view()),
    path("t/plain", Plain.as_view()),
]

pytestmark = [pytest.mark.urls("tests.core.test_limits")]


@pytest.fixture(autouse=True)
def _reset_calls():
    VIEW_CALLS.clear()
    body_limit_for_path.cache_clear()
    yield
    body_limit_for_path.cache_clear()


def test_declared_content_length_over_default_cap_is_413(client):
    response = client.post("/t/plain", data=b"x" * (1 * MB + 1), content_type="application/octet-stream")
    assert response.status_code == 413
    body = response.json()
    assert body["error"]["code"] == "FILE_TOO_LARGE"
    assert body["error"]["details"]["maxBytes"] == 1 * MB
    assert body["error"]["details"]["receivedBytes"] == 1 * MB + 1
    assert VIEW_CALLS == []


def test_route_declares_its_own_cap(client):
    ok = client.post("/t/upload", data=b"x" * (1 * MB + 10), content_type="application/octet-stream")
    assert ok.status_code == 200
    too_big = client.post("/t/upload", data=b"x" * (2 * MB + 1), content_type="application/octet-stream")
    assert too_big.status_code == 413
    assert too_big.json()["error"]["details"]["resourceType"] == "image"


def test_413_carries_cors_headers(client):
    response = client.post(
        "/t/plain", data=b"x" * (1 * MB + 1), content_type="application/octet-stream", HTTP_ORIGIN="https://app.example"
    )
    assert response.status_code == 413
    assert response["Access-Control-Allow-Origin"] == "*"


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def __call__(self, message: dict) -> None:
        self.messages.append(message)


def _run_chunked(app, *, chunks: int, chunk_size: int, path_: str = "/t/plain"):
    """Drive the ASGI app with a chunked body (no Content-Length) and count chunks it pulled."""
    pulled = 0

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        if pulled > chunks:
            await asyncio.sleep(3600)  # a real server blocks until the client goes away
        return {"type": "http.request", "body": b"y" * chunk_size, "more_body": pulled < chunks}

    send = _Recorder()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path_,
        "raw_path": path_.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/octet-stream")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=10))
    start = next(m for m in send.messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in send.messages if m["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


@pytest.mark.django_db
def test_chunked_upload_over_cap_stops_reading_at_the_cap():
    from booktrack.asgi import http_application as app

    # 6 MB in 64 KB chunks against the 1 MB default cap.
    status, body, pulled = _run_chunked(app, chunks=96, chunk_size=64 * 1024)
    assert status == 413
    assert body["error"]["code"] == "FILE_TOO_LARGE"
    assert body["error"]["details"]["maxBytes"] == 1 * MB
    # It read just past the cap (17 chunks of 64 KB), never the remaining ~5 MB.
    assert pulled == 17
    assert VIEW_CALLS == []


@pytest.mark.django_db
def test_chunked_upload_under_cap_reaches_the_view():
    from booktrack.asgi import http_application as app

    status, body, _ = _run_chunked(app, chunks=4, chunk_size=64 * 1024)
    assert status == 200
    assert VIEW_CALLS == ["plain"]


@override_settings(RATE_LIMITS={"expensive": (3, 60), "search": (100, 60)})
def test_rate_limit_refuses_past_the_limit_with_contract_body(client):
    statuses = [client.post("/t/expensive").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    response = client.post("/t/expensive", HTTP_ORIGIN="https://app.example")
    assert response.status_code == 429
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    retry = body["error"]["details"]["retryAfter"]
    assert body["error"]["message"] == f"Rate limit exceeded. Please try again in {retry} seconds."
    assert body["error"]["details"]["requestsLimit"] == 3
    assert body["error"]["details"]["requestsRemaining"] == 0
    assert int(response["Retry-After"]) >= 1
    assert response["X-RateLimit-Limit"] == "3"
    assert response["X-RateLimit-Remaining"] == "0"
    assert int(response["X-RateLimit-Reset"]) > 1_700_000_000
    assert response["Access-Control-Allow-Origin"] == "*"
    assert VIEW_CALLS == ["expensive"] * 3


@override_settings(RATE_LIMITS={"expensive": (2, 60), "search": (100, 60)})
def test_routes_without_a_scope_are_not_limited(client):
    assert all(client.post("/t/plain").status_code == 200 for _ in range(5))


@override_settings(RATE_LIMITS={"expensive": (2, 60), "search": (100, 60)})
def test_spoofed_forwarded_for_does_not_escape_the_limit(client):
    statuses = [client.post("/t/expensive", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(4)]
    assert statuses == [200, 200, 429, 429]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_client_ip_trusts_only_the_configured_proxy_hops(rf):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "203.0.113.9"


def test_client_ip_defaults_to_socket_peer(rf):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="192.0.2.4")
    assert client_ip(request) == "192.0.2.4"


@override_settings(RATE_LIMITS={"expensive": (2, 60), "search": (100, 60)})
def test_rate_limiter_fails_open_when_store_is_down(monkeypatch):
    class BrokenRedis:
        def pipeline(self, **kwargs):
            raise ConnectionError("redis down")

    monkeypatch.setattr("booktrack.core.windows.get_redis", lambda: BrokenRedis())
    decisions = [rate_limit_check(scope="expensive", identity="1.2.3.4") for _ in range(5)]
    assert all(d.allowed for d in decisions)


def test_cors_preflight_is_204_with_contract_headers(client):
    response = client.options(
        "/t/plain",
        HTTP_ORIGIN="https://web.bookstrack.app",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, authorization, x-ai-provider",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Max-Age"] == "86400"
    methods = {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "POST", "DELETE", "OPTIONS"}
    headers = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "authorization", "accept", "x-ai-provider"} <= headers
    assert "Access-Control-Allow-Credentials" not in response


@override_settings(
    CORS_ALLOWED_ORIGINS=["https://web.bookstrack.app"], CORS_ALLOW_ALL_ORIGINS=False, CORS_ALLOW_CREDENTIALS=True
)
def test_cors_with_listed_origins_never_uses_wildcard(client):
    allowed = client.get("/health/live", HTTP_ORIGIN="https://web.bookstrack.app")
    assert allowed["Access-Control-Allow-Origin"] == "https://web.bookstrack.app"
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    other = client.get("/health/live", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
