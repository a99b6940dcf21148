"""Query validation at the edge: request parameters -> frozen dataclasses, or a contract error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from booktrack.core.exceptions import (
    BatchTooLarge,
    EmptyBatch,
    InvalidQuery,
    InvalidRequest,
    MissingParameter,
)
from search.dto import clean_text
from search.isbn import ISBN_TEXT_MAX, isbn_normalize, isbn_too_long
from search.services import AUTHOR_SORTS

MAX_OFFSET = 10_000


def _int_param(params: Mapping[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidQuery(f"'{name}' must be an integer.", details={name: raw}) from None
    if not low <= value <= high:
        raise InvalidQuery(f"'{name}' must be between {low} and {high}.", details={name: value})
    return value


def _offset(params: Mapping[str, Any], *, limit: int) -> int:
    if params.get("offset") not in (None, ""):
        return _int_param(params, "offset", default=0, low=0, high=MAX_OFFSET)
    if params.get("page") not in (None, ""):
        page = _int_param(params, "page", default=1, low=1, high=1000)
        if (page - 1) * limit > MAX_OFFSET:
            raise InvalidQuery(
                f"'page' reaches past result {MAX_OFFSET} at this 'limit'.", details={"page": page, "limit": limit}
            )
        return (page - 1) * limit
    return 0


@dataclass(frozen=True)
class TitleQuery:
    q: str
    limit: int
    offset: int

    @classmethod
    def parse(cls, params: Mapping[str, Any], *, max_limit: int = 40, default_limit: int = 20) -> TitleQuery:
        q = clean_text(params.get("q")) or clean_text(params.get("title")) or ""
        if not q:
            raise InvalidQuery("The query 'q' must not be empty.")
        limit = _int_param(params, "limit", default=default_limit, low=1, high=max_limit)
        return cls(q=q, limit=limit, offset=_offset(params, limit=limit))


def external_limit(params: Mapping[str, Any], *, max_limit: int = 40, default: int = 20) -> int:
    """`limit` (or its alias `maxResults`) of the /external/* routes, validated like the other routes."""
    name = "limit" if params.get("limit") not in (None, "") else "maxResults"
    return _int_param(params, name, default=default, low=1, high=max_limit)


@dataclass(frozen=True)
class IsbnQuery:
    isbn13: str
    raw: str

    @classmethod
    def parse(cls, params: Mapping[str, Any], *, name: str = "isbn") -> IsbnQuery:
        raw = params.get(name)
        if raw in (None, "") or not str(raw).strip():
            raise MissingParameter(f"The '{name}' parameter is required.", details={"parameter": name})
        return cls(isbn13=isbn_normalize(str(raw)), raw=str(raw))


@dataclass(frozen=True)
class AdvancedQuery:
    title: str | None
    author: str | None
    limit: int

    @classmethod
    def parse(cls, params: Mapping[str, Any], *, max_limit: int = 40) -> AdvancedQuery:
        title = clean_text(params.get("title"))
        author = clean_text(params.get("author"))
        if not title and not author:
            raise InvalidQuery("Give 'title', 'author', or both.")
        return cls(title=title, author=author, limit=_int_param(params, "limit", default=20, low=1, high=max_limit))


def _text_param(params: Mapping[str, Any], *names: str) -> str | None:
    """The first non-blank of `names` (spellings of one parameter). A JSON body may send a number
    ("1984"); any other non-text value is refused rather than silently ignored."""
    for name in names:
        raw = params.get(name)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = str(raw)
        if raw is not None and not isinstance(raw, str):
            raise InvalidQuery(f"'{name}' must be a string.", details={name: raw})
        text = clean_text(raw)
        if text:
            return text
    return None


@dataclass(frozen=True)
class LegacyAdvancedQuery:
    """`/search/advanced` as the apps call it: `title` or `bookTitle`, `author` or `authorName`,
    `maxResults` (or `limit`), from a GET query or a POST JSON body."""

    title: str | None
    author: str | None
    limit: int

    MAX_RESULTS = 40  # Google Books' own maxResults cap, which the legacy body imitates
    DEFAULT_RESULTS = 20

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> LegacyAdvancedQuery:
        title = _text_param(params, "title", "bookTitle")
        author = _text_param(params, "author", "authorName")
        if not title and not author:
            raise InvalidQuery("Give 'title' (or 'bookTitle'), 'author' (or 'authorName'), or both.")
        name = "maxResults" if params.get("maxResults") not in (None, "") else "limit"
        limit = _int_param(params, name, default=cls.DEFAULT_RESULTS, low=1, high=cls.MAX_RESULTS)
        return cls(title=title, author=author, limit=limit)


@dataclass(frozen=True)
class AuthorQuery:
    name: str
    limit: int
    offset: int
    sort_by: str

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> AuthorQuery:
        name = clean_text(params.get("q")) or clean_text(params.get("author"))
        if not name:
            raise MissingParameter("The 'q' parameter is required.", details={"parameter": "q"})
        limit_name = "limit" if params.get("limit") not in (None, "") else "maxResults"
        limit = _int_param(params, limit_name, default=50, low=1, high=100)
        sort_by = clean_text(params.get("sortBy")) or "publicationYear"
        if sort_by not in AUTHOR_SORTS:
            raise InvalidQuery(f"'sortBy' must be one of {', '.join(AUTHOR_SORTS)}.", details={"sortBy": sort_by})
        return cls(name=name, limit=limit, offset=_offset(params, limit=limit), sort_by=sort_by)


@dataclass(frozen=True)
class RequiredText:
    value: str

    @classmethod
    def parse(cls, params: Mapping[str, Any], *names: str) -> RequiredText:
        for name in names:
            value = clean_text(params.get(name))
            if value:
                return cls(value=value)
        raise MissingParameter(f"The '{names[0]}' parameter is required.", details={"parameter": names[0]})


@dataclass(frozen=True)
class EnrichRequest:
    isbns: tuple[str, ...]

    MAX = 50

    @classmethod
    def parse(cls, body: Any) -> EnrichRequest:
        if not isinstance(body, Mapping) or "isbns" not in body:
            raise MissingParameter('The body must be {"isbns": [...]}.', details={"parameter": "isbns"})
        isbns = body["isbns"]
        # bool is an int in Python; `true` is not an ISBN.
        if not isinstance(isbns, list) or not all(isinstance(i, str | int) and not isinstance(i, bool) for i in isbns):
            raise InvalidRequest("'isbns' must be a list of strings.")
        if not isbns:
            raise EmptyBatch("'isbns' must contain at least one ISBN.")
        if len(isbns) > cls.MAX:
            raise BatchTooLarge(
                f"At most {cls.MAX} ISBNs per request.", details={"max": cls.MAX, "received": len(isbns)}
            )
        texts = tuple(str(i) for i in isbns)
        for index, text in enumerate(texts):
            if len(text) > ISBN_TEXT_MAX:
                raise isbn_too_long(index=index)  # nothing echoed: notFound would send it all back
        return cls(isbns=texts)
