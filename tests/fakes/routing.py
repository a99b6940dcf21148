"""Small request/response types and routing shared by the upstream fake modules.

Standard library only. An upstream module declares ``NAME``, ``PREFIX`` and ``ROUTES`` (a list of
``(method, template, handler)``); a template is a literal path with ``{name}`` placeholders, each
matching one path segment part (no ``/``). Handlers take a :class:`Request` and return a
:class:`Response`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str  # path below the upstream prefix, percent-decoded, without query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from the route template
    base_url: str = ""  # http://host:port of the fake itself
    server: Any = None  # the FakeUpstreams instance

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        try:
            return int(self.arg(name, str(default)))
        except (TypeError, ValueError):
            return default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(status=status, body=body, headers=dict(headers or {}))


def raw_json_response(body: bytes, status: int = 200) -> Response:
    """A recorded fixture's bytes, served unchanged."""
    return Response(status=status, body=body)


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8"):
    return Response(status=status, body=text.encode("utf-8"), content_type=content_type)


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    regex: re.Pattern


def compile_route(method: str, template: str, handler: Handler) -> Route:
    pattern = ""
    for part in re.split(r"(\{\w+\})", template):
        if part.startswith("{") and part.endswith("}"):
            pattern += f"(?P<{part[1:-1]}>[^/]+?)"
        else:
            pattern += re.escape(part)
    return Route(method, template, handler, re.compile(f"^{pattern}$"))
