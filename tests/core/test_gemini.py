"""The one Gemini client wrapper (booktrack/core/gemini.py): the real google-genai client against the
local Gemini fake, with the retries, RetryInfo handling, errors and metrics it promises."""

from __future__ import annotations

import json

import pytest

from booktrack.core import gemini, metrics
from booktrack.core.exceptions import ProviderError, ProviderTimeout, ProviderUnavailable
from booktrack.core.gemini import gemini_generate, retry_delay
from tests.samples import sample_json

pytest.importorskip("google.genai")


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Every back-off the wrapper chose, recorded instead of slept."""
    import time
    import types

    waited: list[float] = []
    clock = types.SimpleNamespace(monotonic=time.monotonic, perf_counter=time.perf_counter, sleep=waited.append)
    monkeypatch.setattr(gemini, "time", clock)
    return waited


@pytest.fixture
def live(fake, settings):
    settings.GEMINI_API_KEY = "fake-key"
    settings.GEMINI_MAX_RETRIES = 2
    settings.GEMINI_MAX_RETRY_WAIT_SECONDS = 10.0
    gemini.reset_gemini_client()
    yield fake
    gemini.reset_gemini_client()


def quota(delay: str) -> dict:
    body = sample_json("gemini/error_429_resource_exhausted_retry_info.json")
    body["error"]["details"][1]["retryDelay"] = delay
    return {"status": 429, "body": body}


def test_retry_delay_reads_google_rpc_retry_info():
    assert retry_delay(sample_json("gemini/error_429_resource_exhausted_retry_info.json")) == 34.4
    assert (
        retry_delay({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]}})
        == 2
    )
    assert retry_delay({"error": {"code": 503}}) is None
    assert retry_delay("not json") is None


def test_structured_output_call_returns_text_and_tokens(live):
    from google.genai import types

    schema = types.Schema(type=types.Type.OBJECT, properties={"answer": types.Schema(type=types.Type.STRING)})
    reply = gemini_generate(contents="Say OK", response_schema=schema)
    assert reply.text == "OK" and reply.finish_reason == "STOP" and reply.candidates == 1
    assert reply.prompt_tokens > 0 and reply.output_tokens > 0 and reply.model == "gemini-2.5-flash"
    (request,) = live.requests("gemini")
    body = json.loads(request["body"])
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["generationConfig"]["responseSchema"]["properties"]["answer"]["type"] == "STRING"
    assert request["headers"].get("x-goog-api-key") == "fake-key"
    totals = metrics.read_totals("15m")
    assert totals["tok|gemini-2.5-flash|calls"] == 1
    assert totals["tok|gemini-2.5-flash|prompt"] == reply.prompt_tokens
    assert totals["up|gemini|status|200"] == 1


def test_5xx_is_retried_with_backoff_then_answers(live, waits):
    live.configure("gemini", status=503, times=2)
    reply = gemini_generate(contents="Say OK")
    assert reply.text == "OK"
    assert live.count("POST /gemini") == 3
    assert len(waits) == 2 and 0 < waits[0] <= 1.0 and waits[0] <= waits[1] <= 2.0


def test_5xx_after_every_retry_is_provider_unavailable(live, waits):
    live.configure("gemini", status=500)
    with pytest.raises(ProviderUnavailable) as raised:
        gemini_generate(contents="Say OK")
    assert raised.value.details["status"] == 500
    assert live.count("POST /gemini") == 3 and len(waits) == 2


def test_short_retry_info_delay_is_honoured(live, waits):
    live.queue("gemini", [quota("1.5s")])
    assert gemini_generate(contents="Say OK").text == "OK"
    assert waits == [1.5] and live.count("POST /gemini") == 2


def test_retry_info_longer_than_worth_waiting_fails_at_once(live, waits):
    live.queue("gemini", [{"fixture": "gemini/error_429_resource_exhausted_retry_info.json", "status": 429}])
    with pytest.raises(ProviderUnavailable) as raised:
        gemini_generate(contents="Say OK")
    assert raised.value.details["retryAfter"] == 34.4
    assert waits == [] and live.count("POST /gemini") == 1


def test_no_wait_runs_past_the_callers_deadline(live, waits):
    import time

    live.configure("gemini", status=503)
    with pytest.raises(ProviderUnavailable):
        gemini_generate(contents="Say OK", deadline=time.monotonic() + 0.05)
    assert waits == [] and live.count("POST /gemini") == 1


def test_timeout_is_retried_then_provider_timeout(live, settings):
    settings.GEMINI_TIMEOUT_SECONDS = 0.3
    settings.GEMINI_MAX_RETRIES = 1
    settings.GEMINI_MAX_RETRY_WAIT_SECONDS = 0.01
    live.configure("gemini", latency_ms=1500)
    with pytest.raises(ProviderTimeout):
        gemini_generate(contents="Say OK")
    assert live.count("POST /gemini") == 2
    assert metrics.read_totals("15m")["up|gemini|status|timeout"] == 2


def test_a_refusal_is_not_retried(live, waits, settings):
    with pytest.raises(ProviderError) as raised:
        gemini_generate(contents="Say OK", model="palm-2")  # the recorded 404 unknown model
    assert raised.value.details["status"] == 404 and waits == [] and live.count("POST /gemini") == 1
    settings.GEMINI_API_KEY = "invalid-key"
    with pytest.raises(ProviderError) as raised:
        gemini_generate(contents="Say OK")
    assert raised.value.details["status"] == 400


def test_an_unreadable_200_is_a_provider_error(live, waits):
    live.configure("gemini", malformed=True)
    with pytest.raises(ProviderError) as raised:
        gemini_generate(contents="Say OK")
    assert "status" not in raised.value.details and waits == []


def test_one_client_per_process_rebuilt_when_settings_change(live, settings):
    first = gemini.gemini_client()
    assert gemini.gemini_client() is first
    settings.GEMINI_BASE_URL = settings.GEMINI_BASE_URL + "/"
    assert gemini.gemini_client() is not first
