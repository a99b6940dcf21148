"""Real upstream samples copied into tests/fixtures/upstream (origins in its SOURCES.md).

One loader for tests and fakes alike: a missing sample fails loudly, never degrades quietly.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

UPSTREAM_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upstream"


class MissingSampleError(FileNotFoundError):
    """A recorded upstream sample is not in tests/fixtures/upstream."""


@cache
def sample_bytes(relative: str) -> bytes:
    """The sample's bytes without a UTF-8 BOM (two Google samples start with one)."""
    path = UPSTREAM_FIXTURES / relative
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MissingSampleError(f"recorded upstream sample missing: {path}") from exc
    return data.removeprefix(b"\xef\xbb\xbf")


def sample_json(relative: str):
    return json.loads(sample_bytes(relative).decode("utf-8"))


def sample_lines(relative: str) -> list[str]:
    return sample_bytes(relative).decode("utf-8").splitlines()
