"""The Gemini engine: one structured-output call per photo, the answer parsed into `Detection`s.

The photo goes as its true type (`photo.mime_type`, never a fixed image/jpeg) with the versioned
prompt and response schema of `scanning.prompts`. Every way an answer can be unusable becomes a
`PhotoFailed` with a stable code and a sentence the app can show, never an exception of another
kind:

- `model_safety`: the prompt was blocked, or the answer stopped for SAFETY (or another policy reason);
- `model_empty`: no candidate, or a candidate without text;
- `model_malformed`: text that is not JSON, JSON of the wrong shape, or books none of which is usable;
- `model_timeout`, `model_unavailable` (429/5xx/connection after the client's retries) and
  `model_rejected` (the API refused the request: a bad key, an unknown model, an image it cannot read).

Per book: a blank title drops the book; `confidence` stays None when the model gave none (never a
made-up default), a figure above 1 and at most 100 is read as a percentage, and anything else is
clamped to 0..1; a `box_2d` that is not four numbers, or is degenerate, gives no box.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from booktrack.core.exceptions import ProviderError, ProviderTimeout, ProviderUnavailable
from booktrack.core.gemini import GeminiReply, gemini_generate
from scanning.dto import Box, Detection, EngineReply, PhotoFailed, PreparedPhoto
from scanning.prompts import PROMPT_VERSION, SCAN_PROMPT, response_schema

# Finish reasons that mean the answer was withheld for policy reasons, not cut or finished.
POLICY_FINISH_REASONS = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"}
)
MAX_FIELD_CHARS = 500


@dataclass(frozen=True)
class ParsedAnswer:
    detections: tuple[Detection, ...]
    notes: tuple[str, ...] = ()


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = " ".join(value.split())[:MAX_FIELD_CHARS]
    return cleaned or None


def _confidence(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    figure = float(value)
    if 1.0 < figure <= 100.0:  # "95" for 95 %: models sometimes answer in percent despite the schema
        figure /= 100.0
    return round(min(max(figure, 0.0), 1.0), 4)


def _box(value: object) -> Box | None:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    return Box.from_box_2d([float(v) for v in value])


def _detection(book: Mapping[str, object]) -> Detection | None:
    title = _text(book.get("title"))
    if title is None:
        return None
    author = _text(book.get("author"))
    if author is not None and author.casefold() in {"unknown", "n/a", "none", "null"}:
        author = None
    return Detection(
        title=title,
        author=author,
        confidence=_confidence(book.get("confidence")),
        box=_box(book.get("box_2d")),
        source="gemini",
        spine_text=_text(book.get("spine_text")),
    )


def parse_answer(reply: GeminiReply) -> ParsedAnswer:
    """The detections in one reply, or `PhotoFailed` (see the module docstring). Pure."""
    if reply.block_reason:
        raise PhotoFailed("model_safety", f"The photo was not analysed: the model blocked it ({reply.block_reason}).")
    if reply.finish_reason in POLICY_FINISH_REASONS:
        raise PhotoFailed(
            "model_safety", f"The model withheld its answer for this photo ({reply.finish_reason.lower()})."
        )
    if reply.candidates == 0:
        raise PhotoFailed("model_empty", "The model gave no answer for this photo.")
    if not reply.text.strip():
        raise PhotoFailed("model_empty", "The model's answer for this photo was empty.")
    try:
        answer = json.loads(reply.text)
    except ValueError as exc:
        cut = " (it was cut off at the output limit)" if reply.finish_reason == "MAX_TOKENS" else ""
        raise PhotoFailed("model_malformed", f"The model's answer for this photo was not valid JSON{cut}.") from exc
    books = answer.get("books") if isinstance(answer, dict) else None
    if not isinstance(books, list):
        raise PhotoFailed("model_malformed", "The model's answer for this photo did not list books.")
    detections: list[Detection] = []
    unusable = 0
    for book in books:
        if not isinstance(book, dict):
            unusable += 1
            continue
        detection = _detection(book)
        if detection is None:
            unusable += 1
        else:
            detections.append(detection)
    if books and not detections and any(not isinstance(b, dict) for b in books):
        raise PhotoFailed("model_malformed", "The model's answer for this photo listed no usable book.")
    notes = (f"{unusable} listed book(s) without a usable title were dropped",) if unusable else ()
    return ParsedAnswer(detections=tuple(detections), notes=notes)


class GeminiEngine:
    """Books on a photo, read by Gemini (`GEMINI_MODEL`)."""

    def __init__(self, *, model: str | None = None) -> None:
        self.model = model or settings.GEMINI_MODEL
        self.name = self.model

    def detect(self, photo: PreparedPhoto) -> EngineReply:
        from google.genai import types

        parts = [types.Part.from_bytes(data=photo.encoded, mime_type=photo.mime_type), SCAN_PROMPT]
        deadline = time.monotonic() + settings.GEMINI_TIMEOUT_SECONDS * (settings.GEMINI_MAX_RETRIES + 1)
        try:
            reply = gemini_generate(
                contents=parts, response_schema=response_schema(), model=self.model, deadline=deadline
            )
        except ProviderTimeout as exc:
            raise PhotoFailed("model_timeout", "The model did not answer in time for this photo.") from exc
        except ProviderUnavailable as exc:
            raise PhotoFailed(
                "model_unavailable", "The model is unavailable right now; try this photo again later."
            ) from exc
        except ProviderError as exc:
            status = (exc.details or {}).get("status")
            if status is None:  # a 200 whose body could not be read
                raise PhotoFailed("model_malformed", "The model's answer for this photo could not be read.") from exc
            raise PhotoFailed("model_rejected", f"The model refused this photo ({status}).") from exc
        parsed = parse_answer(reply)
        return EngineReply(
            detections=parsed.detections,
            model_used=self.model,
            prompt_version=PROMPT_VERSION,
            prompt_tokens=reply.prompt_tokens,
            output_tokens=reply.output_tokens,
            notes=parsed.notes,
        )
