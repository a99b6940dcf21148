"""Gemini Developer API fake: ``POST /{api_version}/models/{model}:generateContent``.

Point the google-genai SDK at it with
``HttpOptions(base_url=fake.base_urls["GEMINI_BASE_URL"])``. Answers use the real
GenerateContentResponse shape (tests/fixtures/upstream/gemini/):

- a request with an image part (``inlineData``) -> JSON-mode text ``{"books": [...]}``: 3-6 catalog
  books chosen deterministically from the image bytes, with confidences (some below 0.7) and
  normalised bounding boxes; an image Pillow cannot open -> 400 "Unable to process input image";
  an image smaller than 32x32 -> ``{"books": []}``. When the response schema is the scan engine's
  (books with ``box_2d``), the same books come in that schema (`scan_books`): ``spine_text``,
  ``box_2d`` on 0-1000, ``confidence`` null for every third book;
- a request whose text holds a CSV header -> JSON-mode text ``{"columns": {...}}`` mapping our
  fields to the header names;
- a request whose response schema asks for ``hasHeaderRow`` (the CSV importer's column mapping,
  rows sent as a JSON array) -> ``{"hasHeaderRow": bool, "columns": {field: index | null}}``: header
  names matched by hint, else columns guessed from the sample values (ISBN-like, year, text);
- anything else -> a short plain-text answer.

Missing ``x-goog-api-key`` -> 403; a key starting with ``invalid`` -> the recorded 400
API_KEY_INVALID; a model not starting with ``gemini`` -> the recorded 404. Scripted answers (429,
SAFETY, no candidates...) are queued with ``FakeUpstreams.queue("gemini", [...])``; `scan_reply(kind)`
builds the scan engine's scripted answers (boxes, no confidence, SAFETY, blocked, empty text,
malformed JSON, wrong shape), and ``FakeUpstreams.count("POST /gemini")`` counts the requests.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json

from tests.fakes.catalog import CATALOG
from tests.fakes.routing import Request, Response, json_response, raw_json_response
from tests.samples import sample_bytes

NAME = "gemini"
PREFIX = "/gemini"
CONFIDENCES = [0.96, 0.91, 0.62, 0.88, 0.45, 0.79, 0.93, 0.55]

# Our field -> header spellings seen in Goodreads, StoryGraph, LibraryThing, Calibre and others.
COLUMN_HINTS = {
    "title": ["title", "book title", "name"],
    "author": ["author", "authors", "primary author", "author l-f", "creator"],
    "isbn": ["isbn", "isbn/uid", "isbn10", "isbns"],
    "isbn13": ["isbn13", "isbn 13", "ean"],
    "publisher": ["publisher"],
    "publicationYear": [
        "year published",
        "original publication year",
        "publication year",
        "date published",
        "pubdate",
        "publish date",
        "year",
    ],
    "pageCount": ["number of pages", "pages", "page count", "num pages"],
    "rating": ["my rating", "star rating", "rating"],
    "readingStatus": ["exclusive shelf", "read status", "bookshelf", "shelf", "status"],
    "dateRead": ["date read", "last date read", "dates read", "date finished"],
    "shelves": ["bookshelves", "tags", "collections", "shelves"],
}


def error_response(status: int) -> Response:
    recorded = {
        400: "gemini/error_400_api_key_invalid.json",
        404: "gemini/error_404_unknown_model.json",
        429: "gemini/error_429_resource_exhausted_retry_info.json",
    }.get(status)
    if recorded:
        return raw_json_response(sample_bytes(recorded), status)
    names = {
        400: "INVALID_ARGUMENT",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }
    messages = {
        500: "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
        503: "The model is overloaded. Please try again later.",
    }
    return json_response(
        {
            "error": {
                "code": status,
                "message": messages.get(status, f"HTTP {status}"),
                "status": names.get(status, "UNKNOWN"),
            }
        },
        status,
    )


def _error(status: int, message: str, name: str) -> Response:
    return json_response({"error": {"code": status, "message": message, "status": name}}, status)


def _parts(payload: dict) -> list[dict]:
    parts = []
    for content in payload.get("contents") or []:
        if isinstance(content, dict):
            parts.extend(content.get("parts") or [])
    return parts


def _inline(part: dict) -> dict | None:
    return part.get("inlineData") or part.get("inline_data")


def _b64(data: str) -> bytes:
    """The SDK sends URL-safe base64, sometimes unpadded; other clients send the standard one."""
    data = data.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(data + "=" * (-len(data) % 4))


def _envelope(text: str, model: str, prompt_tokens: int, seed: str) -> dict:
    candidate_tokens = max(1, len(text) // 4)
    thoughts = 0 if model.startswith(("gemini-1", "gemini-2.0")) else 37
    usage = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": candidate_tokens,
        "totalTokenCount": prompt_tokens + candidate_tokens + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    response_id = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()[:15]).decode()
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": response_id,
    }


def detect_books(image: bytes) -> dict | None:
    """The deterministic "detection" for one image, or None if it is not a readable image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as opened:
            opened.load()
            width, height = opened.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    if width < 32 or height < 32:
        return {"books": []}
    digest = hashlib.sha256(image).digest()
    pool = [(w, e) for w in CATALOG.works for e in w["editions"][:1]]
    count = 3 + digest[0] % 4
    start = digest[1] % len(pool)
    books = []
    for i in range(count):
        work, edition = pool[(start + i * 3) % len(pool)]
        confidence = CONFIDENCES[(digest[2] + i) % len(CONFIDENCES)]
        book: dict = {
            "title": CATALOG.edition_title(work, edition),
            "author": CATALOG.author_names(work)[0] if (digest[3] + i) % 5 else None,
            "confidence": confidence,
        }
        if confidence >= 0.8 and (digest[4] + i) % 2 == 0:
            book["isbn"] = edition["isbn13"]
        slot = 1 / count
        book["boundingBox"] = {
            "x": round(i * slot + slot * 0.05, 4),
            "y": 0.06,
            "width": round(slot * 0.9, 4),
            "height": 0.88,
        }
        books.append(book)
    return {"books": books}


