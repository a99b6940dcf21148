"""Gemini maps only unknown layouts, through the real google-genai client against the local fake."""

from __future__ import annotations

import json

import pytest

from booktrack.core.exceptions import InvalidFile
from enrichment.importers.service import parse_import, preview_import
from tests.enrichment.importers.test_samples import CSV_DIR, SAMPLES

pytest.importorskip("google.genai")

UNKNOWN = b"Name,Creator,Code,Notes\nDune,Frank Herbert,9780441172719,x\nEmma,Jane Austen,9780141439587,y\n"
HEADERLESS = b"Dune,Frank Herbert,9780441172719,1965\nEmma,Jane Austen,9780141439587,1815\n"


@pytest.fixture
def gemini(fake, settings):
    settings.GEMINI_API_KEY = "fake-key"
    return fake


def test_known_formats_never_call_gemini(gemini):
    for name in SAMPLES:
        list(parse_import((CSV_DIR / name).read_bytes(), filename=name))
    assert gemini.count("POST /gemini") == 0


def test_unknown_layout_is_mapped_once_and_applied_to_every_row(gemini):
    preview = preview_import(UNKNOWN, filename="mine.csv")
    assert preview.format == "gemini"
    assert preview.mapping == {"Name": "title", "Creator": "author", "Code": "isbn13"}
    assert [(r.row, r.title, r.author, r.isbn13) for r in preview.rows] == [
        (1, "Dune", "Frank Herbert", "9780441172719"),
        (2, "Emma", "Jane Austen", "9780141439587"),
    ]
    assert gemini.count("POST /gemini") == 1
    # Same header again (another file): the cached mapping, no second call.
    rows = list(parse_import(UNKNOWN.replace(b"Emma", b"Persuasion"), filename="other.csv"))
    assert rows[1].title == "Persuasion" and gemini.count("POST /gemini") == 1


def test_headerless_file_first_row_is_data(gemini):
    preview = preview_import(HEADERLESS, filename=None)
    assert preview.row_count == 2
    assert [(r.row, r.title, r.isbn13, r.publication_year) for r in preview.rows] == [
        (1, "Dune", "9780441172719", 1965),
        (2, "Emma", "9780141439587", 1815),
    ]
    assert preview.mapping["column 1"] == "title"


def test_only_the_header_and_a_few_sample_rows_are_sent(gemini):
    rows = b"".join(b"Book %d,Writer %d,9780441172719,n\n" % (i, i) for i in range(500))
    items = list(parse_import(b"Name,Creator,Code,Notes\n" + rows))
    assert len(items) == 500
    (request,) = gemini.requests("gemini")
    body = json.loads(request["body"])
    prompt = body["contents"][0]["parts"][0]["text"]
    assert "Book 4," not in prompt and "Book 4" in prompt and "Book 5" not in prompt
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert "hasHeaderRow" in body["generationConfig"]["responseSchema"]["properties"]


def test_without_a_key_an_unknown_layout_is_a_clear_invalid_file(fake, settings):
    settings.GEMINI_API_KEY = None
    with pytest.raises(InvalidFile) as raised:
        parse_import(UNKNOWN)
    assert raised.value.code == "INVALID_FILE" and "GEMINI_API_KEY" in raised.value.message
    assert fake.count("POST /gemini") == 0


def test_gemini_failure_is_a_domain_error_not_a_crash(gemini):
    from booktrack.core.exceptions import ProviderUnavailable

    gemini.queue("gemini", [{"fixture": "gemini/error_429_resource_exhausted_retry_info.json", "status": 429}])
    with pytest.raises(ProviderUnavailable):
        parse_import(UNKNOWN)


def test_empty_file_is_invalid():
    with pytest.raises(InvalidFile):
        parse_import(b"")
    with pytest.raises(InvalidFile):
        parse_import(b"\n\n  \n")
