"""Pure normalization shared by the provider modules: raw upstream values -> DTO fields.

Dates, languages, formats, cover URLs, descriptions, author names, subjects, page counts, the data
quality score and provenance. No Django, no network: merge and ranking import this module, never the
`Provider` class (`search.providers.base`). ISBN lists are `search.isbn.isbns_collect`; name and title
keys are `search.text`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from search.dto import AuthorDTO, EditionDTO, SearchHit, WorkDTO, clean_text
from search.text import name_key, uninvert_name

_TAG = re.compile(r"<[^>]+>")
_BLOCK_TAG = re.compile(r"<\s*(br|/p|/div|/li|p|li)\b[^>]*>", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_WS = re.compile(r"[ \t\u00a0]+")
_NL = re.compile(r"\s*\n\s*(\n\s*)*")
# C1 control characters that some upstreams (Google Books) leak from Windows-1252 mojibake.
_C1 = {0x91: "'", 0x92: "'", 0x93: '"', 0x94: '"', 0x96: "–", 0x97: "—", 0x85: "…"}


def clean_description(raw: Any) -> str | None:
    """Plain text from an upstream description: HTML tags/entities, Markdown links, C1 mojibake.

    Accepts a string or OpenLibrary's `{type: "/type/text", value}` object.
    """
    if isinstance(raw, Mapping):
        raw = raw.get("value")
    if not isinstance(raw, str):
        return None
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _BLOCK_TAG.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _MD_LINK.sub(r"\1", text)
    text = "".join(_C1.get(ord(ch), ch) if 0x80 <= ord(ch) <= 0x9F else ch for ch in text)
    text = "".join(ch for ch in text if ch in "\n" or ord(ch) >= 0x20)
    text = _WS.sub(" ", text)
    text = _NL.sub("\n", text).strip()
    return text or None


_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}


def normalize_date(raw: Any) -> str | None:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` from ints, ISO dates/timestamps and `October 1, 1988`."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        number = int(raw)
        return f"{number:04d}" if 0 < number < 3000 else None
    text = str(raw).strip()
    if not text:
        return None
    m = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?(?:[T ].*)?$", text)
    if m:
        year, month, day = m.groups()
        if month and not 1 <= int(month) <= 12:
            return year
        if day and not 1 <= int(day) <= 31:
            return f"{year}-{int(month):02d}"
        if day:
            return f"{year}-{int(month):02d}-{int(day):02d}"
        if month:
            return f"{year}-{int(month):02d}"
        return year
    m = re.match(r"^([A-Za-z]{3})[a-z]*\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$", text)
    if m and m.group(1).lower() in _MONTHS:
        month = _MONTHS[m.group(1).lower()]
        if m.group(2):
            return f"{m.group(3)}-{month:02d}-{int(m.group(2)):02d}"
        return f"{m.group(3)}-{month:02d}"
    m = re.search(r"\b(1[0-9]{3}|20[0-9]{2})\b", text)
    return m.group(1) if m else None


def year_of(raw: Any) -> int | None:
    date = normalize_date(raw)
    return int(date[:4]) if date else None


def https_url(raw: Any) -> str | None:
    """Cover URLs always https (also fixes ISBNdb's `Https://`)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    url = raw.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "https://" + url.lstrip("/") if url.startswith("//") else None
    if scheme.lower() in ("http", "https"):
        return "https://" + rest
    return None


# ISO 639-2 (bibliographic and terminology) -> ISO 639-1, for the languages OpenLibrary/ISBNdb use.
LANGUAGE_639_2_TO_1: dict[str, str | None] = {
    "eng": "en",
    "spa": "es",
    "fre": "fr",
    "fra": "fr",
    "ger": "de",
    "deu": "de",
    "ita": "it",
    "por": "pt",
    "dut": "nl",
    "nld": "nl",
    "rus": "ru",
    "jpn": "ja",
    "chi": "zh",
    "zho": "zh",
    "kor": "ko",
    "ara": "ar",
    "heb": "he",
    "hin": "hi",
    "pol": "pl",
    "swe": "sv",
    "nor": "no",
    "nob": "nb",
    "nno": "nn",
    "dan": "da",
    "fin": "fi",
    "ice": "is",
    "isl": "is",
    "gre": "el",
    "ell": "el",
    "tur": "tr",
    "cze": "cs",
    "ces": "cs",
    "slo": "sk",
    "slk": "sk",
    "hun": "hu",
    "rum": "ro",
    "ron": "ro",
    "bul": "bg",
    "ukr": "uk",
    "srp": "sr",
    "hrv": "hr",
    "slv": "sl",
    "cat": "ca",
    "baq": "eu",
    "eus": "eu",
    "glg": "gl",
    "wel": "cy",
    "cym": "cy",
    "gle": "ga",
    "lat": "la",
    "per": "fa",
    "fas": "fa",
    "urd": "ur",
    "ben": "bn",
    "tam": "ta",
    "tel": "te",
    "mar": "mr",
    "tha": "th",
    "vie": "vi",
    "ind": "id",
    "may": "ms",
    "msa": "ms",
    "tgl": "tl",
    "swa": "sw",
    "afr": "af",
    "alb": "sq",
    "sqi": "sq",
    "arm": "hy",
    "hye": "hy",
    "geo": "ka",
    "kat": "ka",
    "lit": "lt",
    "lav": "lv",
    "est": "et",
    "mac": "mk",
    "mkd": "mk",
    "bel": "be",
    "epo": "eo",
    "yid": "yi",
    "amh": "am",
    "nep": "ne",
    "pan": "pa",
    "guj": "gu",
    "kan": "kn",
    "mal": "ml",
    "sin": "si",
    "khm": "km",
    "lao": "lo",
    "bur": "my",
    "mya": "my",
    "mon": "mn",
    "tib": "bo",
    "bod": "bo",
    "kaz": "kk",
    "uzb": "uz",
    "aze": "az",
    "som": "so",
    "hau": "ha",
    "yor": "yo",
    "ibo": "ig",
    "zul": "zu",
    "xho": "xh",
    "mao": "mi",
    "mri": "mi",
    "haw": None,
}


def normalize_language(raw: Any) -> str | None:
    """ISO 639-1 where derivable: `eng`, `/languages/eng`, `en`, `en-GB`, `en_US` -> `en`."""
    if isinstance(raw, Mapping):
        raw = raw.get("key")
    if not isinstance(raw, str):
        return None
    code = raw.strip().lower().rsplit("/", 1)[-1]
    code = re.split(r"[-_]", code)[0]
    if len(code) == 2 and code.isalpha():
        return code
    if len(code) == 3:
        return LANGUAGE_639_2_TO_1.get(code)
    return None


_FORMAT_RULES: tuple[tuple[str, str], ...] = (
    ("audio", "Audiobook"),
    ("mp3", "Audiobook"),
    ("cd", "Audiobook"),
    ("cassette", "Audiobook"),
    ("kindle", "E-book"),
    ("ebook", "E-book"),
    ("e-book", "E-book"),
    ("electronic", "E-book"),
    ("digital", "E-book"),
    ("epub", "E-book"),
    ("pdf", "E-book"),
    ("mass market", "Mass Market"),
    ("mass-market", "Mass Market"),
    ("pocket", "Mass Market"),
    ("hardcover", "Hardcover"),
    ("hardback", "Hardcover"),
    ("hard cover", "Hardcover"),
    ("library binding", "Hardcover"),
    ("board book", "Hardcover"),
    ("leather", "Hardcover"),
    ("cloth", "Hardcover"),
    ("paperback", "Paperback"),
    ("softcover", "Paperback"),
    ("trade paper", "Paperback"),
    ("perfect", "Paperback"),
)


def normalize_format(raw: Any) -> str | None:
    """The format enum for an upstream binding string; None when it says nothing (caller defaults)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.casefold()
    for needle, value in _FORMAT_RULES:
        if needle in text:
            return value
    return None


def clean_author_name(raw: Any) -> str | None:
    """An author name without ISBNdb's `~autofilled~` marker and stray punctuation, in display order
    (catalogue-style "Last, First" becomes "First Last")."""
    name = clean_text(raw)
    if not name:
        return None
    name = re.sub(r"~[a-z]+~", "", name, flags=re.IGNORECASE)
    name = clean_text(name.strip(" ,;"))
    return clean_text(uninvert_name(name)) if name and "," in name else name


def dedupe_authors(authors: Iterable[AuthorDTO]) -> tuple[AuthorDTO, ...]:
    """Authors in order, the first of each `name_key` kept ("Herbert, Frank" is "Frank Herbert")."""
    seen: set[str] = set()
    out: list[AuthorDTO] = []
    for author in authors:
        key = name_key(author.name)
        if key in seen:
            continue
        seen.add(key)
        out.append(author)
    return tuple(out)


def clean_subjects(values: Any, *, limit: int = 20) -> tuple[str, ...]:
    """Provider categories cleaned minimally (trimmed, de-duplicated case-insensitively).

    Genre normalization is enrichment's job (`enrichment.genres.normalize_genres`), applied later;
    search must not import enrichment.
    """
    out: dict[str, str] = {}
    for value in values or ():
        if isinstance(value, Mapping):
            value = value.get("name")
        text = clean_text(value)
        if not text or text.isdigit() or len(text) > 80:
            continue
        out.setdefault(text.casefold(), text)
        if len(out) >= limit:
            break
    return tuple(out.values())


def positive_int(raw: Any) -> int | None:
    """Page counts: ints >= 1 only (0 means unknown upstream)."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        if isinstance(raw, str):
            m = re.search(r"\d+", raw)
            return positive_int(m.group(0)) if m else None
        return None
    return value if value >= 1 else None


def data_quality(hit: SearchHit) -> int:
    """0-100: how complete a hit is (ISBN, cover, description weigh most)."""
    score = 0
    if hit.edition.isbn:
        score += 30
    if hit.work.cover_image_url or hit.edition.cover_image_url:
        score += 25
    if hit.work.description:
        score += 20
    if hit.edition.page_count:
        score += 8
    if hit.edition.publisher:
        score += 5
    if hit.edition.publication_date or hit.work.first_publication_year:
        score += 5
    if hit.authors:
        score += 5
    if hit.work.subject_tags:
        score += 2
    return min(score, 100)


def hit_with_quality(work: WorkDTO, edition: EditionDTO, authors: tuple[AuthorDTO, ...]) -> SearchHit:
    """The hit with `isbndbQuality` filled on work and edition from its completeness."""
    hit = SearchHit(work=work, edition=edition, authors=authors)
    quality = data_quality(hit)
    return SearchHit(
        work=replace(work, isbndb_quality=quality),
        edition=replace(edition, isbndb_quality=quality),
        authors=authors,
    )


def provenance_of(provider: str, values: Mapping[str, Any]) -> dict[str, str]:
    """field -> provider for every field that has a value."""
    return {name: provider for name, value in values.items() if value not in (None, (), [], "", {})}
