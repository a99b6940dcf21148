"""Pure cell parsers shared by every importer: ISBNs (and the ids found in ISBN columns), ratings,
reading status, dates and re-reads, years, page counts, shelves, formats, author names.

Spreadsheet damage handled here: Excel's ``="0123456789"`` text guard, ISBN-10s that lost their
leading zeros, ISBNs turned into scientific notation (``9.78014E+12``: digits are gone, so it is
reported, never guessed), ASINs and other ids in an ISBN column (kept as ids, never as ISBNs), and
12-digit or mismatched ISBN pairs (the one whose check digit holds wins; the ISBN-13 wins a tie).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from enrichment.importers.dto import ReadingSpan, ReadingStatus
from search.isbn import isbn_clean, isbn_is_valid, isbn_to_10, isbn_to_13

_EXCEL_TEXT = re.compile(r'^=\s*"(.*)"$', re.DOTALL)
_SCIENTIFIC = re.compile(r"^(\d+)(?:[.,](\d+))?E\+?(\d+)$", re.IGNORECASE)
_ASIN = re.compile(r"^B[0-9A-Z]{9}$")
_ISBNISH = re.compile(r"^\d{7,13}X?$")
_LIST_SEPARATORS = re.compile(r"\s*[,;|]\s*")
_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_INT = re.compile(r"\d+")


def unwrap(cell: str | None) -> str:
    """A cell's text: trimmed, without Excel's ``="..."`` guard or LibraryThing's ``[...]``."""
    if not cell:
        return ""
    text = cell.strip()
    if match := _EXCEL_TEXT.match(text):
        text = match.group(1).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
    return text


# --- ISBNs and ids ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IsbnPick:
    """The ISBNs read from a row's ISBN cells, the ids that were there instead, and what was dropped."""

    isbn10: str | None = None
    isbn13: str | None = None
    asin: str | None = None
    other_ids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def isbns_pick(cells: Iterable[str | None]) -> IsbnPick:
    """Read every ISBN-ish token from the given cells (in preference order) and choose one edition.

    A cell may hold a list (LibraryThing's "ISBNs": ``2070291340, 9782070291342``)."""
    valid: list[str] = []
    asin: str | None = None
    others: list[str] = []
    rejected: list[str] = []
    for cell in cells:
        text = unwrap(cell)
        if not text:
            continue
        for token in _LIST_SEPARATORS.split(text):
            kind, value = isbn_token(token)
            if kind == "isbn":
                valid.append(value)
            elif kind == "asin":
                asin = asin or value
            elif kind == "id":
                others.append(value)
            elif kind == "invalid":
                rejected.append(value)
    thirteens = [code for code in valid if len(code) == 13]
    tens = [code for code in valid if len(code) == 10]
    isbn13 = thirteens[0] if thirteens else (isbn_to_13(tens[0]) if tens else None)
    # An ISBN-10 names the same edition as a 978 ISBN-13 when their 9 body digits agree (no
    # conversion needed: this runs for every row of a 20,000-row file).
    same = [ten for ten in tens if isbn13 and isbn13.startswith("978") and ten[:9] == isbn13[3:12]]
    different = [code for code in thirteens if code != isbn13] + [ten for ten in tens if ten not in same]
    warnings = []
    if isbn13 and different and isbn_to_13(different[0]) != isbn13:
        warnings.append(f"ISBNs {different[0]} and {isbn13} name different editions; kept {isbn13}.")
    if not isbn13 and rejected:
        warnings.extend(rejected)
    return IsbnPick(
        isbn10=same[0] if same else (isbn_to_10(isbn13) if isbn13 else None),
        isbn13=isbn13,
        asin=asin,
        other_ids=tuple(dict.fromkeys(others)),
        warnings=tuple(warnings),
    )


def isbn_token(token: str) -> tuple[str, str]:
    """Classify one token: ("isbn", code) | ("asin", id) | ("id", id) | ("invalid", why) | ("", "")."""
    text = unwrap(token).strip("'\"")
    if not text:
        return "", ""
    if match := _SCIENTIFIC.match(text.replace(" ", "")):
        return _isbn_from_scientific(text, match)
    code = isbn_clean(text)
    if _ASIN.match(code) and not isbn_is_valid(code):
        return "asin", code
    if not _ISBNISH.match(code):
        return ("id", text) if re.fullmatch(r"[\w:./-]{3,64}", text) else ("invalid", f"'{text}' is not an ISBN.")
    if isbn_is_valid(code):
        return "isbn", code
    if len(code) < 10:
        padded = code.zfill(10)  # a spreadsheet read the ISBN-10 as a number and dropped its zeros
        if isbn_is_valid(padded):
            return "isbn", padded
        return "invalid", f"'{text}' is not an ISBN (too short, and no leading zeros make it valid)."
    if len(code) == 12:
        return "invalid", f"'{text}' has 12 digits: not an ISBN-10 or ISBN-13."
    return "invalid", f"'{text}' fails the ISBN check digit."


def _isbn_from_scientific(text: str, match: re.Match[str]) -> tuple[str, str]:
    whole, fraction, exponent = match.group(1), match.group(2) or "", int(match.group(3))
    digits = (whole + fraction).lstrip("0")
    try:
        value = Decimal(f"{whole}.{fraction or 0}E{exponent}")
    except InvalidOperation:
        return "invalid", f"'{text}' is not an ISBN."
    integral = format(value, "f").split(".")[0]
    # Exact only when the mantissa kept every digit: 9.780316556347E+12 is; 9.78032E+12 is not.
    if len(digits) >= len(integral.rstrip("0")) and len(digits) >= len(integral) - 1 and value == int(value):
        code = integral.zfill(10) if len(integral) < 10 else integral
        if isbn_is_valid(code):
            return "isbn", code
    return (
        "invalid",
        f"'{text}' is an ISBN a spreadsheet turned into a number in scientific notation; its last digits "
        "are lost. Export the ISBN column as text.",
    )


