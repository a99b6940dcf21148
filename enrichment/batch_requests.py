"""Request parsing for the batch enrichment routes: JSON in, frozen DTOs out, contract error codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from booktrack.core.exceptions import BatchTooLarge, EmptyBatch, InvalidRequest, MissingParameter
from enrichment.batch import MAX_BOOKS, BookRequest
from jobs.services import job_id_parse

MAX_TITLE = 500
MAX_AUTHOR = 300
MAX_ISBN = 17
_ISBN_LIKE = re.compile(r"^[0-9][0-9\- ]{8,15}[0-9Xx]$")


@dataclass(frozen=True)
class BatchRequest:
    job_id: str
    books: tuple[BookRequest, ...]


def _job_id(body: dict) -> str:
    return str(job_id_parse(body.get("jobId")))


def _check_size(items: object, field: str) -> list:
    if items is None:
        raise MissingParameter(f"{field} is required.")
    if not isinstance(items, list):
        raise InvalidRequest(f"{field} must be an array.")
    if not items:
        raise EmptyBatch(f"{field} must contain at least one entry.", details={"min": 1})
    if len(items) > MAX_BOOKS:
        raise BatchTooLarge(
            f"A batch holds at most {MAX_BOOKS} books ({len(items)} given).",
            details={"max": MAX_BOOKS, "received": len(items)},
        )
    return items


def _text(book: dict, key: str, index: int, limit: int, *, required: bool = False) -> str | None:
    value = book.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidRequest(f"books[{index}].{key} is required.", details={"field": f"books[{index}].{key}"})
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"books[{index}].{key} must be a string.", details={"field": f"books[{index}].{key}"})
    value = value.strip()
    if len(value) > limit:
        raise InvalidRequest(
            f"books[{index}].{key} is longer than {limit} characters.",
            details={"field": f"books[{index}].{key}", "maxLength": limit},
        )
    return value


def batch_request_parse(body: object) -> BatchRequest:
    """`{jobId, books:[{title, author?, isbn?}]}`, 1-100 books."""
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    job_id = _job_id(body)
    books = []
    for index, raw in enumerate(_check_size(body.get("books"), "books")):
        if not isinstance(raw, dict):
            raise InvalidRequest(f"books[{index}] must be an object.", details={"field": f"books[{index}]"})
        books.append(
            BookRequest(
                title=_text(raw, "title", index, MAX_TITLE, required=True),
                author=_text(raw, "author", index, MAX_AUTHOR),
                isbn=_text(raw, "isbn", index, MAX_ISBN),
            )
        )
    return BatchRequest(job_id=job_id, books=tuple(books))


def legacy_start_parse(body: object) -> BatchRequest:
    """Deprecated `{jobId, workIds:[...]}`: each id is an ISBN or a title (what the old clients sent)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    job_id = _job_id(body)
    books = []
    for index, raw in enumerate(_check_size(body.get("workIds"), "workIds")):
        if not isinstance(raw, str | int) or not str(raw).strip():
            raise InvalidRequest(
                f"workIds[{index}] must be a non-empty string.", details={"field": f"workIds[{index}]"}
            )
        value = str(raw).strip()
        if len(value) > MAX_TITLE:
            raise InvalidRequest(f"workIds[{index}] is too long.", details={"field": f"workIds[{index}]"})
        isbn = value if _ISBN_LIKE.match(value) and len(value) <= MAX_ISBN else None
        books.append(BookRequest(title=value, isbn=isbn))
    return BatchRequest(job_id=job_id, books=tuple(books))
