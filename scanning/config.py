"""The photo-intake settings (`SCAN_*`, booktrack/settings/base.py), read at call time.

The intake modules (images, quality, barcodes) stay free of Django: they ask this module for a value
and get the built-in default when Django is not configured (a script, a benchmark, a pure test).
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", int, float)


def scan_setting(name: str, default: T) -> T:
    """The setting `name` as the default's type; the default when unset or Django is not configured."""
    try:
        from django.conf import settings  # type: ignore[import-untyped]  # Django ships no types
    except ImportError:  # pragma: no cover - Django is a runtime dependency
        return default
    if not settings.configured:
        return default
    value = getattr(settings, name, None)
    if value is None:
        return default
    return type(default)(value)
