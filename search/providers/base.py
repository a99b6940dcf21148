"""The provider base class and the pure helpers every normalizer shares.

A provider = a transport (the shared `upstream_client`, with the outbound budget as its
`before_request` hook) + pure `normalize_*` functions (raw JSON -> DTOs). No database writes here.
The registry (`search.providers.REGISTRY`) is data: a tuple of instances, in merge priority order.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings

from booktrack.core.exceptions import ProviderUnavailable
from booktrack.core.http import UpstreamClient, upstream_client
from search.dto import DEFAULT_FORMAT, AuthorDTO, EditionDTO, ProviderPage, SearchHit, WorkDTO, clean_text

# --- pure helpers ---------------------------------------------------------------------------

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
        year = int(raw)
        return f"{year:04d}" if 0 < year < 3000 else None
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
LANGUAGE_639_2_TO_1: dict[str, str] = {
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


def format_or_default(raw: Any) -> str:
    return normalize_format(raw) or DEFAULT_FORMAT


# Trailing name parts that follow a comma without being a given name ("King, Martin Luther, Jr.").
NAME_SUFFIXES = frozenset(
    {"jr", "sr", "ii", "iii", "iv", "v", "phd", "md", "esq", "obe", "cbe", "kbe", "dbe", "ltd", "inc", "llc"}
)


def _is_name_suffix(part: str) -> bool:
    return part.replace(".", "").replace(" ", "").casefold() in NAME_SUFFIXES


def _uninvert(name: str) -> str:
    """'Herbert, Frank' -> 'Frank Herbert'; 'King, Martin Luther, Jr.' -> 'Martin Luther King Jr.'.

    Only the library-catalogue form (surname, given names[, suffix]) is turned around; a name whose
    part after the comma is a suffix ("Martin Luther King, Jr.") or with more commas is left as it is.
    """
    parts = [p.strip() for p in name.split(",")]
    if any(not p for p in parts):
        return name
    suffix = parts.pop() if len(parts) == 3 and _is_name_suffix(parts[-1]) else None
    if len(parts) != 2 or _is_name_suffix(parts[1]) or len(parts[0].split()) > 3 or len(parts[1].split()) > 4:
        return name
    return " ".join(p for p in (parts[1], parts[0], suffix) if p)


def clean_author_name(raw: Any) -> str | None:
    """An author name without ISBNdb's `~autofilled~` marker and stray punctuation, in display order
    (catalogue-style "Last, First" becomes "First Last")."""
    name = clean_text(raw)
    if not name:
        return None
    name = re.sub(r"~[a-z]+~", "", name, flags=re.IGNORECASE)
    name = clean_text(name.strip(" ,;"))
    return clean_text(_uninvert(name)) if name and "," in name else name


def author_fold_key(name: str | None) -> str:
    """Comparison key for "the same author": casefold + NFKD, punctuation dropped, words sorted, so
    "Frank Herbert", "Herbert, Frank" and "FRANK HERBERT" are one author."""
    decomposed = unicodedata.normalize("NFKD", (name or "").casefold())
    letters = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(sorted(letters.split()))


def dedupe_authors(authors: Iterable[AuthorDTO]) -> tuple[AuthorDTO, ...]:
    """Authors in order, the first of each `author_fold_key` kept."""
    seen: set[str] = set()
    out: list[AuthorDTO] = []
    for author in authors:
        key = author_fold_key(author.name)
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


def parse_iso(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw))
    except (TypeError, ValueError):
        return None


# --- the base class ---------------------------------------------------------------------------


class Provider:
    """One upstream. Subclasses set the class attributes and implement the operations they support.

    Operations return `ProviderPage`s (normalized). They raise `DomainError`s from the transport
    (timeouts, 5xx, garbage); the fan-out turns those into a degraded answer.
    """

    name: ClassVar[str]  # contract provider name: google-books | openlibrary | isbndb
    v3_name: ClassVar[str]  # v3 Book.provider: google_books | open_library | isbndb
    base_url_setting: ClassVar[str]
    key_setting: ClassVar[str | None] = None  # a provider that needs a key and has none is disabled
    priority: ClassVar[int] = 100  # lower = preferred source for a field when values tie
    batch_size: ClassVar[int] = 0  # ISBNs per `search_isbns` call (0: no batch endpoint)

    def enabled(self) -> bool:
        return not self.key_setting or bool(getattr(settings, self.key_setting, None))

    def api_key(self) -> str | None:
        return getattr(settings, self.key_setting, None) if self.key_setting else None

    def client(self) -> UpstreamClient:
        from search.budgets import budget_before_request

        client = upstream_client(
            self.name, base_url=getattr(settings, self.base_url_setting), before_request=budget_before_request
        )
        if client.before_request is None:  # created elsewhere first: budgets still apply
            client.before_request = budget_before_request
        return client

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET through the shared client; an upstream 429's Retry-After pauses this provider everywhere."""
        return self._json(lambda: self.client().get_json(path, **kwargs))

    def post_json(self, path: str, *, json_body: Any, **kwargs: Any) -> Any:
        """POST a JSON body (a read that takes many keys, e.g. ISBNdb `POST /books`); answers as `get_json`."""
        return self._json(lambda: self.client().request_json("POST", path, json_body=json_body, **kwargs))

    def _json(self, send: Callable[[], Any]) -> Any:
        from search.budgets import BudgetExhausted, budget_cooldown

        try:
            return send()
        except BudgetExhausted:
            raise
        except ProviderUnavailable as exc:
            retry_after = (exc.details or {}).get("retryAfter")
            if isinstance(retry_after, int | float) and retry_after > 0:
                budget_cooldown(upstream=self.name, seconds=retry_after)
            raise

    def supports(self, operation: str) -> bool:
        """Whether this provider overrides `operation` (e.g. "search_isbn")."""
        return getattr(type(self), operation, None) is not getattr(Provider, operation, None)

    # Operations (override what the upstream can do).
    def search_isbn(self, *, isbn13: str, deadline: float | None) -> ProviderPage:
        raise NotImplementedError

    def search_isbns(self, *, isbns13: Sequence[str], deadline: float | None) -> ProviderPage:
        """Many ISBNs in ONE upstream call (at most `batch_size`); only upstreams with a batch endpoint."""
        raise NotImplementedError

    def search_title(self, *, query: str, limit: int, offset: int, deadline: float | None) -> ProviderPage:
        raise NotImplementedError

    def search_advanced(
        self, *, title: str | None, author: str | None, limit: int, deadline: float | None
    ) -> ProviderPage:
        raise NotImplementedError
