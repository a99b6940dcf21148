"""Request-body caps per route, enforced on the bytes actually read (CONTRACT 2, 413).

Routes declare their cap with `max_body_bytes` (and a `body_resource_type` for the 413 details) on
the view class or function; everything else gets `settings.MAX_BODY_BYTES`. The ASGI middleware here
resolves the path before Django reads the body, counts bytes as they arrive and stops reading at the
cap: an oversized chunked upload is refused without being buffered.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

from django.conf import settings
from django.urls import Resolver404, resolve

from booktrack.core import metrics
from booktrack.core.envelope import error_body
from booktrack.core.exceptions import DomainError, InvalidQuery, RequestTimeout, ServerBusy

BODY_LIMIT_SCOPE_KEY = "booktrack.body_too_large"
MB = 1024 * 1024


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    resource_type: str


# Paths longer than this are resolved each time instead of memoized (the memo is keyed by client text).
_MEMO_PATH_MAX = 256


def body_limit_for_path(path: str) -> BodyLimit:
    if len(path) > _MEMO_PATH_MAX:
        return _body_limit_for_path.__wrapped__(path)
    return _body_limit_for_path(path)


body_limit_for_path.cache_clear = lambda: _body_limit_for_path.cache_clear()  # type: ignore[attr-defined]


@lru_cache(maxsize=512)
def _body_limit_for_path(path: str) -> BodyLimit:
    default = BodyLimit(settings.MAX_BODY_BYTES, "request")
    try:
        match = resolve(path)
    except Resolver404:
        return default
    view = match.func
    owner = getattr(view, "cls", None) or getattr(view, "view_class", None) or view
    max_bytes = getattr(owner, "max_body_bytes", None)
    if not max_bytes:
        return default
    return BodyLimit(int(max_bytes), getattr(owner, "body_resource_type", "request"))


def body_limit(max_bytes: int, resource_type: str = "request"):
    """Decorator for function views: `@body_limit(5 * MB, "image")`."""

    def decorate(view):
        view.max_body_bytes = max_bytes
        view.body_resource_type = resource_type
        return view

    return decorate


class BodySizeLimitASGIMiddleware:
    """Wraps the HTTP app; see the module docstring. Also the slow-client guard (docs/security.md).

    A request with a body is read here, on the event loop, before the app (and so a thread of the WSGI
    bridge) sees it: a slow or stalled upload costs a coroutine, never a thread.

    - No body (GET/HEAD/OPTIONS, `Content-Length: 0`): passed straight through, nothing read and
      nothing counted. No length at all (chunked, or HTTP/2) is read like any body.
    - Declared `Content-Length` over the cap: nothing is read; the request goes on with an empty
      body and the marker (the 413 is answered by Django, with CORS headers).
    - Otherwise the body is read up to the cap within a deadline (`REQUEST_BODY_TIMEOUT_SECONDS`, plus
      time for the size at `REQUEST_BODY_MIN_BYTES_PER_SECOND`): late, it is answered 408 here; over
      the cap (no length declared), marker and an empty body; without a declared length it is
      replayed with the `Content-Length` the WSGI side needs. Read in time, it is replayed to the app
      whole: from memory up to `SPOOL_MEMORY_BYTES`, from an anonymous temporary file beyond (uploads
      of many MB in flight at once do not add up in RAM).
    - At most `MAX_BODIES_IN_FLIGHT` bodies are being read at once in this process; one more is
      answered 503 with `Retry-After` before a byte of it is read.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies_in_flight = 0  # one event loop per process: no lock needed
        # Read once: each `settings.X` read costs ~1.5 us (LazyObject's __getattribute__), more than
        # this whole middleware costs a GET.
        self.max_query_string_bytes: int = settings.MAX_QUERY_STRING_BYTES

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_string_bytes:
            metrics.record_event("query_string_too_long")
            await send_asgi_error(
                scope,
                send,
                InvalidQuery(
                    f"The query string is longer than {self.max_query_string_bytes} bytes.",
                    details={"maxBytes": self.max_query_string_bytes},
                ),
            )
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit_for_path(scope.get("path", "/"))
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > limit.max_bytes:
            await self.app(_with_marker(scope, declared, limit), _empty_body, send)
            return
        if declared == 0:
            await self.app(scope, receive, send)
            return

        if self.bodies_in_flight >= settings.MAX_BODIES_IN_FLIGHT:
            metrics.record_event("body_refused_busy")
            await send_asgi_error(scope, send, ServerBusy(headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}))
            return
        expected = declared if declared is not None else limit.max_bytes
        timeout = settings.REQUEST_BODY_TIMEOUT_SECONDS + expected / settings.REQUEST_BODY_MIN_BYTES_PER_SECOND
        self.bodies_in_flight += 1
        try:
            async with asyncio.timeout(timeout):
                read = await _read_body(receive, limit.max_bytes)
        except TimeoutError:
            metrics.record_event("body_timeout")
            await send_asgi_error(
                scope,
                send,
                RequestTimeout(
                    f"The request body did not arrive within {timeout:.0f} seconds.",
                    details={"timeoutSeconds": round(timeout, 1)},
                ),
            )
            return
        finally:
            self.bodies_in_flight -= 1
        if read is None:
            return  # the client went away before finishing its body
        whole, received = read
        if received > limit.max_bytes:
            # Stop here: the rest of the upload is never read, let alone buffered.
            await self.app(_with_marker(scope, received, limit), _empty_body, send)
            return
        if declared is None:
            headers = [(n, v) for n, v in scope.get("headers", []) if n != b"transfer-encoding"]
            headers.append((b"content-length", str(received).encode()))
            scope = {**scope, "headers": headers}
        if isinstance(whole, bytes):
            await self.app(scope, _replay_bytes(whole, receive), send)
            return
        try:
            await self.app(scope, _replay_file(whole, received, receive), send)
        finally:
            whole.close()


