"""The Gemini engine (scanning/engines/gemini.py): the real google-genai client against the local fake,
every unusable answer a PhotoFailed with its code, never a crash."""

from __future__ import annotations

import base64
import json

import pytest
from PIL import Image

from booktrack.core import gemini as gemini_client
from booktrack.core import metrics
from scanning.dto import PhotoFailed
from scanning.engines.gemini import GeminiEngine
from scanning.prompts import PROMPT_VERSION
from tests.fakes.gemini import scan_reply
from tests.scanning.shelves import prepared, render_shelf

pytest.importorskip("google.genai")


@pytest.fixture
def live(fake, settings, monkeypatch):
    settings.GEMINI_API_KEY = "fake-key"
    settings.GEMINI_MAX_RETRY_WAIT_SECONDS = 0.01
    gemini_client.reset_gemini_client()
    yield fake
    gemini_client.reset_gemini_client()


@pytest.fixture(scope="module")
def shelf_photo():
    return prepared(render_shelf(width=640, height=480).image)


def sent(fake) -> dict:
    (request,) = fake.requests("gemini")
    return json.loads(request["body"])


def test_books_come_back_with_boxes_in_range_and_confidence_none_when_absent(live, shelf_photo):
    reply = GeminiEngine().detect(shelf_photo)
    assert reply.model_used == "gemini-2.5-flash" and reply.prompt_version == PROMPT_VERSION
    assert reply.prompt_tokens > 0 and reply.output_tokens > 0
    assert 3 <= len(reply.detections) <= 6
    for d in reply.detections:
        assert d.source == "gemini" and d.title and d.spine_text
        assert d.box is not None and 0 <= d.box.x and d.box.x + d.box.width <= 1 and d.box.y + d.box.height <= 1
        assert d.confidence is None or 0 <= d.confidence <= 1
    assert reply.detections[2].confidence is None  # the fake's third book has confidence null
    assert metrics.read_totals("15m")["tok|gemini-2.5-flash|calls"] == 1


def test_photo_is_sent_as_its_true_type_with_the_schema(live):
    png = Image.new("RGB", (200, 120), (200, 180, 150))
    photo = prepared(png)
    photo = type(photo)(**{**photo.__dict__, "encoded": _png_bytes(png), "mime_type": "image/png"})
    GeminiEngine().detect(photo)
    body = sent(live)
    part = body["contents"][0]["parts"][0]
    inline = part.get("inlineData") or part["inline_data"]  # the SDK sends either spelling
    assert (inline.get("mimeType") or inline["mime_type"]) == "image/png"
    assert base64.urlsafe_b64decode(inline["data"] + "==")[:8] == b"\x89PNG\r\n\x1a\n"
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    book = config["responseSchema"]["properties"]["books"]["items"]["properties"]
    assert {"title", "author", "spine_text", "confidence", "box_2d"} <= book.keys()
    assert book["confidence"]["nullable"] is True


def _png_bytes(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_each_books_fields_are_cleaned(live, shelf_photo):
    books = [
        {
            "title": "  Dune ",
            "author": "Frank Herbert",
            "spine_text": "DUNE",
            "confidence": 0.93,
            "box_2d": [40, 100, 960, 180],
        },
        {"title": "Piranesi", "author": "unknown", "spine_text": None, "confidence": 87, "box_2d": [50, 200, 50, 260]},
        {
            "title": "Beloved",
            "author": None,
            "spine_text": "BELOVED",
            "confidence": 1.7e9,
            "box_2d": [0, 300, 1200, -5],
        },
        {"title": "   ", "author": "Nobody", "spine_text": "?", "confidence": 0.5, "box_2d": [0, 0, 10, 10]},
        {"title": "Sabriel", "author": "Garth Nix", "spine_text": "SABRIEL", "confidence": True, "box_2d": [1, 2, 3]},
    ]
    live.queue("gemini", [scan_reply("books", books=books)])
    reply = GeminiEngine().detect(shelf_photo)
    dune, piranesi, beloved, sabriel = reply.detections
    assert (dune.title, dune.confidence) == ("Dune", 0.93)
    assert (dune.box.x, dune.box.y, round(dune.box.width, 3), round(dune.box.height, 3)) == (0.1, 0.04, 0.08, 0.92)
    assert piranesi.author is None and piranesi.confidence == 0.87 and piranesi.box is None  # degenerate box
    assert beloved.confidence == 1.0 and beloved.box is None  # xmax clamped to 0 < xmin: no box
    assert sabriel.confidence is None and sabriel.box is None
    assert reply.notes == ("1 listed book(s) without a usable title were dropped",)


def test_answer_without_confidence_keeps_none(live, shelf_photo):
    live.queue("gemini", [scan_reply("no_confidence")])
    (dune,) = GeminiEngine().detect(shelf_photo).detections
    assert dune.title == "Dune" and dune.confidence is None and dune.box is not None


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("safety", "model_safety"),
        ("blocked", "model_safety"),
        ("empty_text", "model_empty"),
        ("malformed_json", "model_malformed"),
        ("wrong_shape", "model_malformed"),
    ],
)
def test_unusable_answers_fail_the_photo_with_a_reason(live, shelf_photo, kind, code):
    live.queue("gemini", [scan_reply(kind)])
    with pytest.raises(PhotoFailed) as raised:
        GeminiEngine().detect(shelf_photo)
    assert raised.value.code == code and raised.value.reason
    assert live.count("POST /gemini") == 1  # an answer is not retried, only a failed request


def test_cut_off_answer_says_so(live, shelf_photo):
    live.queue("gemini", [scan_reply("malformed_json")])
    with pytest.raises(PhotoFailed, match="cut off"):
        GeminiEngine().detect(shelf_photo)


def test_no_book_readable_is_an_empty_reply_not_a_failure(live):
    reply = GeminiEngine().detect(prepared(Image.new("RGB", (20, 20))))  # the fake finds nothing under 32 px
    assert reply.detections == ()


def test_transport_failures_become_photo_errors(live, shelf_photo, settings):
    live.configure("gemini", status=503)
    with pytest.raises(PhotoFailed) as raised:
        GeminiEngine().detect(shelf_photo)
    assert raised.value.code == "model_unavailable" and live.count("POST /gemini") == 3
    live.reset()
    live.configure("gemini", malformed=True)
    with pytest.raises(PhotoFailed) as raised:
        GeminiEngine().detect(shelf_photo)
    assert raised.value.code == "model_malformed"
    live.reset()
    with pytest.raises(PhotoFailed) as raised:
        GeminiEngine(model="palm-2").detect(shelf_photo)
    assert raised.value.code == "model_rejected"
    settings.GEMINI_TIMEOUT_SECONDS = 0.3
    settings.GEMINI_MAX_RETRIES = 0
    live.configure("gemini", latency_ms=1200)
    with pytest.raises(PhotoFailed) as raised:
        GeminiEngine().detect(shelf_photo)
    assert raised.value.code == "model_timeout"


def test_an_unreadable_image_is_refused_by_the_model(live):
    photo = prepared(Image.new("RGB", (64, 64)))
    broken = type(photo)(**{**photo.__dict__, "encoded": b"\xff\xd8\xff\xe0 not really a jpeg"})
    with pytest.raises(PhotoFailed) as raised:
        GeminiEngine().detect(broken)
    assert raised.value.code == "model_rejected"
