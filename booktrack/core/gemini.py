"""The one Gemini client wrapper: every call to the Gemini API goes through `gemini_generate`.

- One google-genai client per process (lazy, thread-safe), built from settings: `GEMINI_API_KEY`,
  `GEMINI_BASE_URL` (the local fake in tests and demos) as `http_options.base_url`, a per-attempt
  timeout (`GEMINI_TIMEOUT_SECONDS`). The SDK's own retries are switched off: retries live here,
  once, with our metrics.
- Retries with exponential back-off and jitter on 429, 5xx, timeouts and connection errors, at most
  `GEMINI_MAX_RETRIES` times. A 429 that carries a `google.rpc.RetryInfo` delay waits that long, or,
  when the delay is longer than `GEMINI_MAX_RETRY_WAIT_SECONDS` (a quota that resets in 30 s), gives
  up at once: a caller waiting half a minute is worse than an honest "unavailable". No wait runs
  past the caller's deadline.
- Structured output: `response_schema` with `response_mime_type="application/json"`.
- Each attempt is recorded as an upstream call (`gemini`: status, latency) and each answer's tokens
  with `record_model_tokens` (output tokens include the model's thinking tokens, which are billed).

Errors come out as the contract's provider errors: `ProviderTimeout` (timeouts after retries),
`ProviderUnavailable` (429/5xx/connection failures after retries) and `ProviderError` (any other API
error: a bad key, an unknown model, a request the API refuses; or an answer that is not JSON).
What the model said (text, finish reason, block reason) comes back as a `GeminiReply`, unjudged:
deciding that SAFETY or an empty answer is a failure is the caller's business.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

from booktrack.core import metrics
from booktrack.core.exceptions import ProviderError, ProviderTimeout, ProviderUnavailable

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

logger = logging.getLogger(__name__)

UPSTREAM = "gemini"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE_SECONDS = 1.0
_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")

_lock = threading.Lock()
_client: genai.Client | None = None
_client_key: tuple[object, ...] | None = None


@dataclass(frozen=True)
class GeminiReply:
    """What the model answered, as it answered it."""

    text: str  # the answer's text parts (thoughts left out), "" when there are none
    model: str  # the model asked
    model_version: str | None
    finish_reason: str | None  # "STOP", "SAFETY", "MAX_TOKENS", ...; None without a candidate
    block_reason: str | None  # the prompt was blocked: promptFeedback.blockReason (or its message)
    candidates: int
    prompt_tokens: int
    output_tokens: int  # candidates + thinking tokens


def gemini_configured() -> bool:
    return bool(settings.GEMINI_API_KEY)


def gemini_client() -> genai.Client:
    """The process's client for the current settings (a settings change builds a new one)."""
    global _client, _client_key
    from google import genai
    from google.genai import types

    key = (settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL, settings.GEMINI_TIMEOUT_SECONDS)
    with _lock:
        if _client is None or _client_key != key:
            options = types.HttpOptions(
                base_url=settings.GEMINI_BASE_URL or None,
                timeout=int(settings.GEMINI_TIMEOUT_SECONDS * 1000),  # milliseconds
                retry_options=types.HttpRetryOptions(attempts=1),  # retries are ours (below)
                headers={"User-Agent": settings.OUTBOUND_USER_AGENT},
            )
            _client = genai.Client(api_key=settings.GEMINI_API_KEY, http_options=options)
            _client_key = key
        return _client


def reset_gemini_client() -> None:
    """Forget the process's client (tests; a worker after fork builds its own anyway)."""
    global _client, _client_key
    with _lock:
        _client, _client_key = None, None


