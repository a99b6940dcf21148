"""Issue 12 item 6: known traffic in, the exact counts back out of /metrics in both formats.

The traffic is real: HTTP requests through the whole middleware stack, ISBN searches through the cache
tiers to the local upstream fakes, a Gemini column mapping answered by the fake with known token
counts, and a batch-enrichment job run by Celery (eager). The upstream figures are checked against
what the fakes themselves counted, so a call that is made but not recorded (or recorded twice) fails.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from booktrack.core import metrics
from enrichment.importers.gemini_mapping import columns_map

OPS = {"HTTP_AUTHORIZATION": "Bearer traffic-ops-token"}
ISBN = "9780441013593"  # Dune: in every fake's catalog

# A Gemini answer with known usage: 1,200 prompt tokens, 80 answer tokens and 20 thinking tokens
# (billed as output), so 100 output tokens.
GEMINI_ANSWER = {
    "candidates": [
        {
            "content": {"parts": [{"text": json.dumps({"hasHeaderRow": True, "columns": {"title": 0, "author": 1}})}]},
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 1200,
        "candidatesTokenCount": 80,
        "thoughtsTokenCount": 20,
        "totalTokenCount": 1300,
    },
    "modelVersion": "gemini-2.5-flash",
}


def _drive_traffic(client, fake, settings) -> None:
    settings.GEMINI_API_KEY = "fake"
    settings.GEMINI_MODEL = "gemini-2.5-flash"
    # 2 ISBN searches: the first misses every tier and calls the providers, the second is an edge hit.
    assert client.get(f"/v1/search/isbn?isbn={ISBN}").json()["metadata"]["cached"] is False
    assert client.get(f"/v1/search/isbn?isbn={ISBN}").json()["metadata"]["cacheSource"] == "EDGE_FRESH"
    cache = metrics.metrics_report("15m")["cache"]
    assert {tier: (e["hits"], e["misses"]) for tier, e in cache.items()} == {
        "edge": (1, 1),
        "kv": (0, 1),
        "catalog": (0, 1),
    }
    # 1 bad request (4xx, no lookup), 1 unknown route.
    assert client.get("/v1/search/isbn?isbn=123").status_code == 400
    assert client.get("/no/such/route").status_code == 404
    # 1 Gemini call.
    fake.queue("gemini", [{"status": 200, "body": GEMINI_ANSWER}])
    columns_map(header=["Livre", "Auteur"], samples=[["Dune", "Frank Herbert"]])
    # 1 batch-enrichment job, run to completion by Celery (eager in these tests).
    response = client.post(
        "/v1/enrichment/batch",
        {"jobId": str(uuid.uuid4()), "books": [{"title": "Dune", "author": "Frank Herbert", "isbn": ISBN}]},
        content_type="application/json",
    )
    assert response.status_code == 202


def _scrape(client) -> dict:
    response = client.get("/metrics?format=prometheus", **OPS)
    assert response.status_code == 200
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def _value(families: dict, name: str, suffix: str = "_total", **labels) -> float:
    family = families[name]
    found = [s.value for s in family.samples if s.name == name + suffix and s.labels == labels]
    assert len(found) == 1, (name, labels, family.samples)
    return found[0]


@pytest.mark.django_db(transaction=True)
@override_settings(OPS_TOKEN="traffic-ops-token")
def test_metrics_report_known_traffic_exactly_in_json_and_prometheus(client, fake, settings):
    _drive_traffic(client, fake, settings)
    upstream_counts = {
        "google-books": fake.count("google"),
        "openlibrary": fake.count("openlibrary"),
        "isbndb": fake.count("isbndb"),
        "wikidata": fake.count("wikidata"),
    }
    assert upstream_counts["google-books"] >= 1 and fake.count("gemini") == 1

    body = client.get("/metrics?period=15m", **OPS).json()
    routes = {(r["route"], r["method"]): r for r in body["requests"]["byRoute"]}
    assert routes[("v1/search/isbn", "GET")] == {"route": "v1/search/isbn", "method": "GET", "2xx": 2, "4xx": 1}
    assert routes[("unmatched", "GET")]["4xx"] == 1
    assert routes[("v1/enrichment/batch", "POST")]["2xx"] == 1
    assert body["requests"]["total"] == 5 and body["requests"]["errors5xx"] == 0
    # The job's lookup went through the tiers too (its ISBN now cached): more hits, never fewer.
    assert body["cache"]["edge"]["hits"] >= 1 and body["cache"]["kv"]["misses"] >= 1
    for upstream, count in upstream_counts.items():
        if count:
            assert body["providers"][upstream]["calls"] == count, upstream
            assert body["providers"][upstream]["errors"] == 0
    model = body["models"]["gemini-2.5-flash"]
    assert model == {"calls": 1, "promptTokens": 1200, "outputTokens": 100, "estimatedCostUsd": 0.00061}
    assert body["modelsEstimatedCostUsd"] == 0.00061  # 1,200 x $0.30/M + 100 x $2.50/M
    assert body["jobs"]["batch_enrichment"] == {"queued": 1, "started": 1, "complete": 1}
    google = body["budgets"]["google-books"]
    assert google["limit"] == settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA and google["window"] == "day"
    assert google["used"] == upstream_counts["google-books"]
    assert google["remaining"] == google["limit"] - upstream_counts["google-books"]

    families = _scrape(client)
    requests = "booktrack_http_requests"
    assert _value(families, requests, route="v1/search/isbn", method="GET", status="2xx") == 2
    assert _value(families, requests, route="v1/search/isbn", method="GET", status="4xx") == 1
    assert _value(families, requests, route="v1/enrichment/batch", method="POST", status="2xx") == 1
    assert _value(families, requests, route="metrics", method="GET", status="2xx") == 1  # the JSON read
    for tier in ("edge", "kv", "catalog"):
        for result, key in (("hit", "hits"), ("miss", "misses")):
            expected = body["cache"][tier][key]
            if expected:
                assert _value(families, "booktrack_cache_lookups", tier=tier, result=result) == expected
    for upstream, count in upstream_counts.items():
        if count:
            assert _value(families, "booktrack_provider_calls", provider=upstream) == count
    tokens = "booktrack_model_tokens"
    assert _value(families, tokens, model="gemini-2.5-flash", kind="prompt") == 1200
    assert _value(families, tokens, model="gemini-2.5-flash", kind="output") == 100
    assert _value(families, "booktrack_model_calls", model="gemini-2.5-flash") == 1
    assert _value(families, "booktrack_model_estimated_cost_usd", model="gemini-2.5-flash") == pytest.approx(0.00061)
    for status in ("queued", "started", "complete"):
        assert _value(families, "booktrack_jobs", pipeline="batch_enrichment", status=status) == 1
    remaining = _value(families, "booktrack_upstream_budget_remaining", "", upstream="google-books", window="day")
    assert remaining == settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA - upstream_counts["google-books"]
    assert _value(families, "booktrack_upstream_budget_limit", "", upstream="google-books", window="day") == 1000


def test_model_cost_uses_configured_prices_and_versioned_names(settings):
    settings.MODEL_PRICES_USD_PER_MILLION = {"gemini-2.5-flash": (0.30, 2.50), "house-model": (1.0, 4.0)}
    assert metrics.model_cost_usd("gemini-2.5-flash", prompt_tokens=1_000_000, output_tokens=0) == 0.30
    assert metrics.model_cost_usd("gemini-2.5-flash-001", prompt_tokens=0, output_tokens=2_000_000) == 5.0
    assert metrics.model_cost_usd("house-model", prompt_tokens=500_000, output_tokens=250_000) == 1.5
    assert metrics.model_cost_usd("unpriced-model", prompt_tokens=10, output_tokens=10) is None


@override_settings(OPS_TOKEN="traffic-ops-token")
def test_metrics_unpriced_model_reports_tokens_with_null_cost(client, settings):
    settings.MODEL_PRICES_USD_PER_MILLION = {}
    metrics.record_model_tokens("gemini-9-ultra", prompt_tokens=10, output_tokens=5)
    body = client.get("/metrics?period=15m", **OPS).json()
    assert body["models"]["gemini-9-ultra"]["estimatedCostUsd"] is None
    assert body["modelsEstimatedCostUsd"] == 0.0
    cost = _scrape(client)["booktrack_model_estimated_cost_usd"]
    assert cost.samples == []  # no made-up figure for a model without a price


@override_settings(OPS_TOKEN="traffic-ops-token")
def test_registered_gauges_appear_in_both_formats_and_a_failing_one_is_left_out(client):
    def broken() -> float:
        raise RuntimeError("store down")

    metrics.register_gauge("test_dead_letters", lambda: 3, help_text="test gauge")
    metrics.register_gauge("test_broken", broken, help_text="fails")
    try:
        body = client.get("/metrics?period=15m", **OPS).json()
        assert body["gauges"]["test_dead_letters"] == 3.0 and "test_broken" not in body["gauges"]
        families = _scrape(client)
        assert _value(families, "booktrack_test_dead_letters", "") == 3.0
        assert "booktrack_test_broken" not in families
    finally:
        metrics.unregister_gauge("test_dead_letters")
        metrics.unregister_gauge("test_broken")
