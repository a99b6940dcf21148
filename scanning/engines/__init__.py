"""The detection engines and the choice between them (`SCAN_ENGINE`).

- `auto` (the default): Gemini when `GEMINI_API_KEY` is set, else the offline OCR engine, so the
  feature works with no cloud key;
- `gemini`: always Gemini (a missing key is a configuration error, said at once);
- `ocr`: always the offline OCR engine (`modelUsed: "ocr-fallback"`).

Engines are imported lazily: a process that never scans never loads google-genai's types or the
OCR model.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from scanning.dto import Engine

ENGINE_CHOICES = ("auto", "gemini", "ocr")


def engine_name() -> str:
    """Which engine `select_engine` gives for the current settings: "gemini" or "ocr"."""
    choice = (settings.SCAN_ENGINE or "auto").strip().lower()
    if choice not in ENGINE_CHOICES:
        raise ImproperlyConfigured(f"SCAN_ENGINE must be one of {', '.join(ENGINE_CHOICES)}, not {choice!r}.")
    if choice == "auto":
        return "gemini" if settings.GEMINI_API_KEY else "ocr"
    if choice == "gemini" and not settings.GEMINI_API_KEY:
        raise ImproperlyConfigured("SCAN_ENGINE=gemini needs GEMINI_API_KEY; unset SCAN_ENGINE to fall back to OCR.")
    return choice


def select_engine() -> Engine:
    """The engine for the current settings (see the module docstring)."""
    if engine_name() == "gemini":
        from scanning.engines.gemini import GeminiEngine

        return GeminiEngine()
    from scanning.engines.ocr import OcrEngine

    return OcrEngine()
