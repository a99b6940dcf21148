"""The one outbound HTTP session factory.

Every call to an upstream (Google Books, OpenLibrary, ISBNdb, Wikidata, cover hosts) goes through an
`UpstreamClient` from `upstream_client(name, base_url=...)`:

- connect/read timeouts, and an optional per-call deadline (monotonic seconds) that caps them;
- a bounded retry on 429/5xx/connection errors that honours `Retry-After` but never sleeps past the
  deadline or `max_retry_wait`;
- a User-Agent naming the app and a contact (OpenLibrary asks for this);
- a circuit breaker per upstream (process-local: each worker protects itself): consecutive failures
  open it, a 429 cools it down for its `Retry-After`, a timeout cut short by our own deadline counts
  as nothing, and a probe the budget refused is handed back;
- a metrics hook recording upstream, status and latency of every attempt.

Errors come out as the contract's provider errors: `ProviderTimeout` (504), `ProviderUnavailable`
(503: breaker open, rate limited beyond what we wait for) and `ProviderError` (502: 5xx after retries,
a body that is not the JSON we asked for).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from booktrack.core import metrics
from booktrack.core.exceptions import ProviderError, ProviderTimeout, ProviderUnavailable

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class CircuitBreaker:
    """Opens after `threshold` consecutive failures; lets one probe through after `cooldown` s.

    Also a rate-limit cool-down: a 429 closes the door for its `Retry-After` (or `cooldown`) seconds,
    without counting as a failure (the upstream is healthy, we are too fast). A probe that never went
    out (the caller's budget refused it) is handed back with `release_probe`, so the next caller probes
    instead of the breaker staying open for another cooldown.
    """

    threshold: int = 5
    cooldown: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    rate_limited_until: float | None = None
    _probe_opened_at: float | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def allow(self, *, own_cool_down: bool = False) -> bool:
        """May a call go out now? `own_cool_down`: the caller that met the 429 retries after waiting."""
        with self._lock:
            now = time.monotonic()
            if not own_cool_down and self.rate_limited_until is not None and now < self.rate_limited_until:
                return False
            if self.opened_at is None:
                return True
            if now - self.opened_at >= self.cooldown:
                # Half-open: admit a probe; a failure re-opens for another cooldown.
                self._probe_opened_at = self.opened_at
                self.opened_at = now
                return True
            return False

    def release_probe(self) -> None:
        """The call `allow` just admitted never went out: half-open again, for the next caller."""
        with self._lock:
            if self._probe_opened_at is not None and self.opened_at is not None:
                self.opened_at = self._probe_opened_at
            self._probe_opened_at = None

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self._probe_opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._probe_opened_at = None
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = time.monotonic()

    def record_rate_limited(self, retry_after: float | None) -> None:
        """A 429: no call goes out for `retry_after` seconds (the breaker's cooldown when not told)."""
        with self._lock:
            self._probe_opened_at = None
            wait = self.cooldown if retry_after is None else retry_after
            until = time.monotonic() + wait
            self.rate_limited_until = max(until, self.rate_limited_until or 0.0)
            if self.opened_at is not None:  # a half-open probe met a 429: it answers, so not broken
                self.opened_at = None
                self.failures = 0

    @property
    def state(self) -> str:
        now = time.monotonic()
        if self.opened_at is None:
            if self.rate_limited_until is not None and now < self.rate_limited_until:
                return "rate-limited"
            return "closed"
        if now - self.opened_at >= self.cooldown:
            return "half-open"
        return "open"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


BeforeRequestHook = Callable[[str, float | None], None]
AttemptObserver = Callable[[str], None]

_attempt_observers: contextvars.ContextVar[tuple[AttemptObserver, ...]] = contextvars.ContextVar(
    "upstream_attempt_observers", default=()
)


@contextlib.contextmanager
def upstream_attempts_observed(observer: AttemptObserver) -> Iterator[None]:
    """Call `observer(upstream name)` before every outbound attempt made inside (retries and redirects
    included), whichever client makes it. It may raise (a DomainError) to stop the attempt: a caller's
    own budget (e.g. the cover harvest's daily one) counts real upstream calls this way."""
    token = _attempt_observers.set((*_attempt_observers.get(), observer))
    try:
        yield
    finally:
        _attempt_observers.reset(token)


class UpstreamClient:
    """A requests session for one upstream with timeouts, retries, breaker and metrics."""

    def __init__(
        self,
        name: str,
        *,
        base_url: str = "",
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_retries: int | None = None,
        max_retry_wait: float | None = None,
        default_headers: Mapping[str, str] | None = None,
        before_request: BeforeRequestHook | None = None,
        cool_down_on_429: bool = True,
    ) -> None:
        cfg = settings.OUTBOUND_HTTP
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout or cfg["CONNECT_TIMEOUT"]
        self.read_timeout = read_timeout or cfg["READ_TIMEOUT"]
        self.max_retries = cfg["MAX_RETRIES"] if max_retries is None else max_retries
        self.max_retry_wait = cfg["MAX_RETRY_WAIT"] if max_retry_wait is None else max_retry_wait
        self.before_request = before_request
        # False when the caller holds 429s itself (search providers: search.budgets' cool-down, shared
        # by every process), so one 429 is not held twice on two clocks.
        self.cool_down_on_429 = cool_down_on_429
        self.breaker = CircuitBreaker(threshold=cfg["BREAKER_THRESHOLD"], cooldown=cfg["BREAKER_COOLDOWN"])
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=cfg["POOL_SIZE"], max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = settings.OUTBOUND_USER_AGENT
        self.session.headers["Accept"] = "application/json"
        if default_headers:
            self.session.headers.update(default_headers)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        deadline: float | None = None,
        allow_redirects: bool = True,
        stream: bool = False,
    ) -> requests.Response:
        """Send with retries; return the final response (any non-retryable status, 4xx included).

        `deadline` is a `time.monotonic()` instant after which no attempt starts and no sleep
        extends; read timeouts shrink to fit it.
        """
        url = self.url(path)
        attempt = 0
        own_cool_down = False  # this call met a 429 and waits it out itself
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0.01:
                raise ProviderTimeout(f"{self.name} did not answer before the deadline.")
            if not self.breaker.allow(own_cool_down=own_cool_down):
                metrics.record_upstream_call(self.name, status="breaker_open", latency_ms=0)
                until = self.breaker.rate_limited_until
                if until is not None and until > time.monotonic():
                    raise ProviderUnavailable(
                        f"{self.name} is rate limiting us (cooling down).",
                        details={"provider": self.name, "retryAfter": round(until - time.monotonic(), 1)},
                    )
                raise ProviderUnavailable(f"{self.name} is temporarily unavailable (circuit open).")
            if self.before_request is not None:
                try:
                    self.before_request(self.name, deadline)
                except BaseException:
                    self.breaker.release_probe()  # refused before anything went out
                    raise
            for observe in _attempt_observers.get():
                observe(self.name)
            read_timeout = self.read_timeout if remaining is None else min(self.read_timeout, remaining)
            connect_timeout = self.connect_timeout if remaining is None else min(self.connect_timeout, remaining)
            # A timeout shortened by our own deadline says nothing about the upstream's health.
            cut_short = read_timeout < self.read_timeout or connect_timeout < self.connect_timeout
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    json=json_body,
                    timeout=(connect_timeout, read_timeout),
                    allow_redirects=allow_redirects,
                    stream=stream,
                )
            except requests.Timeout as exc:
                if cut_short:
                    self._record(started, "deadline", failure=None)
                else:
                    self._record(started, "timeout", failure=True)
                if self._may_retry(attempt, 0.0, deadline):
                    attempt += 1
                    continue
                raise ProviderTimeout(f"{self.name} timed out.") from exc
            except requests.RequestException as exc:
                self._record(started, "connection_error", failure=True)
                if self._may_retry(attempt, 0.2 * (attempt + 1), deadline):
                    time.sleep(0.2 * (attempt + 1))
                    attempt += 1
                    continue
                raise ProviderUnavailable(f"{self.name} could not be reached.") from exc

            status = response.status_code
            if status == 429:
                told = parse_retry_after(response.headers.get("Retry-After"))
                self._record(started, status, failure=None)
                if self.cool_down_on_429:
                    self.breaker.record_rate_limited(told)
            else:
                self._record(started, status, failure=status >= 500)
            if status not in RETRYABLE_STATUSES:
                return response
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is None:
                wait = 0.25 * (2**attempt)
            if self._may_retry(attempt, wait, deadline):
                response.close()
                time.sleep(wait)
                attempt += 1
                own_cool_down = status == 429
                continue
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise ProviderUnavailable(
                    f"{self.name} is rate limiting us.",
                    details={"provider": self.name, "retryAfter": retry_after},
                )
            raise ProviderError(
                f"{self.name} answered HTTP {status}.", details={"provider": self.name, "status": status}
            )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET and decode JSON (tolerating a UTF-8 BOM). 404 -> None; other 4xx -> ProviderError."""
        return self.request_json("GET", path, **kwargs)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any method, answer decoded as `get_json` does (e.g. ISBNdb's `POST /books`, a read of many keys)."""
        response = self.request(method, path, **kwargs)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ProviderError(
                f"{self.name} answered HTTP {response.status_code}.",
                details={"provider": self.name, "status": response.status_code},
            )
        return decode_json(response.content, upstream=self.name)

    def _may_retry(self, attempt: int, wait: float, deadline: float | None) -> bool:
        if attempt >= self.max_retries or wait > self.max_retry_wait:
            return False
        if deadline is not None and time.monotonic() + wait >= deadline - 0.05:
            return False
        return True

    def _record(self, started: float, status: int | str, *, failure: bool | None) -> None:
        """One attempt for metrics and the breaker (`failure=None`: says nothing about health)."""
        latency_ms = (time.perf_counter() - started) * 1000
        if failure:
            self.breaker.record_failure()
        elif failure is not None:
            self.breaker.record_success()
        metrics.record_upstream_call(self.name, status=status, latency_ms=latency_ms)


def decode_json(content: bytes, *, upstream: str) -> Any:
    """Decode an upstream JSON body; some upstreams prefix a UTF-8 BOM."""
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProviderError(f"{upstream} sent a body that is not JSON.", details={"provider": upstream}) from exc


_clients: dict[tuple[str, str], UpstreamClient] = {}
_clients_lock = threading.Lock()


def upstream_client(name: str, *, base_url: str, **options: Any) -> UpstreamClient:
    """The shared client for one upstream and base URL (one connection pool per process)."""
    key = (name, base_url)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = UpstreamClient(name, base_url=base_url, **options)
            _clients[key] = client
        return client


def breaker_states() -> dict[str, str]:
    """Circuit state per upstream in this process (for /health and metrics)."""
    with _clients_lock:
        return {name: client.breaker.state for (name, _), client in _clients.items()}


def reset_clients() -> None:
    """Forget every client (tests change base URLs and breaker settings)."""
    with _clients_lock:
        _clients.clear()
