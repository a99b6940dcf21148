"""One local HTTP server that fakes every upstream BooksTrack talks to.

Usage in process::

    from tests.fakes.server import FakeUpstreams
    fake = FakeUpstreams(port=0)
    fake.start()
    fake.base_urls["OPENLIBRARY_BASE_URL"]     # http://127.0.0.1:<port>/openlibrary
    fake.configure("openlibrary", status=500, times=2)
    fake.count("GET /openlibrary/search.json")
    fake.stop()

Over HTTP (for another process): ``POST /_control/configure``, ``POST /_control/queue``,
``POST /_control/reset``, ``GET /_control/counts``, ``GET /_control/requests?upstream=``.
See tests/fakes/README.md.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes import cover_hosts, covers, gemini, google_books, isbndb, openlibrary, wikidata
from tests.fakes.routing import Request, Response, Route, compile_route, json_response
from tests.samples import sample_json

UPSTREAM_MODULES = (google_books, openlibrary, covers, isbndb, wikidata, gemini, *cover_hosts.UPSTREAMS)
UPSTREAMS = tuple(module.NAME for module in UPSTREAM_MODULES)

# env var name (contract section 1) -> upstream name
ENV_VARS = {
    "GOOGLE_BOOKS_BASE_URL": "google",
    "OPENLIBRARY_BASE_URL": "openlibrary",
    "OPENLIBRARY_COVERS_BASE_URL": "covers",
    "ISBNDB_BASE_URL": "isbndb",
    "WIKIDATA_BASE_URL": "wikidata",
    "GEMINI_BASE_URL": "gemini",
    "GOOGLE_BOOKS_COVERS_BASE_URL": "google-covers",
    "ISBNDB_IMAGES_BASE_URL": "isbndb-images",
    "AMAZON_IMAGES_BASE_URL": "amazon-images",
}


@dataclass
class Knobs:
    """Fault injection for one upstream. ``times=None`` means every request."""

    latency_ms: int = 0
    status: int | None = None
    times: int | None = None
    malformed: bool = False
    retry_after: int | None = None

    def failing(self) -> bool:
        return self.status is not None or self.malformed


@dataclass
class QueuedResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeUpstreams:
    """The fake server, its knobs and its request counters. Thread-safe."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, latency_ms: int = 0, isbndb_keys: set[str] | None = None
    ):
        self.host = host
        self.requested_port = port
        self.default_latency_ms = latency_ms
        # None = any non-empty key is accepted except ones starting with "invalid".
        self.isbndb_keys = isbndb_keys
        self._lock = threading.Lock()
        self._knobs: dict[str, Knobs] = {}
        self._queues: dict[str, deque[QueuedResponse]] = {}
        self._counts: Counter[str] = Counter()
        self._requests: dict[str, deque[dict]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, str, Route]] = []  # (upstream, prefix, route)
        for module in UPSTREAM_MODULES:
            for method, template, handler in module.ROUTES:
                self._routes.append((module.NAME, module.PREFIX, compile_route(method, template, handler)))
        self._prefixes = sorted(((m.PREFIX, m.NAME) for m in UPSTREAM_MODULES), key=lambda item: -len(item[0]))
        self.reset()

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeUpstreams:
        handler = _make_handler(self)
        self._httpd = _Server((self.host, self.requested_port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-upstreams", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd = _Server((self.host, self.requested_port), _make_handler(self))
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeUpstreams:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeUpstreams is not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_urls(self) -> dict[str, str]:
        prefixes = {module.NAME: module.PREFIX for module in UPSTREAM_MODULES}
        return {env: self.url + prefixes[name] for env, name in ENV_VARS.items()}

    def env_lines(self) -> list[str]:
        return [f"export {env}={url}" for env, url in self.base_urls.items()]

    # knobs -----------------------------------------------------------------------------------

    def configure(
        self,
        upstream: str,
        *,
        latency_ms: int = 0,
        status: int | None = None,
        times: int | None = None,
        malformed: bool = False,
        retry_after: int | None = None,
    ) -> None:
        """Replace the knobs of one upstream (``"all"`` for every upstream).

        ``status``: answer this status (with the upstream's own error body) instead of the real
        answer. ``malformed``: answer 200 with a truncated body (invalid JSON / broken JPEG).
        ``retry_after``: seconds for a ``Retry-After`` header; alone it implies status 429.
        ``times``: how many requests the status/malformed fault applies to (None = all).
        ``latency_ms`` applies to every request until reset.
        """
        if retry_after is not None and status is None:
            status = 429
        names = UPSTREAMS if upstream == "all" else (self._check(upstream),)
        with self._lock:
            for name in names:
                self._knobs[name] = Knobs(int(latency_ms or 0), status, times, bool(malformed), retry_after)

    def queue(self, upstream: str, responses: list[dict]) -> None:
        """Queue raw answers returned, in order, before any normal handling.

        Each item: ``{"status": 429, "body": {...} | "text", "headers": {...}}`` or
        ``{"fixture": "gemini/error_429_resource_exhausted_retry_info.json", "status": 429}``
        (path below tests/fixtures/upstream).
        """
        name = self._check(upstream)
        items = []
        for item in responses:
            body = item.get("body")
            if "fixture" in item:
                body = sample_json(item["fixture"])
            items.append(QueuedResponse(int(item.get("status", 200)), body, dict(item.get("headers") or {})))
        with self._lock:
            self._queues[name].extend(items)

    def reset(self) -> None:
        """Clear knobs, queues, counters and recorded requests."""
        with self._lock:
            self._knobs = {name: Knobs(latency_ms=self.default_latency_ms) for name in UPSTREAMS}
            self._queues = {name: deque() for name in UPSTREAMS}
            self._counts = Counter()
            self._requests = {name: deque(maxlen=200) for name in UPSTREAMS}

    def counts(self) -> dict[str, int]:
        """``{"GET /openlibrary/search.json": 3, ...}`` (method + route template)."""
        with self._lock:
            return dict(self._counts)

    def count(self, prefix: str = "") -> int:
        """Sum of the counters whose key starts with ``prefix``.

        ``count("GET /openlibrary/search.json")``, ``count("GET /isbndb")``; a bare upstream
        name such as ``count("openlibrary")`` counts every method of that upstream.
        """
        if prefix in UPSTREAMS:
            prefix_path = {m.NAME: m.PREFIX for m in UPSTREAM_MODULES}[prefix]
            with self._lock:
                return sum(n for key, n in self._counts.items() if key.split(" ", 1)[1].startswith(prefix_path))
        with self._lock:
            return sum(n for key, n in self._counts.items() if key.startswith(prefix))

    def requests(self, upstream: str) -> list[dict]:
        """The last 200 requests of one upstream: method, path, query, headers, body text."""
        with self._lock:
            return list(self._requests[self._check(upstream)])

    def _check(self, upstream: str) -> str:
        if upstream not in UPSTREAMS:
            raise ValueError(f"unknown upstream {upstream!r}; expected one of {UPSTREAMS}")
        return upstream

    # dispatch --------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if path.startswith("/_control/"):
            return self._control(method, path, query, body)
        for prefix, name in self._prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return self._upstream(name, prefix, method, path[len(prefix) :], query, headers, body)
        return json_response({"error": f"no fake upstream mounted at {path}"}, 404)

    def _upstream(self, name, prefix, method, sub_path, query, headers, body) -> Response:
        route, params = None, {}
        route_method = "GET" if method == "HEAD" else method
        for upstream, route_prefix, candidate in self._routes:
            if upstream != name or candidate.method != route_method:
                continue
            match = candidate.regex.match(sub_path)
            if match:
                route, params = candidate, match.groupdict()
                break
        key = f"{method} {prefix}{route.template if route else sub_path}"
        with self._lock:
            self._counts[key] += 1
            self._requests[name].append(
                {
                    "method": method,
                    "path": prefix + sub_path,
                    "query": query,
                    "headers": headers,
                    "body": body.decode("utf-8", "replace"),
                }
            )
            knobs = self._knobs[name]
            latency = knobs.latency_ms
            fault = None
            if self._queues[name]:
                fault = self._queues[name].popleft()
            elif knobs.failing() and (knobs.times is None or knobs.times > 0):
                fault = Knobs(0, knobs.status, None, knobs.malformed, knobs.retry_after)
                if knobs.times is not None:
                    knobs.times -= 1
        if latency:
            time.sleep(latency / 1000)
        if isinstance(fault, QueuedResponse):
            if isinstance(fault.body, (bytes, str)):
                raw = fault.body.encode() if isinstance(fault.body, str) else fault.body
                return Response(fault.status, raw, headers=fault.headers)
            return json_response(fault.body, fault.status, fault.headers)
        if fault is not None and fault.status is not None:
            module = {m.NAME: m for m in UPSTREAM_MODULES}[name]
            response = module.error_response(fault.status)
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        if route is None:
            module = {m.NAME: m for m in UPSTREAM_MODULES}[name]
            response = module.error_response(405 if self._path_known(name, sub_path) else 404)
        else:
            request = Request(method, sub_path, query, headers, body, params, self.url, self)
            response = route.handler(request)
        if fault is not None and fault.malformed:
            response.body = response.body[: max(1, len(response.body) // 2)] + b"\x00<!-- cut"
            response.status = 200
        return response

    def _path_known(self, name: str, sub_path: str) -> bool:
        return any(upstream == name and route.regex.match(sub_path) for upstream, _, route in self._routes)

    def _control(self, method, path, query, body) -> Response:
        try:
            payload = json.loads(body.decode("utf-8") or "{}") if method == "POST" else {}
            if method == "POST" and path == "/_control/configure":
                upstream = payload.pop("upstream")
                self.configure(upstream, **payload)
                return json_response({"ok": True})
            if method == "POST" and path == "/_control/queue":
                self.queue(payload["upstream"], payload["responses"])
                return json_response({"ok": True})
            if method == "POST" and path == "/_control/reset":
                self.reset()
                return json_response({"ok": True})
            if method == "GET" and path == "/_control/counts":
                return json_response(self.counts())
            if method == "GET" and path == "/_control/requests":
                return json_response(self.requests(query.get("upstream", [""])[0]))
            if method == "GET" and path == "/_control/base-urls":
                return json_response(self.base_urls)
        except (KeyError, TypeError, ValueError, FileNotFoundError) as exc:
            return json_response({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, 400)
        return json_response({"ok": False, "error": f"unknown control route {method} {path}"}, 404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # 100+ concurrent connections from benchmarks

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (its deadline passed while we slept on injected latency) is normal here.
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _make_handler(fake: FakeUpstreams):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real services
        server_version = "FakeUpstreams/1.0"
        # Headers and body go out in two writes; with Nagle on, the body waits for the client's
        # delayed ACK of the headers (40 ms on Linux), latency the real services do not add.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                response = fake.handle(self.command, self.path, headers, body)
            except Exception as exc:  # a bug in a fake must not hang the client
                response = json_response({"error": f"fake crashed: {exc!r}"}, 500)
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args) -> None:  # quiet in tests
            pass

    return Handler
