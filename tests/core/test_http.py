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


# --- breaker faults of issue 13 ------------------------------------------------------------------------

_BREAKER_SETTINGS = {
    "CONNECT_TIMEOUT": 1,
    "READ_TIMEOUT": 5,
    "MAX_RETRIES": 0,
    "MAX_RETRY_WAIT": 0.01,
    "BREAKER_THRESHOLD": 2,
    "BREAKER_COOLDOWN": 60,
    "POOL_SIZE": 4,
}


@responses.activate
@override_settings(OUTBOUND_HTTP=_BREAKER_SETTINGS)
def test_a_timeout_cut_short_by_our_own_deadline_is_not_an_upstream_failure():
    responses.get(f"{BASE}/slow", body=requests.exceptions.ReadTimeout("slow"))
    client = _client()
    for _ in range(4):  # each attempt's read timeout shrank to the caller's 0.5 s left
        with pytest.raises(ProviderTimeout):
            client.get_json("slow", deadline=time.monotonic() + 0.5)
    assert client.breaker.failures == 0
    assert client.breaker.state == "closed"
    totals = metrics.read_totals("15m")
    assert totals["up|testup|status|deadline"] == 4 and totals.get("up|testup|errors", 0) == 0
    # Timeouts at the full read timeout are the upstream's: they open the breaker.
    for _ in range(2):
        with pytest.raises(ProviderTimeout):
            client.get_json("slow")
    assert client.breaker.state == "open"


@responses.activate
@override_settings(OUTBOUND_HTTP=_BREAKER_SETTINGS)
def test_a_429_opens_a_cool_down_for_its_retry_after(monkeypatch):
    from booktrack.core import http

    now = [1000.0]
    monkeypatch.setattr(http.time, "monotonic", lambda: now[0])
    responses.get(f"{BASE}/limited", status=429, headers={"Retry-After": "20"})
    responses.get(f"{BASE}/limited", json={"ok": 1})
    client = _client()
    with pytest.raises(ProviderUnavailable):
        client.get_json("limited")
    assert client.breaker.state == "rate-limited"
    now[0] += 19
    with pytest.raises(ProviderUnavailable) as refused:
        client.get_json("limited")
    assert refused.value.details["retryAfter"] == pytest.approx(1, abs=0.1)
    assert len(responses.calls) == 1  # nothing went out during the cool-down
    assert client.breaker.failures == 0  # a 429 is not a failure: the upstream is up
    now[0] += 1.5
    assert client.get_json("limited") == {"ok": 1}
    assert len(responses.calls) == 2


@responses.activate
@override_settings(OUTBOUND_HTTP={**_BREAKER_SETTINGS, "BREAKER_COOLDOWN": 7})
def test_a_429_without_retry_after_cools_down_for_the_breaker_cooldown(monkeypatch):
    from booktrack.core import http

    now = [1000.0]
    monkeypatch.setattr(http.time, "monotonic", lambda: now[0])
    responses.get(f"{BASE}/limited", status=429)
    client = _client()
    with pytest.raises(ProviderUnavailable):
        client.get_json("limited")
    now[0] += 6.5
    with pytest.raises(ProviderUnavailable):
        client.get_json("limited")
    assert len(responses.calls) == 1
    now[0] += 1
    with pytest.raises(ProviderUnavailable):
        client.get_json("limited")
    assert len(responses.calls) == 2


@responses.activate
@override_settings(OUTBOUND_HTTP=_BREAKER_SETTINGS)
def test_the_half_open_probe_is_not_spent_when_the_budget_refuses(monkeypatch):
    from booktrack.core import http

    now = [1000.0]
    monkeypatch.setattr(http.time, "monotonic", lambda: now[0])
    responses.get(f"{BASE}/flaky", status=500)
    responses.get(f"{BASE}/flaky", status=500)
    responses.get(f"{BASE}/flaky", json={"ok": 1})
    budget_open = [True]

    def budget(upstream: str, deadline: float | None) -> None:
        if not budget_open[0]:
            raise ProviderUnavailable("budget exhausted")

    client = _client(before_request=budget)
    for _ in range(2):
        with pytest.raises(ProviderError):
            client.get_json("flaky")
    assert client.breaker.state == "open"
    now[0] += 61
    assert client.breaker.state == "half-open"
    budget_open[0] = False
    with pytest.raises(ProviderUnavailable, match="budget"):
        client.get_json("flaky")
    assert client.breaker.state == "half-open"  # the probe was handed back
    budget_open[0] = True
    assert client.get_json("flaky") == {"ok": 1}  # the next caller probes at once
    assert client.breaker.state == "closed"
