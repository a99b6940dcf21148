"""CONTRACT 8: /metrics from real counters, ops-only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from booktrack.core import metrics


@override_settings(OPS_TOKEN="s3cret-ops-token")
def test_metrics_requires_ops_token_or_staff(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-ops-token").status_code == 200


def test_metrics_is_closed_when_no_ops_token_is_configured(client):
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.django_db
def test_metrics_forbids_non_staff_users(client):
    user = get_user_model().objects.create_user("reader", password="pw")
    client.force_login(user)
    assert client.get("/metrics").status_code == 403
    user.is_staff = True
    user.save()
    assert client.get("/metrics").status_code == 200


@override_settings(OPS_TOKEN="tok-123456")
def test_metrics_counts_real_requests_and_upstreams(client):
    for _ in range(3):
        client.get("/health/live")
    client.get("/no/such/route")
    metrics.record_upstream_call("openlibrary", status=200, latency_ms=40)
    metrics.record_upstream_call("openlibrary", status=503, latency_ms=900)
    metrics.record_cache("edge", hit=True)
    metrics.record_cache("edge", hit=False)
    metrics.record_model_tokens("gemini-2.5-flash", prompt_tokens=120, output_tokens=30)
    metrics.record_job("csv_import", status="complete")
    body = client.get("/metrics?period=15m", HTTP_AUTHORIZATION="Bearer tok-123456").json()
    assert body["period"] == "15m"
    routes = {(r["route"], r["method"]): r for r in body["requests"]["byRoute"]}
    assert routes[("health/live", "GET")]["2xx"] == 3
    assert routes[("unmatched", "GET")]["4xx"] == 1
    assert body["requests"]["total"] >= 4
    assert body["requests"]["latencyMs"]["p50"] is not None
    ol = body["providers"]["openlibrary"]
    assert ol["calls"] == 2 and ol["errors"] == 1 and ol["errorRate"] == 0.5
    assert ol["latencyMs"]["p99"] > ol["latencyMs"]["p50"]
    assert body["cache"]["edge"] == {"hits": 1, "misses": 1, "hitRate": 0.5}
    assert body["models"]["gemini-2.5-flash"]["promptTokens"] == 120
    assert body["jobs"]["csv_import"]["complete"] == 1


@override_settings(OPS_TOKEN="tok-123456")
def test_metrics_prometheus_format(client):
    metrics.record_upstream_call("google-books", status=200, latency_ms=12)
    response = client.get("/metrics?format=prometheus&period=1h", HTTP_AUTHORIZATION="Bearer tok-123456")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE booktrack_provider_calls gauge" in text
    assert 'booktrack_provider_calls{period="1h",provider="google-books"} 1' in text


@override_settings(OPS_TOKEN="tok-123456")
def test_metrics_rejects_unknown_period(client):
    response = client.get("/metrics?period=2y", HTTP_AUTHORIZATION="Bearer tok-123456")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_QUERY"


def test_percentile_interpolates_inside_buckets():
    hist = {"10": 50, "100": 50}
    assert metrics.percentile(hist, 0.5) == 10
    assert 10 < metrics.percentile(hist, 0.99) <= 100
    assert metrics.percentile({}, 0.5) is None
