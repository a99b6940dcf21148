"""The outbound session factory: timeouts, bounded retries with Retry-After, breaker, metrics."""

from __future__ import annotations

import time

import pytest
import requests
import responses
from django.test import override_settings

from booktrack.core import metrics
from booktrack.core.exceptions import ProviderError, ProviderTimeout, ProviderUnavailable
from booktrack.core.http import UpstreamClient, parse_retry_after, upstream_client

BASE = "http://upstream.test/api"


def _client(**options) -> UpstreamClient:
    return UpstreamClient("testup", base_url=BASE, **options)


@responses.activate
def test_client_sends_user_agent_with_contact():
    responses.get(f"{BASE}/ping", json={"ok": True})
    assert _client().get_json("ping") == {"ok": True}
    agent = responses.calls[0].request.headers["User-Agent"]
    assert agent.startswith("BooksTrack/") and "contact" in agent


@responses.activate
def test_client_retries_5xx_then_succeeds():
    responses.get(f"{BASE}/flaky", status=503)
    responses.get(f"{BASE}/flaky", json={"ok": 1})
    assert _client(max_retries=2).get_json("flaky") == {"ok": 1}
    assert len(responses.calls) == 2


@responses.activate
def test_client_honours_retry_after_on_429(sleeps):
    responses.get(f"{BASE}/limited", status=429, headers={"Retry-After": "0.3"})
    responses.get(f"{BASE}/limited", json={"ok": 1})
    assert _client().get_json("limited") == {"ok": 1}
    assert sleeps == [0.3]  # waited as told, once, before the retry


@responses.activate
def test_client_gives_up_when_retry_after_exceeds_the_deadline(sleeps):
    responses.get(f"{BASE}/limited", status=429, headers={"Retry-After": "30"})
    with pytest.raises(ProviderUnavailable) as info:
        _client().get_json("limited", deadline=time.monotonic() + 1.0)
    assert sleeps == []  # gave up at once instead of waiting past the deadline
    assert info.value.details["retryAfter"] == pytest.approx(30, abs=1)
    assert len(responses.calls) == 1


@responses.activate
def test_client_retries_are_bounded():
    responses.get(f"{BASE}/down", status=500)
    with pytest.raises(ProviderError):
        _client(max_retries=2, max_retry_wait=1).get_json("down")
    assert len(responses.calls) == 3


@responses.activate
def test_client_tolerates_utf8_bom_and_rejects_garbage():
    responses.get(f"{BASE}/bom", body='\ufeff{"title": "Children of Time"}'.encode())
    responses.get(f"{BASE}/garbage", body=b"<html>oops")
    client = _client()
    assert client.get_json("bom") == {"title": "Children of Time"}
    with pytest.raises(ProviderError):
        client.get_json("garbage")


@responses.activate
def test_client_404_is_none():
    responses.get(f"{BASE}/missing", status=404)
    assert _client().get_json("missing") is None


@responses.activate
def test_client_timeout_becomes_provider_timeout():
    responses.get(f"{BASE}/slow", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeout):
        _client(max_retries=0).get_json("slow")


def test_client_refuses_to_start_after_the_deadline():
    with pytest.raises(ProviderTimeout):
        _client().get_json("any", deadline=time.monotonic() - 1)


@responses.activate
@override_settings(
    OUTBOUND_HTTP={
        "CONNECT_TIMEOUT": 1,
        "READ_TIMEOUT": 1,
        "MAX_RETRIES": 0,
        "MAX_RETRY_WAIT": 0.01,
        "BREAKER_THRESHOLD": 3,
        "BREAKER_COOLDOWN": 60,
        "POOL_SIZE": 4,
    }
)
def test_breaker_opens_after_consecutive_failures_and_stops_calling():
    responses.get(f"{BASE}/down", status=500)
    client = _client()
    for _ in range(3):
        with pytest.raises(ProviderError):
            client.get_json("down")
    with pytest.raises(ProviderUnavailable):
        client.get_json("down")
    assert len(responses.calls) == 3
    assert client.breaker.state == "open"


@responses.activate
def test_every_call_is_recorded_for_metrics():
    responses.get(f"{BASE}/ok", json={})
    responses.get(f"{BASE}/bad", status=500)
    client = _client(max_retries=0)
    client.get_json("ok")
    with pytest.raises(ProviderError):
        client.get_json("bad")
    totals = metrics.read_totals("15m")
    assert totals["up|testup|calls"] == 2
    assert totals["up|testup|errors"] == 1
    assert totals["up|testup|status|500"] == 1


def test_upstream_client_is_shared_per_name_and_base_url():
    assert upstream_client("a", base_url=BASE) is upstream_client("a", base_url=BASE)
    assert upstream_client("a", base_url=BASE) is not upstream_client("a", base_url=BASE + "2")


def test_parse_retry_after_accepts_seconds_and_dates():
    assert parse_retry_after("5") == 5
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("nonsense") is None
