"""Scan request bodies to photos: the batch's JSON (base64) or multipart `photos` (CONTRACT 5).

Raises the contract's errors: no photos -> EMPTY_BATCH, more than 5 -> BATCH_TOO_LARGE, a photo that
is not valid base64, an index that is not a small whole number or is repeated -> INVALID_REQUEST, a
photo over 10 MB -> FILE_TOO_LARGE (413) naming it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from booktrack.core.exceptions import BatchTooLarge, EmptyBatch, InvalidRequest
from scanning.services import MAX_BATCH_PHOTO_BYTES, MAX_BATCH_PHOTOS, IncomingPhoto, photo_size_check

MAX_INDEX = 999
_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(rb"\s+")


def _count_check(count: int) -> None:
    if count == 0:
        raise EmptyBatch("Send 1 to 5 photos.")
    if count > MAX_BATCH_PHOTOS:
        raise BatchTooLarge(
            f"A batch holds at most {MAX_BATCH_PHOTOS} photos; this one has {count}.",
            details={"maxPhotos": MAX_BATCH_PHOTOS, "receivedPhotos": count},
        )


def _decode(data: str, *, index: int) -> bytes:
    text = _DATA_URL.sub("", data.strip(), count=1)
    raw = _WHITESPACE.sub(b"", text.encode("ascii", errors="replace"))
    # The encoded length gives the decoded size: an oversized photo is refused before decoding it.
    decoded_size = len(raw) * 3 // 4 - len(raw[-2:]) + len(raw[-2:].rstrip(b"="))
    photo_size_check(max(decoded_size, 1), max_bytes=MAX_BATCH_PHOTO_BYTES, index=index)
    if b"-" in raw or b"_" in raw:  # the URL-safe alphabet (some clients)
        raw = raw.replace(b"-", b"+").replace(b"_", b"/")
    try:
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidRequest(f"Photo {index}: 'data' is not valid base64.", details={"photoIndex": index}) from error


def batch_photos_from_json(body: object) -> list[IncomingPhoto]:
    """`{jobId, images: [{index, data: <base64>}]}` -> photos ordered by index."""
    if not isinstance(body, dict):
        raise InvalidRequest("Send JSON {jobId, images: [{index, data}]} or multipart 'photos'.")
    images = body.get("images")
    if images is None:
        raise EmptyBatch("Send 1 to 5 photos in 'images'.")
    if not isinstance(images, list):
        raise InvalidRequest("'images' must be a list of {index, data}.")
    _count_check(len(images))
    photos: list[IncomingPhoto] = []
    seen: set[int] = set()
    for position, image in enumerate(images):
        if not isinstance(image, dict):
            raise InvalidRequest(f"images[{position}] must be an object {{index, data}}.")
        index = image.get("index", position)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_INDEX:
            raise InvalidRequest(f"images[{position}].index must be a whole number from 0 to {MAX_INDEX}.")
        if index in seen:
            raise InvalidRequest(f"images[{position}].index {index} is used twice.")
        seen.add(index)
        data = image.get("data")
        if not isinstance(data, str) or not data.strip():
            raise InvalidRequest(f"images[{position}].data must be the photo in base64.", details={"photoIndex": index})
        photos.append(IncomingPhoto(index=index, data=_decode(data, index=index)))
    return sorted(photos, key=lambda p: p.index)


def batch_photos_from_files(files: Sequence[object]) -> list[IncomingPhoto]:
    """Multipart `photos` parts -> photos indexed in the order they were sent."""
    _count_check(len(files))
    photos = []
    for index, upload in enumerate(files):
        size = getattr(upload, "size", None)
        if isinstance(size, int):  # before reading it: an oversized part is never read into memory
            photo_size_check(size, max_bytes=MAX_BATCH_PHOTO_BYTES, index=index)
        photos.append(IncomingPhoto(index=index, data=upload.read()))  # type: ignore[attr-defined]
    return photos