def retry_delay(details: Any) -> float | None:
    """Seconds from a `google.rpc.RetryInfo` in an error body ("retryDelay": "34.4s"), if any."""
    error = details.get("error", details) if isinstance(details, dict) else None
    items = error.get("details") if isinstance(error, dict) else None
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DELAY.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeouts, other transport failures) of whichever httpx the SDK runs on."""
    timeouts: list[type[BaseException]] = []
    transport: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.append(module.TransportError)
    return tuple(timeouts), tuple(transport)


def _enum_name(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "name", None) or getattr(value, "value", None) or value)


def _reply(response: types.GenerateContentResponse, model: str) -> GeminiReply:
    candidates = list(response.candidates or [])
    first = candidates[0] if candidates else None
    parts = list(first.content.parts or []) if first is not None and first.content is not None else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    feedback = response.prompt_feedback
    block = None
    if feedback is not None and (feedback.block_reason or feedback.block_reason_message):
        block = _enum_name(feedback.block_reason) or str(feedback.block_reason_message)
    usage = response.usage_metadata
    prompt_tokens = int(usage.prompt_token_count or 0) if usage else 0
    output_tokens = int((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
    return GeminiReply(
        text=text,
        model=model,
        model_version=response.model_version,
        finish_reason=_enum_name(first.finish_reason) if first is not None else None,
        block_reason=block,
        candidates=len(candidates),
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
    )


def gemini_generate(
    *,
    contents: Sequence[Any] | str,
    response_schema: types.Schema | None = None,
    system_instruction: str | None = None,
    temperature: float = 0.0,
    max_output_tokens: int | None = None,
    model: str | None = None,
    deadline: float | None = None,
) -> GeminiReply:
    """One generate_content call with our timeouts, retries and metrics (see the module docstring).

    `contents` is what the SDK takes (a prompt string, or parts: `types.Part.from_bytes(...)`, text).
    With `response_schema` the answer is JSON (structured output). `deadline` is a monotonic time
    no retry wait goes past.
    """
    from google.genai import errors, types

    model_name = model or settings.GEMINI_MODEL
    config = types.GenerateContentConfig(
        temperature=temperature,
        max_output_tokens=max_output_tokens,
        system_instruction=system_instruction,
        response_mime_type="application/json" if response_schema is not None else None,
        response_schema=response_schema,
    )
    timeouts, transport = _transport_errors()
    retries = max(0, int(settings.GEMINI_MAX_RETRIES))
    max_wait = float(settings.GEMINI_MAX_RETRY_WAIT_SECONDS)
    client = gemini_client()
    attempt = 0
    while True:
        started = time.perf_counter()
        failure: Exception
        wait: float | None = None
        try:
            response = client.models.generate_content(model=model_name, contents=contents, config=config)  # type: ignore[arg-type]
        except errors.APIError as exc:
            metrics.record_upstream_call(UPSTREAM, status=exc.code, latency_ms=_ms(started))
            if exc.code not in RETRYABLE_STATUSES:
                logger.warning("gemini %s refused: %s %s", model_name, exc.code, exc.message)
                raise ProviderError(
                    f"Gemini refused the request: {exc.message or exc.status or exc.code}",
                    details={"provider": UPSTREAM, "status": exc.code},
                ) from exc
            failure = ProviderUnavailable(
                f"Gemini is unavailable right now ({exc.code} {exc.status or ''}).".replace(" )", ")"),
                details={"provider": UPSTREAM, "status": exc.code},
            )
            hinted = retry_delay(exc.details) if exc.code == 429 else None
            if hinted is not None:
                if hinted > max_wait:  # a quota that resets later than anyone should wait
                    failure.details = {**(failure.details or {}), "retryAfter": hinted}
                    raise failure from exc
                wait = hinted
            cause: BaseException = exc
        except timeouts as exc:
            metrics.record_upstream_call(UPSTREAM, status="timeout", latency_ms=_ms(started))
            failure = ProviderTimeout("Gemini did not answer in time.", details={"provider": UPSTREAM})
            cause = exc
        except transport as exc:
            metrics.record_upstream_call(UPSTREAM, status="connection_error", latency_ms=_ms(started))
            failure = ProviderUnavailable("Gemini could not be reached.", details={"provider": UPSTREAM})
            cause = exc
        except (ValueError, errors.UnknownApiResponseError) as exc:  # a 200 whose body is not JSON
            metrics.record_upstream_call(UPSTREAM, status="malformed", latency_ms=_ms(started))
            raise ProviderError("Gemini's answer could not be read.", details={"provider": UPSTREAM}) from exc
        else:
            metrics.record_upstream_call(UPSTREAM, status=200, latency_ms=_ms(started))
            reply = _reply(response, model_name)
            metrics.record_model_tokens(
                model_name, prompt_tokens=reply.prompt_tokens, output_tokens=reply.output_tokens
            )
            return reply
        if attempt >= retries:
            raise failure from cause
        if wait is None:
            wait = min(max_wait, BACKOFF_BASE_SECONDS * 2**attempt) * (0.5 + random.random() / 2)
        if deadline is not None and time.monotonic() + wait >= deadline:
            raise failure from cause
        attempt += 1
        logger.info("gemini %s: retry %d in %.1f s after %s", model_name, attempt, wait, failure.message)
        time.sleep(wait)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
