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

# The longest text that can still be an ISBN: "ISBN-13: 978-0-306-40615-7" is 26 characters, plus room
# for stray spaces. Longer text is refused at the edge (400, not echoed) and never becomes a memo key:
# the memos below are keyed by client text, so their keys stay this short (issue 13).
ISBN_TEXT_MAX = 32
_CODE_LENGTHS = (10, 13)


def isbn_clean(raw: object) -> str:
    """Drop hyphens, spaces and a leading `ISBN` label; upper-case the `X` check digit.

    Anything (an upstream may send a number, or garbage); only the text form is memoized."""
    if not raw:
        return ""
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) > ISBN_TEXT_MAX:
        return _clean.__wrapped__(text)  # not memoized: no key longer than an ISBN can be
    return _clean(text)


@lru_cache(maxsize=16384)
def _clean(text: str) -> str:
    text = re.sub(r"^isbn(?:-1[03])?:?\s*", "", text.strip(), flags=re.IGNORECASE)
    return _SEPARATORS.sub("", text).upper()


def isbn_is_valid(raw: object) -> bool:
    code = isbn_clean(raw)
    return len(code) in _CODE_LENGTHS and _valid(code)


@lru_cache(maxsize=16384)
def _valid(code: str) -> bool:
    if len(code) == 10:
        return bool(isbnlib.is_isbn10(code))
    if len(code) == 13:
        return bool(isbnlib.is_isbn13(code))
    return False


def isbn_to_13(raw: object) -> str | None:
    """The ISBN-13 of a valid ISBN-10 or 13, else None."""
    code = isbn_clean(raw)
    return _to_13(code) if len(code) in _CODE_LENGTHS else None


@lru_cache(maxsize=16384)
def _to_13(code: str) -> str | None:
    if not _valid(code):
        return None
    return code if len(code) == 13 else isbnlib.to_isbn13(code) or None


def isbn_to_10(raw: object) -> str | None:
    """The ISBN-10 of a valid ISBN (None for 979- ISBNs, which have none)."""
    code = isbn_clean(raw)
    return _to_10(code) if len(code) in _CODE_LENGTHS else None


@lru_cache(maxsize=16384)
def _to_10(code: str) -> str | None:
    if not _valid(code) or (len(code) == 13 and not code.startswith("978")):
        return None
    return code if len(code) == 10 else isbnlib.to_isbn10(code) or None


def isbn_normalize(raw: str | None) -> str:
    """The ISBN-13 for a request parameter; raises InvalidIsbn (400) when malformed or checksum-wrong."""
    if raw is not None and len(raw) > ISBN_TEXT_MAX:
        raise isbn_too_long()
    code = isbn_clean(raw)
    if not code:
        raise InvalidIsbn("An ISBN is required.", details={"isbn": raw or ""})
    isbn13 = isbn_to_13(code)
    if isbn13 is None:
        raise InvalidIsbn(f"'{raw}' is not a valid ISBN-10 or ISBN-13 (format or checksum).", details={"isbn": raw})
    return isbn13


def isbn_too_long(*, index: int | None = None) -> InvalidIsbn:
    """The 400 for text longer than any ISBN; the text is not echoed (it may be megabytes)."""
    where = "" if index is None else f" (isbns[{index}])"
    details: dict[str, object] = {"maxLength": ISBN_TEXT_MAX}
    if index is not None:
        details["index"] = index
    return InvalidIsbn(f"An ISBN is at most {ISBN_TEXT_MAX} characters long{where}.", details=details)


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