def _is_scan_request(payload: dict) -> bool:
    """The scan engine's structured output asks for books with a ``box_2d`` (scanning/prompts.py)."""
    books = _schema_properties(payload).get("books") or {}
    return "box_2d" in ((books.get("items") or {}).get("properties") or {})


def scan_books(image: bytes) -> dict | None:
    """The scan-v1 answer for one image: the books of `detect_books` in the scan schema, with
    ``spine_text`` and Gemini's native ``box_2d`` ([ymin, xmin, ymax, xmax] on 0-1000); every third
    book has ``confidence: null`` (the model may not judge). None if the image is unreadable."""
    detected = detect_books(image)
    if detected is None:
        return None
    books = []
    for i, book in enumerate(detected["books"]):
        box = book["boundingBox"]
        spine = " ".join(filter(None, (book["title"], book["author"])))
        books.append(
            {
                "title": book["title"],
                "author": book["author"],
                "spine_text": spine.upper(),
                "confidence": None if i % 3 == 2 else book["confidence"],
                "box_2d": [
                    round(box["y"] * 1000),
                    round(box["x"] * 1000),
                    round((box["y"] + box["height"]) * 1000),
                    round((box["x"] + box["width"]) * 1000),
                ],
            }
        )
    return {"books": books}


def scan_reply(kind: str, *, books: list[dict] | None = None, model: str = "gemini-2.5-flash") -> dict:
    """One scripted answer to a scan request, for ``FakeUpstreams.queue("gemini", [...])``.

    - ``"books"``: a STOP answer listing ``books`` (scan-v1 items, as given);
    - ``"no_confidence"``: the same with every ``confidence`` key left out;
    - ``"safety"``: the recorded finishReason SAFETY answer;
    - ``"blocked"``: the recorded answer with no candidates and a ``promptFeedback``;
    - ``"empty_text"``: a STOP candidate whose only part has empty text;
    - ``"malformed_json"``: a STOP answer whose text is JSON cut off mid-way (as MAX_TOKENS leaves it);
    - ``"wrong_shape"``: valid JSON that is not ``{"books": [...]}``.
    """
    listed = (
        books
        if books is not None
        else [
            {
                "title": "Dune",
                "author": "Frank Herbert",
                "spine_text": "DUNE FRANK HERBERT",
                "confidence": 0.93,
                "box_2d": [40, 100, 960, 180],
            },
        ]
    )
    if kind == "safety":
        return {"fixture": "gemini/generate_content_finish_reason_safety.json"}
    if kind == "blocked":
        return {"fixture": "gemini/generate_content_no_candidates_prompt_feedback.json"}
    if kind == "books":
        text = json.dumps({"books": listed}, ensure_ascii=False)
    elif kind == "no_confidence":
        text = json.dumps({"books": [{k: v for k, v in b.items() if k != "confidence"} for b in listed]})
    elif kind == "empty_text":
        text = ""
    elif kind == "malformed_json":
        whole = json.dumps({"books": listed}, ensure_ascii=False)
        text = whole[: max(1, len(whole) * 2 // 3)]
    elif kind == "wrong_shape":
        text = json.dumps([{"book": b.get("title")} for b in listed])
    else:
        raise ValueError(f"unknown scan reply {kind!r}")
    body = _envelope(text, model, 1290, f"{kind}:{text}")
    if kind == "malformed_json":
        body["candidates"][0]["finishReason"] = "MAX_TOKENS"
    return {"status": 200, "body": body}


def map_columns(header: list[str]) -> dict:
    lowered = {h.strip().lower(): h.strip() for h in header if h.strip()}
    columns = {}
    for field, hints in COLUMN_HINTS.items():
        for hint in hints:
            if hint in lowered and lowered[hint] not in columns.values():
                columns[field] = lowered[hint]
                break
    return {"columns": columns}


def _schema_properties(payload: dict) -> dict:
    config = payload.get("generationConfig") or payload.get("generation_config") or {}
    schema = config.get("responseSchema") or config.get("responseJsonSchema") or {}
    return schema.get("properties") or {}


def _rows_in(texts: list[str]) -> list[list[str]] | None:
    for text in texts:
        start = text.find("[[")
        if start < 0:
            continue
        try:
            rows, _ = json.JSONDecoder().raw_decode(text[start:])
        except ValueError:
            continue
        if isinstance(rows, list) and rows and all(isinstance(r, list) for r in rows):
            return [[str(c) for c in r] for r in rows]
    return None


def _looks_like(values: list[str], kind: str) -> bool:
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return False
    digits = [v.replace("-", "").replace("=", "").strip('"') for v in values]
    if kind == "isbn":
        return all(d[:-1].isdigit() and len(d) in (10, 13) for d in digits)
    if kind == "year":
        return all(d.isdigit() and len(d) == 4 and 1000 <= int(d) <= 2100 for d in digits)
    if kind == "rating":
        return all(d.replace(".", "", 1).isdigit() and float(d) <= 5 for d in digits)
    return all(not d.replace(".", "", 1).isdigit() for d in digits)


def map_columns_by_index(rows: list[list[str]]) -> dict:
    """The CSV importer's mapping: does row 0 name the columns, and which index holds each field."""
    first, samples = rows[0], rows[1:]
    named = map_columns(first)["columns"]
    lowered = [c.strip().lower() for c in first]
    has_header = bool(named)
    columns: dict[str, int | None] = dict.fromkeys(COLUMN_HINTS)
    for field, name in named.items():
        columns[field] = lowered.index(name.lower())
    body = samples if has_header else rows
    width = max(len(r) for r in rows)
    taken = {i for i in columns.values() if i is not None}
    texts = []
    for i in range(width):
        if i in taken:
            continue
        values = [r[i] for r in body if i < len(r)]
        if columns["isbn13"] is None and columns["isbn"] is None and _looks_like(values, "isbn"):
            columns["isbn13"] = i
        elif columns["publicationYear"] is None and _looks_like(values, "year"):
            columns["publicationYear"] = i
        elif columns["rating"] is None and _looks_like(values, "rating"):
            columns["rating"] = i
        elif _looks_like(values, "text"):
            texts.append(i)
    for field in ("title", "author"):
        if columns[field] is None and texts:
            columns[field] = texts.pop(0)
    return {"hasHeaderRow": has_header, "columns": columns}


def _csv_header(text: str) -> list[str] | None:
    for line in text.splitlines():
        if line.count(",") >= 1 or line.count("\t") >= 2:
            delimiter = "\t" if line.count("\t") > line.count(",") else ","
            header = next(csv.reader([line], delimiter=delimiter))
            if any(h.strip().lower() in COLUMN_HINTS["title"] for h in header):
                return header
    return None


def generate_content(request: Request) -> Response:
    model = request.params["model"]
    key = request.header("x-goog-api-key") or request.arg("key")
    if not key:
        return _error(
            403,
            "Method doesn't allow unregistered callers (callers without "
            "established identity). Please use API Key or other form of API "
            "consumer identity to call this API.",
            "PERMISSION_DENIED",
        )
    if key.startswith("invalid"):
        return error_response(400)
    if not model.startswith("gemini"):
        return error_response(404)
    try:
        payload = request.json() or {}
    except (ValueError, UnicodeDecodeError):
        return _error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
    parts = _parts(payload)
    texts = [p["text"] for p in parts if isinstance(p.get("text"), str)]
    images = [
        _b64(_inline(p)["data"])
        for p in parts
        if _inline(p) and str(_inline(p).get("mimeType") or _inline(p).get("mime_type", "")).startswith("image/")
    ]
    prompt_tokens = sum(len(t) // 4 for t in texts) + 258 * len(images) + 1
    seed = hashlib.sha256(request.body).hexdigest()
    if images:
        detected = scan_books(images[0]) if _is_scan_request(payload) else detect_books(images[0])
        if detected is None:
            return _error(
                400,
                "Unable to process input image. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
                "INVALID_ARGUMENT",
            )
        text = json.dumps(detected, ensure_ascii=False)
    elif "hasHeaderRow" in _schema_properties(payload) and (rows := _rows_in(texts)):
        text = json.dumps(map_columns_by_index(rows), ensure_ascii=False)
    elif (header := next(filter(None, (_csv_header(t) for t in texts)), None)) is not None:
        text = json.dumps(map_columns(header), ensure_ascii=False)
    else:
        text = "OK"
    return json_response(_envelope(text, model, prompt_tokens, seed))


ROUTES = [
    ("POST", "/{api_version}/models/{model}:generateContent", generate_content),
]
