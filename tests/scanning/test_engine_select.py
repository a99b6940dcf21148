"""SCAN_ENGINE: auto (Gemini with a key, else OCR), gemini, ocr (scanning/engines/__init__.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from scanning.engines import select_engine
from scanning.engines.gemini import GeminiEngine
from scanning.engines.ocr import OcrEngine


def test_auto_uses_gemini_when_a_key_is_set(settings):
    settings.SCAN_ENGINE = "auto"
    settings.GEMINI_API_KEY = "k"
    settings.GEMINI_MODEL = "gemini-2.5-pro"
    engine = select_engine()
    assert isinstance(engine, GeminiEngine) and engine.name == "gemini-2.5-pro"


def test_auto_without_a_key_falls_back_to_ocr(settings):
    settings.SCAN_ENGINE = "auto"
    settings.GEMINI_API_KEY = None
    engine = select_engine()
    assert isinstance(engine, OcrEngine) and engine.name == "ocr-fallback"


def test_ocr_is_used_even_with_a_key(settings):
    settings.SCAN_ENGINE = "OCR"
    settings.GEMINI_API_KEY = "k"
    assert isinstance(select_engine(), OcrEngine)


def test_gemini_without_a_key_is_a_configuration_error(settings):
    settings.SCAN_ENGINE = "gemini"
    settings.GEMINI_API_KEY = None
    with pytest.raises(ImproperlyConfigured, match="GEMINI_API_KEY"):
        select_engine()


def test_unknown_engine_is_a_configuration_error(settings):
    settings.SCAN_ENGINE = "tesseract"
    with pytest.raises(ImproperlyConfigured, match="auto, gemini, ocr"):
        select_engine()
