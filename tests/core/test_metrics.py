"""CONTRACT 8: /metrics from real counters, ops-only."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

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


def _scrape(client, **headers) -> dict:
    response = client.get("/metrics?format=prometheus", HTTP_AUTHORIZATION="Bearer tok-123456", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def _sample(family, suffix: str, **labels) -> float:
    matches = [s.value for s in family.samples if s.name == family.name + suffix and s.labels == labels]
    assert len(matches) == 1, (suffix, labels, family.samples)
    return matches[0]


@override_settings(OPS_TOKEN="tok-123456")
def test_metrics_prometheus_counters_grow_with_real_requests(client):
    for _ in range(3):
        client.get("/health/live")
    before = _scrape(client)
    requests = before["booktrack_http_requests"]
    assert requests.type == "counter"
    assert _sample(requests, "_total", route="health/live", method="GET", status="2xx") == 3
    latency = before["booktrack_http_request_duration_seconds"]
    assert latency.type == "histogram"
    buckets = [(s.labels["le"], s.value) for s in latency.samples if s.name.endswith("_bucket")]
    assert buckets[-1][0] == "+Inf" and [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1][1] == _sample(latency, "_count") == 3  # the 3 requests; the scrape is counted after it

    client.get("/health/live")
    client.get("/health/live")
    client.get("/no/such/route")
    after = _scrape(client)
    assert _sample(after["booktrack_http_requests"], "_total", route="health/live", method="GET", status="2xx") == 5
    assert _sample(after["booktrack_http_requests"], "_total", route="unmatched", method="GET", status="4xx") == 1
    # 3 + 3 more + the first scrape itself.
    assert _sample(after["booktrack_http_request_duration_seconds"], "_count") == 7


@override_settings(OPS_TOKEN="tok-123456")
def test_metrics_prometheus_provider_histogram_cache_tokens_and_jobs(client):
    metrics.record_upstream_call("google-books", status=200, latency_ms=12)
    metrics.record_upstream_call("google-books", status=503, latency_ms=700)
    metrics.record_cache("edge", hit=True)
    metrics.record_model_tokens("gemini-2.5-flash", prompt_tokens=120, output_tokens=30)
    metrics.record_job("csv_import", status="complete")
    families = _scrape(client)
    assert _sample(families["booktrack_provider_calls"], "_total", provider="google-books") == 2
    assert _sample(families["booktrack_provider_errors"], "_total", provider="google-books") == 1
    assert _sample(families["booktrack_provider_responses"], "_total", provider="google-books", status="503") == 1
    upstream = families["booktrack_provider_request_duration_seconds"]
    assert upstream.type == "histogram"
    assert _sample(upstream, "_bucket", provider="google-books", le="0.01") == 0
    assert _sample(upstream, "_bucket", provider="google-books", le="0.025") == 1  # 12 ms
    assert _sample(upstream, "_bucket", provider="google-books", le="1.0") == 2  # 700 ms
    assert _sample(upstream, "_sum", provider="google-books") == pytest.approx(0.712)
    assert families["booktrack_cache_lookups"].type == "counter"
    assert _sample(families["booktrack_cache_lookups"], "_total", tier="edge", result="hit") == 1
    assert _sample(families["booktrack_model_tokens"], "_total", model="gemini-2.5-flash", kind="prompt") == 120
    assert _sample(families["booktrack_jobs"], "_total", pipeline="csv_import", status="complete") == 1


@override_settings(OPS_TOKEN="tok-123456")
def test_metrics_prometheus_counts_are_cumulative_not_windowed(client, monkeypatch):
    """A figure older than every JSON period still counts in the Prometheus totals."""
    three_hours_ago = time.time() - 3 * 3600
    monkeypatch.setattr(metrics.time, "time", lambda: three_hours_ago)
    metrics.record_upstream_call("isbndb", status=200, latency_ms=30)
    metrics.flush()
    monkeypatch.undo()
    metrics.record_upstream_call("isbndb", status=200, latency_ms=30)
    report = client.get("/metrics?period=1h", HTTP_AUTHORIZATION="Bearer tok-123456").json()
    assert report["providers"]["isbndb"]["calls"] == 1
    assert _sample(_scrape(client)["booktrack_provider_calls"], "_total", provider="isbndb") == 2


@override_settings(OPS_TOKEN="tok-123456")
def test_metrics_prometheus_speaks_openmetrics_when_asked(client):
    metrics.record_job("bookshelf_scan", status="failed")
    response = client.get(
        "/metrics?format=prometheus",
        HTTP_AUTHORIZATION="Bearer tok-123456",
        HTTP_ACCEPT="application/openmetrics-text; version=1.0.0",
    )
    assert response["Content-Type"].startswith("application/openmetrics-text")
    text = response.content.decode()
    assert text.endswith("# EOF\n")
    assert 'booktrack_jobs_total{pipeline="bookshelf_scan",status="failed"} 1.0' in text


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
