"""Cache keys for search answers: a kind plus the parts that shape the answer, hashed."""

from __future__ import annotations

import functools
import hashlib
import json
import unicodedata
from typing import Any

KEY_VERSION = "v1"


# Parts longer than this (client text: a query) are hashed each time instead of becoming a memo key.
MEMO_PART_MAX = 256


def cache_key(kind: str, *parts: Any) -> str:
    if any(type(part) is str and len(part) > MEMO_PART_MAX for part in parts):
        return _cache_key(kind, parts)
    try:
        return _cache_key_memo(kind, parts)  # hot keys (a popular ISBN) are hashed once
    except TypeError:  # an unhashable part
        return _cache_key(kind, parts)


def query_key(text: str | None) -> str:
    """A query as a cache key part: case and spacing do not matter; accents and punctuation do.

    "Dune" and " dune " share an answer; "C++" and "C#", "Brontë" and "Bronte" do not (the providers
    answer them differently, and CONTRACT 4 keeps accents). Lower-cased, not case-folded: folding
    would also merge "Straße" with "Strasse".
    """
    return " ".join(unicodedata.normalize("NFC", text).lower().split()) if text else ""


def _cache_key(kind: str, parts: tuple[Any, ...]) -> str:
    digest = hashlib.sha1(json.dumps(parts, ensure_ascii=False, default=str).encode(), usedforsecurity=False)
    return f"search:{KEY_VERSION}:{kind}:{digest.hexdigest()}"


_cache_key_memo = functools.lru_cache(maxsize=8192, typed=True)(_cache_key)  # typed: 1, 1.0, True differ
