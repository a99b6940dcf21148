"""CONTRACT 2: envelopes, JSON errors for every status, request id and timing headers."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from booktrack.core.envelope import success
from booktrack.core.exceptions import ProviderTimeout


@api_view(["GET"])
def _ok(request):
    return success(request, {"answer": 42})


@api_view(["GET", "POST"])
def _boom(request):
    raise RuntimeError("secret internals /etc/passwd")


@api_view(["GET"])
def _domain(request):
    raise ProviderTimeout("slow upstream")


@api_view(["POST"])
def _echo(request):
    return Response({"got": request.data})


def _plain(request):
    return HttpResponse("ok")


urlpatterns = [
    path("t/ok", _ok),
    path("t/boom", _boom),
    path("t/domain", _domain),
    path("t/echo", _echo),
    path("t/plain", _plain),
]

pytestmark = [pytest.mark.urls("tests.core.test_envelope_and_errors")]


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


def test_success_envelope_has_data_and_metadata(client):
    response = client.get("/t/ok")
    body = response.json()
    assert body["success"] is True
    assert body["data"] == {"answer": 42}
    meta = body["metadata"]
    assert meta["timestamp"].endswith("Z")
    assert meta["requestId"] == response["X-Request-ID"]
    assert isinstance(meta["processingTime"], int)


def test_every_response_carries_request_id_and_response_time(client):
    for url in ("/t/ok", "/t/plain", "/nowhere"):
        response = client.get(url)
        assert response["X-Request-ID"]
        assert response["X-Response-Time"].endswith("ms")


def test_client_request_id_is_echoed_when_well_formed(client):
    response = client.get("/t/ok", HTTP_X_REQUEST_ID="abc12345-trace")
    assert response["X-Request-ID"] == "abc12345-trace"
    response = client.get("/t/ok", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"


def test_unknown_path_is_json_404(client):
    _assert_error(client.get("/no/such/route"), 404, "NOT_FOUND")


@override_settings(DEBUG=True)
def test_unknown_path_is_json_404_even_in_debug(client):
    _assert_error(client.get("/no/such/route"), 404, "NOT_FOUND")


def test_wrong_method_is_json_405(client):
    body = _assert_error(client.delete("/t/ok"), 405, "METHOD_NOT_ALLOWED")
    assert "traceback" not in str(body).lower()


def test_unhandled_exception_is_json_500_without_traceback(client):
    client.raise_request_exception = False
    response = client.get("/t/boom")
    _assert_error(response, 500, "INTERNAL_ERROR")
    text = response.content.decode()
    assert "secret internals" not in text
    assert "Traceback" not in text


def test_domain_error_maps_to_contract_code(client):
    body = _assert_error(client.get("/t/domain"), 504, "PROVIDER_TIMEOUT")
    assert body["error"]["message"] == "slow upstream"


def test_malformed_json_is_400_invalid_request(client):
    response = client.post("/t/echo", data="{not json", content_type="application/json")
    _assert_error(response, 400, "INVALID_REQUEST")


def test_unsupported_media_type_is_415(client):
    response = client.post("/t/echo", data="x", content_type="application/x-weird")
    _assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
