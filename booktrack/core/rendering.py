"""JSON rendering for the API: DRF's JSON renderer, plus values whose JSON was rendered once.

A hot cached search answer is the same payload on every request. `PrerenderedJSON` carries a value
with its bytes, rendered with the very settings DRF uses (compact, UTF-8, U+2028/U+2029 escaped);
the cached answer keeps one (search.answers) and `ApiJSONRenderer` splices its bytes into a top-level
dict (the v1 envelope's `data`) instead of encoding the value again. Output is byte-for-byte what
DRF's renderer would produce for the plain value. What it saves: the "pre-rendered splice" A/B row
of `make bench` (docs/benchmarks.md).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class ApiJSONEncoder(JSONEncoder):
    """DRF's encoder; a `PrerenderedJSON` nested anywhere is encoded from its value (correct, not fast)."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, PrerenderedJSON):
            return obj.value
        return super().default(obj)


# One encoder for every call (it holds only its options; `encode` is thread-safe): building one per
# call, as `json.dumps(cls=...)` does, costs more than encoding a small dict.
_encoder = ApiJSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_bytes(value: Any) -> bytes:
    """`value` as DRF's JSONRenderer renders it by default (compact, ensure_ascii off, strict)."""
    text = _encoder.encode(value)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


@lru_cache(maxsize=512)
def _key_bytes(key: str) -> bytes:
    return json_bytes(key)


class PrerenderedJSON:
    """An immutable JSON value together with its rendered bytes (render once, serve many times)."""

    __slots__ = ("raw", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.raw = json_bytes(value)

    def __repr__(self) -> str:
        return f"PrerenderedJSON({len(self.raw)} bytes)"


class ApiJSONRenderer(JSONRenderer):
    """DRF's JSON renderer; a top-level dict holding `PrerenderedJSON` values reuses their bytes."""

    encoder_class = ApiJSONEncoder

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, PrerenderedJSON):
            return data.raw
        if (
            type(data) is dict
            and all(type(k) is str for k in data)
            and any(type(v) is PrerenderedJSON for v in data.values())
        ):
            # A PrerenderedJSON's bytes are compact; so is the rest, whatever `indent` the client asked.
            parts = [
                _key_bytes(key) + b":" + (value.raw if type(value) is PrerenderedJSON else json_bytes(value))
                for key, value in data.items()
            ]
            return b"{" + b",".join(parts) + b"}"
        return super().render(data, accepted_media_type, renderer_context)
