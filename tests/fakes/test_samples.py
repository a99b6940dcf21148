"""The recorded upstream samples are part of the repository, and a missing one fails loudly."""

from __future__ import annotations

import pytest

from tests import samples


def test_every_sample_named_in_sources_is_in_the_repository():
    sources = (samples.UPSTREAM_FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    for folder in ("google_books", "openlibrary", "isbndb", "gemini", "csv"):
        files = sorted(p.name for p in (samples.UPSTREAM_FIXTURES / folder).iterdir())
        assert files, folder
        for name in files:
            assert f"`{name}`" in sources, f"{folder}/{name} has no origin in SOURCES.md"


def test_a_missing_sample_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "UPSTREAM_FIXTURES", tmp_path)
    samples.sample_bytes.cache_clear()
    try:
        with pytest.raises(samples.MissingSampleError, match="google_books/none.json"):
            samples.sample_json("google_books/none.json")
    finally:
        samples.sample_bytes.cache_clear()


def test_a_fake_serving_a_recorded_sample_fails_loudly_without_it(tmp_path, monkeypatch):
    from tests.fakes import google_books
    from tests.fakes.routing import Request

    monkeypatch.setattr(samples, "UPSTREAM_FIXTURES", tmp_path)
    samples.sample_bytes.cache_clear()
    try:
        with pytest.raises(samples.MissingSampleError):
            google_books.get_volume(
                Request(method="GET", path="", query={}, headers={}, body=b"", params={"volume_id": "2cl7AgAAQBAJ"})
            )
    finally:
        samples.sample_bytes.cache_clear()
