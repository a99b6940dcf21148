"""Request-body caps per route, enforced on the bytes actually read (CONTRACT 2, 413).

Routes declare their cap with `max_body_bytes` (and a `body_resource_type` for the 413 details) on
the view class or function; everything else gets `settings.MAX_BODY_BYTES`. The ASGI middleware here
resolves the path before Django reads the body, counts bytes as they arrive and stops reading at the
cap: an oversized chunked upload is refused without being buffered.
"""

from __future__ import annotations

import asyncio
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
    """Wraps the Django ASGI app; see the module docstring."""

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
        scope = dict(scope)
        if declared is not None and declared > limit.max_bytes:
            scope[BODY_LIMIT_SCOPE_KEY] = {
                "receivedBytes": declared,
                "maxBytes": limit.max_bytes,
                "resourceType": limit.resource_type,
            }
            await self.app(scope, _empty_body, send)
            return

        received = 0
        cut = False
        cut_delivered = False

        async def counting_receive() -> dict:
            nonlocal received, cut, cut_delivered
            if cut:
                if not cut_delivered:
                    cut_delivered = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                # Django now only listens for a disconnect; reading on would pull the rest of the
                # upload off the socket. Park until the response is sent and this task is cancelled.
                await asyncio.Event().wait()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    cut = True
                    scope[BODY_LIMIT_SCOPE_KEY] = {
                        "receivedBytes": received,
                        "maxBytes": limit.max_bytes,
                        "resourceType": limit.resource_type,
                    }
                    # Stop here: drop the chunk, tell Django the body ended; the rest is never read.
                    cut_delivered = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        await self.app(scope, counting_receive, send)


async def _empty_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}