# --- ratings, status, dates --------------------------------------------------------------------


def rating_parse(cell: str | None, *, scale: float = 5.0) -> float | None:
    """The reader's rating on a 0.5-5 scale; 0 or blank means "not rated" (Goodreads writes 0)."""
    text = unwrap(cell).replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        stars = text.count("★") + 0.5 * text.count("½")
        value = stars if stars else 0.0
    if scale != 5.0:
        value = value * 5.0 / scale
    if not 0 < value <= 5:
        return None
    return round(value * 2) / 2


# Each source's own words for the reading states (lower-cased, spaces and underscores as hyphens).
STATUS_WORDS: dict[str, ReadingStatus] = {
    # read
    "read": "read",
    "finished": "read",
    "already-read": "read",
    "completed": "read",
    "read-but-unowned": "read",
    "lu": "read",
    "leído": "read",
    "gelesen": "read",
    # currently reading
    "currently-reading": "currently-reading",
    "reading": "currently-reading",
    "in-progress": "currently-reading",
    "started": "currently-reading",
    "en-cours": "currently-reading",
    "leyendo": "currently-reading",
    # to read
    "to-read": "to-read",
    "want-to-read": "to-read",
    "planned": "to-read",
    "tbr": "to-read",
    "wishlist": "to-read",
    "à-lire": "to-read",
    "por-leer": "to-read",
    # did not finish
    "dnf": "dnf",
    "did-not-finish": "dnf",
    "stopped-reading": "dnf",
    "stopped": "dnf",
    "abandoned": "dnf",
    "unfinished": "dnf",
    "dropped": "dnf",
}


def status_key(word: str) -> str:
    return re.sub(r"[\s_]+", "-", unwrap(word).lower())


def status_parse(cell: str | None, *, words: dict[str, ReadingStatus] | None = None) -> ReadingStatus | None:
    key = status_key(cell or "")
    if not key:
        return None
    return (words or {}).get(key) or STATUS_WORDS.get(key)


def date_parse(cell: str | None) -> date | None:
    """The first Y-M-D date in a cell (``2020/10/25``, ``2019-03-05T01:00:00+01:00``, ``[2007-05-08]``)."""
    match = _DATE.search(cell or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def dates_all(cell: str | None) -> list[date]:
    out = []
    for match in _DATE.finditer(cell or ""):
        try:
            out.append(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
        except ValueError:
            continue
    return out


def spans_parse(cell: str | None) -> tuple[ReadingSpan, ...]:
    """Readings from a "dates read" cell: ``2025/04/19-2025/04/21, 2021/05/03`` -> two spans.

    A segment with two dates is started-finished; with one, finished."""
    spans = []
    for segment in re.split(r"\s*[,;]\s*", cell or ""):
        found = dates_all(segment)
        if len(found) >= 2:
            spans.append(ReadingSpan(started=found[0], finished=found[-1]))
        elif found:
            spans.append(ReadingSpan(finished=found[0]))
    return tuple(spans)


def year_parse(cell: str | None) -> int | None:
    """A plausible publication year anywhere in the cell (``1979``, ``Gallimard (1979)``, ISO dates)."""
    for match in _YEAR.finditer(unwrap(cell)):
        year = int(match.group(1))
        if 1000 <= year <= 2100:
            return year
    return None


def int_parse(cell: str | None) -> int | None:
    """The first whole number in the cell (``590 p.``); 0 counts as unknown."""
    match = _INT.search(unwrap(cell))
    value = int(match.group(0)) if match else 0
    return value or None


def list_split(cell: str | None, separator: str = ",") -> tuple[str, ...]:
    items = (item.strip() for item in (cell or "").split(separator))
    return tuple(dict.fromkeys(item for item in items if item))


_FORMATS = (
    ("audio", "audiobook"),
    ("mp3", "audiobook"),
    ("kindle", "ebook"),
    ("ebook", "ebook"),
    ("e-book", "ebook"),
    ("digital", "ebook"),
    ("epub", "ebook"),
    ("pdf", "ebook"),
    ("hardcover", "hardcover"),
    ("hardback", "hardcover"),
    ("relié", "hardcover"),
    ("gebunden", "hardcover"),
    ("paperback", "paperback"),
    ("softcover", "paperback"),
    ("poche", "paperback"),
    ("broché", "paperback"),
    ("taschenbuch", "paperback"),
)


def format_parse(cell: str | None) -> str | None:
    """``hardcover | paperback | ebook | audiobook``, else the source's word, lower-cased."""
    text = unwrap(cell).lower()
    if not text:
        return None
    return next((name for word, name in _FORMATS if word in text), text)


def name_unflip(name: str) -> str:
    """``Cortazar, Julio`` -> ``Julio Cortazar``; a name without exactly one comma is kept."""
    parts = [part.strip() for part in name.split(",")]
    # "Little, Brown and Company" is not a flipped name: every given-name word is capitalised.
    if len(parts) == 2 and all(parts) and all(word[:1].isupper() for word in parts[1].split()):
        return f"{parts[1]} {parts[0]}"
    return name.strip()


def authors_split(cell: str | None, separator: str = ",") -> tuple[str, ...]:
    return list_split(cell, separator)
