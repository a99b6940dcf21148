"""OpenLibrary covers fake: ``/b/{isbn|id|olid}/{value}-{S|M|L}.jpg`` and ``/a/{olid|id}/...``.

Images are real JPEGs drawn with Pillow at the usual OpenLibrary sizes. Like the real service, an
unknown cover answers 404 only with ``?default=false``; otherwise it answers 200 with a 1x1 blank
image (clients should ask with ``default=false`` or check the size).
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from tests.fakes.catalog import CATALOG
from tests.fakes.routing import Request, Response, text_response

NAME = "covers"
PREFIX = "/covers"
SIZES = {"S": (45, 68), "M": (180, 270), "L": (400, 600)}
AUTHOR_SIZES = {"S": (40, 60), "M": (120, 180), "L": (300, 450)}


def error_response(status: int) -> Response:
    return text_response(f"{status} error", status, "text/html; charset=utf-8")


@lru_cache(maxsize=512)
def render_jpeg(label: str, width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    digest = hashlib.sha256(label.encode()).digest()
    background = tuple(40 + b % 180 for b in digest[:3])
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    margin = max(2, width // 12)
    if width < 20:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85)
        return out.getvalue()
    draw.rectangle(
        [margin, margin, width - margin, height - margin],
        outline=tuple(255 - c for c in background),
        width=max(1, width // 60),
    )
    if width >= 100:
        words, line, y = label.split(), "", height // 4
        for word in words:  # crude wrap; the text only makes covers tell apart by eye
            if len(line) + len(word) > width // 9 and line:
                draw.text((margin * 2, y), line, fill=(255, 255, 255))
                line, y = "", y + 14
            line = f"{line} {word}".strip()
        draw.text((margin * 2, y), line, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _label(kind: str, value: str) -> str | None:
    if kind == "id" and value.isdigit():
        return CATALOG.cover_ids.get(int(value))
    if kind == "isbn":
        found = CATALOG.find_isbn(value)
        if found and found[1].get("cover_id") and "o" in found[1]["sources"]:
            return CATALOG.cover_ids[found[1]["cover_id"]]
    if kind == "olid":
        found = CATALOG.by_ol_edition.get(value)
        if found and found[1].get("cover_id"):
            return CATALOG.cover_ids[found[1]["cover_id"]]
    return None


def _author_label(kind: str, value: str) -> str | None:
    if kind == "olid" and CATALOG.authors.get(value, {}).get("photo"):
        return CATALOG.authors[value]["name"]
    if kind == "id" and value.isdigit():
        for author in CATALOG.authors.values():
            if author.get("photo") == int(value):
                return author["name"]
    return None


def _image(request: Request, label: str | None, sizes: dict) -> Response:
    size = request.params["size"].upper()
    if size not in sizes:
        return error_response(404)
    if label is None:
        if (request.arg("default") or "").lower() == "false":
            return error_response(404)
        return Response(200, render_jpeg("blank", 1, 1), "image/jpeg")
    width, height = sizes[size]
    return Response(200, render_jpeg(label, width, height), "image/jpeg", {"Cache-Control": "public, max-age=2592000"})


def book_cover(request: Request) -> Response:
    return _image(request, _label(request.params["kind"], request.params["value"]), SIZES)


def author_photo(request: Request) -> Response:
    label = _author_label(request.params["kind"], request.params["value"])
    return _image(request, label, AUTHOR_SIZES)


ROUTES = [
    ("GET", "/b/{kind}/{value}-{size}.jpg", book_cover),
    ("GET", "/a/{kind}/{value}-{size}.jpg", author_photo),
]
