"""ISBN rules (isbnlib): cleaning, checksum validation, ISBN-10 <-> ISBN-13.

Pure functions, memoized (a hot ISBN is checked once, not per request); `isbn_normalize` is the edge
check used by views and services (raises InvalidIsbn).
"""

from __future__ import annotations

import re
from functools import lru_cache

import isbnlib

from booktrack.core.exceptions import InvalidIsbn

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.]+")


def isbn_clean(raw: object) -> str:
    """Drop hyphens, spaces and a leading `ISBN` label; upper-case the `X` check digit.

    Anything (an upstream may send a number, or garbage); only the text form is memoized."""
    if not raw:
        return ""
    return _clean(raw if isinstance(raw, str) else str(raw))


@lru_cache(maxsize=16384)
def _clean(text: str) -> str:
    text = re.sub(r"^isbn(?:-1[03])?:?\s*", "", text.strip(), flags=re.IGNORECASE)
    return _SEPARATORS.sub("", text).upper()


def isbn_is_valid(raw: object) -> bool:
    return _valid(isbn_clean(raw))


@lru_cache(maxsize=16384)
def _valid(code: str) -> bool:
    if len(code) == 10:
        return bool(isbnlib.is_isbn10(code))
    if len(code) == 13:
        return bool(isbnlib.is_isbn13(code))
    return False


def isbn_to_13(raw: object) -> str | None:
    """The ISBN-13 of a valid ISBN-10 or 13, else None."""
    return _to_13(isbn_clean(raw))


@lru_cache(maxsize=16384)
def _to_13(code: str) -> str | None:
    if not _valid(code):
        return None
    return code if len(code) == 13 else isbnlib.to_isbn13(code) or None


def isbn_to_10(raw: object) -> str | None:
    """The ISBN-10 of a valid ISBN (None for 979- ISBNs, which have none)."""
    return _to_10(isbn_clean(raw))


@lru_cache(maxsize=16384)
def _to_10(code: str) -> str | None:
    if not _valid(code) or (len(code) == 13 and not code.startswith("978")):
        return None
    return code if len(code) == 10 else isbnlib.to_isbn10(code) or None


def isbn_normalize(raw: str | None) -> str:
    """The ISBN-13 for a request parameter; raises InvalidIsbn (400) when malformed or checksum-wrong."""
    code = isbn_clean(raw)
    if not code:
        raise InvalidIsbn("An ISBN is required.", details={"isbn": raw or ""})
    isbn13 = isbn_to_13(code)
    if isbn13 is None:
        raise InvalidIsbn(f"'{raw}' is not a valid ISBN-10 or ISBN-13 (format or checksum).", details={"isbn": raw})
    return isbn13


def isbn_variants(isbn13: str) -> tuple[str, ...]:
    """The ISBN-13 and, when one exists, its ISBN-10."""
    isbn10 = isbn_to_10(isbn13)
    return (isbn13, isbn10) if isbn10 else (isbn13,)


def isbns_collect(values: list[str] | tuple[str, ...] | None) -> tuple[tuple[str, ...], str | None]:
    """(all valid ISBNs as given, cleaned and deduped, ISBN-13 first; the primary ISBN-13 or None)."""
    out: list[str] = []
    primary: str | None = None
    for value in values or ():
        code = isbn_clean(value)
        if not isbn_is_valid(code):
            continue
        isbn13 = isbn_to_13(code)
        if primary is None and isbn13:
            primary = isbn13
        for candidate in (isbn13, code):
            if candidate and candidate not in out:
                out.append(candidate)
    out.sort(key=lambda c: (len(c) != 13,))
    return tuple(out), primary
