"""The API's JSON parser: DRF's, with the limits hostile input needs (docs/security.md).

- Nesting deeper than `settings.JSON_MAX_DEPTH` (arrays and objects) is a 400, however deep: Python's
  decoder would raise RecursionError (a 500) near 1,000 levels, and anything that walks the value
  later (serializers, the renderer) recurses too.
- `NaN`, `Infinity` and numbers too large for a float (`1e999` decodes to infinity) are a 400: they
  are not JSON, and a non-finite float fails the strict renderer when it is echoed back.
- A body that is not UTF-8 is a 400.

Every refusal is DRF's `ParseError`, which the one exception handler answers as `INVALID_REQUEST`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_loads_bounded(text: str | bytes, *, max_depth: int) -> Any:
    """`json.loads` refusing what the module docstring lists, with ValueError."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError(f"nested deeper than {max_depth} levels") from exc
    json_check_bounds(value, max_depth=max_depth)
    return value


def json_check_bounds(value: Any, *, max_depth: int) -> None:
    """Walks `value` once, without recursion: depth of containers and finite floats."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict or kind is list:
            depth += 1
            if depth > max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            children = item.values() if kind is dict else item
            for child in children:
                child_kind = type(child)
                if child_kind is dict or child_kind is list:
                    stack.append((child, depth))
                elif child_kind is float and not math.isfinite(child):
                    raise ValueError("a number is too large")
        elif kind is float and not math.isfinite(item):
            raise ValueError("a number is too large")


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("JSON parse error - the body is not UTF-8.") from exc
        try:
            return json_loads_bounded(text, max_depth=settings.JSON_MAX_DEPTH)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
