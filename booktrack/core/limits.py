"""Request-body caps per route, enforced on the bytes actually read (CONTRACT 2, 413).

Routes declare their cap with `max_body_bytes` (and a `body_resource_type` for the 413 details) on
the view class or function; everything else gets `settings.MAX_BODY_BYTES`. The ASGI middleware here
resolves the path before Django reads the body, counts bytes as they arrive and stops reading at the
cap: an oversized chunked upload is refused without being buffered.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

BODY_LIMIT_SCOPE_KEY = "booktrack.body_too_large"
MB = 1024 * 1024


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    resource_type: str


@lru_cache(maxsize=512)
def body_limit_for_path(path: str) -> BodyLimit:
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
    """Wraps the HTTP app; see the module docstring.

    - Declared `Content-Length` over the cap: nothing is read; the request goes on with an empty
      body and the marker.
    - Declared length within the cap: streamed through untouched (the server enforces the framing).
    - No length (chunked): read up to the cap, never further. Over it: marker and an empty body;
      within it: replayed with the `Content-Length` the WSGI side needs.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
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
        if declared is not None:
            if declared > limit.max_bytes:
                await self.app(_with_marker(scope, declared, limit), _empty_body, send)
            else:
                await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before finishing its body
            body = message.get("body", b"")
            received += len(body)
            if received > limit.max_bytes:
                # Stop here: the rest of the upload is never read, let alone buffered.
                await self.app(_with_marker(scope, received, limit), _empty_body, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = b"".join(chunks)
        headers = [(n, v) for n, v in scope.get("headers", []) if n != b"transfer-encoding"]
        headers.append((b"content-length", str(len(whole)).encode()))
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app({**scope, "headers": headers}, replay, send)


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