# What a 503 for "too many bodies in flight" tells the client to wait (seconds): bodies drain fast.
BUSY_RETRY_AFTER_SECONDS = 1


# A body past this many bytes is spooled to an anonymous temporary file instead of memory, so bodies
# in flight (up to MAX_BODIES_IN_FLIGHT uploads of up to 50 MB) do not add up in RAM.
SPOOL_MEMORY_BYTES = 1024 * 1024
REPLAY_CHUNK_BYTES = 64 * 1024


async def _read_body(receive: Any, max_bytes: int) -> tuple[bytes | IO[bytes], int] | None:
    """(the body, bytes received) read up to one chunk past `max_bytes`; None if the client left.

    The body is bytes up to `SPOOL_MEMORY_BYTES`, beyond that a temporary file positioned at its start
    (the caller closes it). Past `max_bytes` nothing more is kept: (b"", bytes received).
    """
    chunks: list[bytes] = []
    spool: IO[bytes] | None = None
    received = 0
    try:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                if spool is not None:
                    spool.close()
                return None
            body = message.get("body", b"")
            received += len(body)
            if received > max_bytes:
                if spool is not None:
                    spool.close()
                return b"", received
            if spool is None and received > SPOOL_MEMORY_BYTES:
                spool = tempfile.TemporaryFile()
                spool.writelines(chunks)
                chunks = []
            if spool is not None:
                spool.write(body)
            else:
                chunks.append(body)
            if not message.get("more_body", False):
                break
    except BaseException:  # the deadline (TimeoutError) or a cancelled task: drop the spool
        if spool is not None:
            spool.close()
        raise
    if spool is not None:
        spool.seek(0)
        return spool, received
    return b"".join(chunks), received


async def send_asgi_error(scope: dict, send: Any, error: DomainError) -> None:
    """The contract's error body, answered from the ASGI layer (no thread, no Django), then close.

    CORS headers as django-cors-headers would set them for a simple request, so a browser app can read
    the error (the 408 and 503 of the body guard never reach Django's middleware).
    """
    started = time.perf_counter()
    request_id = str(uuid.uuid4())
    payload = error_body(None, code=error.code, message=error.message, details=error.details)
    payload["metadata"]["requestId"] = request_id
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-request-id", request_id.encode()),
        (b"x-response-time", f"{(time.perf_counter() - started) * 1000:.1f}ms".encode()),
    ]
    headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
    headers += _cors_headers(scope)
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _cors_headers(scope: dict) -> list[tuple[bytes, bytes]]:
    origin = next((v for n, v in scope.get("headers", []) if n == b"origin"), None)
    if origin is None:
        return []
    if settings.CORS_ALLOW_ALL_ORIGINS:
        return [(b"access-control-allow-origin", b"*")]
    if origin.decode("latin-1") in settings.CORS_ALLOWED_ORIGINS:
        return [(b"access-control-allow-origin", origin), (b"vary", b"origin")]
    return []


def _replay_bytes(whole: bytes, receive: Any) -> Any:
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": whole, "more_body": False}
        return await receive()  # then whatever the server says next (a disconnect)

    return replay


def _replay_file(spool: IO[bytes], size: int, receive: Any) -> Any:
    sent = 0
    done = False

    async def replay() -> dict:
        nonlocal sent, done
        if done:
            return await receive()
        chunk = spool.read(REPLAY_CHUNK_BYTES)
        sent += len(chunk)
        done = sent >= size or not chunk
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replay


def _with_marker(scope: dict, received: int, limit: BodyLimit) -> dict:
    return {
        **scope,
        BODY_LIMIT_SCOPE_KEY: {
            "receivedBytes": received,
            "maxBytes": limit.max_bytes,
            "resourceType": limit.resource_type,
        },
    }


async def _empty_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}
