"""Fakes of the cover image hosts the image proxy reads besides OpenLibrary covers.

Three upstreams, each mounted under its own prefix like every fake:

- ``google-covers`` (``/google-covers``): ``GET /books/content?id=&zoom=`` as on books.google.com;
  a JPEG drawn from the ``id`` (two ids, two different images) at zoom 1 = 128x192, 2 = 256x384,
  3 = 512x768 (Google's thumbnails are small).
- ``isbndb-images`` (``/isbndb-images``): ``GET /covers/{aa}/{bb}/{isbn13}.jpg`` as on
  images.isbndb.com, 500x750 JPEGs.
- ``amazon-images`` (``/amazon-images``): ``GET /images/I/{name}.jpg`` and ``/images/P/{name}.jpg``
  as on m.media-amazon.com, 1000x1500 JPEGs. A few names script the proxy's edge cases:
  ``html-page`` answers ``text/html``, ``exif-rotated`` is a 600x400 JPEG whose EXIF orientation (6)
  makes it a 400x600 portrait, ``GET /images/I/{name}.png`` is a transparent PNG (300x450).
"""

from __future__ import annotations

import io
from functools import lru_cache
from types import SimpleNamespace

from tests.fakes.covers import render_jpeg
from tests.fakes.routing import Request, Response, text_response

_CACHE = {"Cache-Control": "public, max-age=2592000"}
GOOGLE_ZOOM_SIZES = {"1": (128, 192), "2": (256, 384), "3": (512, 768)}
ISBNDB_SIZE = (500, 750)
AMAZON_SIZE = (1000, 1500)


def error_response(status: int) -> Response:
    return text_response(f"{status} error", status, "text/html; charset=utf-8")


def _jpeg(label: str, size: tuple[int, int]) -> Response:
    return Response(200, render_jpeg(label, *size), "image/jpeg", dict(_CACHE))


@lru_cache(maxsize=4)
def exif_rotated_jpeg() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (600, 400), (200, 40, 40))
    image.paste((40, 40, 200), (0, 0, 300, 400))  # left half blue: shows which way it turned
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


@lru_cache(maxsize=4)
def transparent_png() -> bytes:
    from PIL import Image

    image = Image.new("RGBA", (300, 450), (0, 0, 0, 0))
    image.paste((30, 120, 200, 255), (50, 50, 250, 400))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def google_content(request: Request) -> Response:
    volume_id = request.arg("id")
    if not volume_id:
        return error_response(404)
    size = GOOGLE_ZOOM_SIZES.get(request.arg("zoom") or "1", GOOGLE_ZOOM_SIZES["1"])
    return _jpeg(f"google {volume_id}", size)


def isbndb_cover(request: Request) -> Response:
    return _jpeg(f"isbndb {request.params['isbn']}", ISBNDB_SIZE)


def amazon_jpeg(request: Request) -> Response:
    name = request.params["name"]
    if name == "html-page":
        return text_response("<html><body>Page not found</body></html>", 200, "text/html; charset=utf-8")
    if name == "exif-rotated":
        return Response(200, exif_rotated_jpeg(), "image/jpeg", dict(_CACHE))
    return _jpeg(f"amazon {name}", AMAZON_SIZE)


def amazon_png(request: Request) -> Response:
    return Response(200, transparent_png(), "image/png", dict(_CACHE))


google_covers = SimpleNamespace(
    NAME="google-covers",
    PREFIX="/google-covers",
    ROUTES=[("GET", "/books/content", google_content)],
    error_response=error_response,
)
isbndb_images = SimpleNamespace(
    NAME="isbndb-images",
    PREFIX="/isbndb-images",
    ROUTES=[("GET", "/covers/{aa}/{bb}/{isbn}.jpg", isbndb_cover)],
    error_response=error_response,
)
amazon_images = SimpleNamespace(
    NAME="amazon-images",
    PREFIX="/amazon-images",
    ROUTES=[
        ("GET", "/images/I/{name}.png", amazon_png),
        ("GET", "/images/I/{name}.jpg", amazon_jpeg),
        ("GET", "/images/P/{name}.jpg", amazon_jpeg),
    ],
    error_response=error_response,
)
UPSTREAMS = (google_covers, isbndb_images, amazon_images)
