"""Photo intake: what the bytes really are (`inspect_image`) and the photo the engines see (`prepare_photo`).

The type is sniffed from the bytes, never taken from a file name or a Content-Type: JPEG, PNG, WebP and
HEIC/HEIF (pillow-heif) are accepted. Every failure is a `PhotoRejected` with the contract's code
(`INVALID_FILE` 400, or `FILE_TOO_LARGE` 413 for a picture with more pixels than `SCAN_MAX_PIXELS`), a
sentence the app can show, and nothing else ever escapes: the routes turn it into the error body.

Memory: `inspect_image` reads the header only (Pillow's `Image.open` is lazy), so a decompression bomb
(a 100-byte PNG declaring 50,000 x 50,000 pixels) is refused before a pixel is decoded. `prepare_photo`
decodes only after that check, lets libjpeg decode a large JPEG at 1/2, 1/4 or 1/8 scale when that
still covers `SCAN_MAX_EDGE_PX` (`Image.draft`), and transposes in place.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from typing import TYPE_CHECKING

import pillow_heif
from PIL import Image, ImageOps

from scanning.config import scan_setting
from scanning.dto import ImageHeader, PhotoRejected, PreparedPhoto

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

logger = logging.getLogger(__name__)

# HEIC/HEIF photos (the iPhone's default) open through Pillow once pillow-heif's opener is registered.
# Thumbnails, depth maps and auxiliary images are never needed here, so they are not read.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

DEFAULT_MAX_PIXELS = 80_000_000  # a 48 MP phone photo passes with room; a bomb does not
DEFAULT_MAX_EDGE_PX = 3072
JPEG_QUALITY = 90  # spine lettering survives it; the prepared photo is re-encoded once
WEBP_QUALITY = 90
PNG_COMPRESS_LEVEL = 3  # zlib level: a photo-sized PNG at the default 6 costs ~2x the time for ~3% bytes

ACCEPTED = "Send a JPEG, PNG, WebP or HEIC photo."

# Pillow format name -> the MIME type of the bytes.
_MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
_FORMAT_BY_MIME = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
# ISO-BMFF brands of HEIC (HEVC-coded) and of generic HEIF still images.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


# --- sniffing ------------------------------------------------------------------------------------


def sniff_mime(data: bytes) -> str | None:
    """The MIME type of an accepted photo format, from the magic bytes; None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    brands = _ftyp_brands(data)
    if brands and not brands & _AVIF_BRANDS:
        if brands & _HEIC_BRANDS:
            return "image/heic"
        if brands & _HEIF_BRANDS:
            return "image/heif"
    return None


def _ftyp_brands(data: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO-BMFF `ftyp` box at the start of the bytes (HEIF, MP4...)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    size = min(int.from_bytes(data[:4], "big"), len(data), 256)
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, size - 3, 4))
    return brands


def describe_non_photo(data: bytes) -> str:
    """What bytes that are not an accepted photo look like, for the rejection's reason."""
    if not data:
        return "is empty"
    head = data[:512]
    if head.startswith(b"%PDF"):
        return "looks like a PDF document"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "is a GIF image, which is not accepted"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "is a TIFF image, which is not accepted"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 108, 124):
        return "is a BMP image, which is not accepted"
    brands = _ftyp_brands(data)
    if brands & _AVIF_BRANDS:
        return "is an AVIF image, which is not accepted"
    if brands:
        return "looks like a video or another ISO media file, not a still photo"
    if head[:4] == b"PK\x03\x04":
        return "looks like a ZIP archive (or an Office document)"
    if head[:2] == b"\x1f\x8b":
        return "looks like a gzip archive"
    text = _as_text(head)
    if text is not None:
        lowered = text.lstrip("\ufeff \t\r\n").lower()
        if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:200]:
            return "looks like an HTML page"
        if lowered.startswith("<svg") or ("<svg" in lowered and lowered.startswith("<?xml")):
            return "is an SVG drawing, not a photo"
        if lowered.startswith("<?xml") or lowered.startswith("<"):
            return "looks like XML"
        if lowered.startswith(("{", "[")):
            return "looks like JSON"
        if lowered.startswith("data:image/") or _looks_base64(lowered):
            return "looks like base64 text: send the decoded bytes"
        return "looks like text"
    return "is not a recognised image format"


def _as_text(head: bytes) -> str | None:
    """The bytes as text when they are plausibly text (UTF-8, few control characters)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the 512-byte boundary is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not text:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    return text if controls <= len(text) // 100 else None


def _looks_base64(text: str) -> bool:
    sample = text.strip()[:256]
    return len(sample) >= 64 and all(ch.isalnum() or ch in "+/=\r\n" for ch in sample)


# --- inspect -------------------------------------------------------------------------------------


def _max_pixels() -> int:
    return scan_setting("SCAN_MAX_PIXELS", DEFAULT_MAX_PIXELS)


def _too_many_pixels(width: int, height: int, max_pixels: int) -> PhotoRejected:
    return PhotoRejected(
        f"The image declares {width:,} x {height:,} pixels ({width * height / 1e6:,.1f} megapixels); "
        f"photos are accepted up to {max_pixels / 1e6:,.0f} megapixels.",
        code="FILE_TOO_LARGE",
        status=413,
    )


def inspect_image(data: bytes) -> ImageHeader:
    """The real type and size of the bytes, from the header alone (no pixel is decoded).

    The size is as stored: a JPEG's before its EXIF orientation, a HEIC's upright (libheif applies
    HEIF's own rotation). `prepare_photo` reports the upright size of every type.

    Raises `PhotoRejected`: 400 `INVALID_FILE` for bytes that are not an accepted photo or whose
    header is corrupt, 413 `FILE_TOO_LARGE` for more pixels than `SCAN_MAX_PIXELS`.
    """
    mime = sniff_mime(data)
    if mime is None:
        raise PhotoRejected(f"Not an image: the body {describe_non_photo(data)}. {ACCEPTED}")
    max_pixels = _max_pixels()
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMAT_BY_MIME[mime]]) as opened:
            width, height = opened.size
            header_end = opened.fp.tell() if opened.fp is not None else 0
    except Image.DecompressionBombError as exc:
        # Pillow's own guard (over 2 x Image.MAX_IMAGE_PIXELS) fired first; its message has the count.
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" {int(declared.group(1)) / 1e6:,.1f} megapixels" if declared else " too many pixels"
        raise PhotoRejected(
            f"The image declares{size}; photos are accepted up to {max_pixels / 1e6:,.0f} megapixels.",
            code="FILE_TOO_LARGE",
            status=413,
        ) from None
    except Exception as exc:  # every decoder failure is the same answer: a corrupt file
        logger.info("scan photo header unreadable (%s): %s", mime, exc)
        raise PhotoRejected(
            f"The {_label(mime)} image is corrupt or truncated: its header cannot be read. {ACCEPTED}"
        ) from None
    if width <= 0 or height <= 0:
        raise PhotoRejected(f"The {_label(mime)} image declares no pixels ({width} x {height}).")
    if width * height > max_pixels:
        raise _too_many_pixels(width, height, max_pixels)
    if _is_truncated(mime, data, header_end):
        raise PhotoRejected(
            f"The {_label(mime)} image is truncated: the body ends before the image does. "
            "The upload may have been cut off; send the photo again."
        )
    return ImageHeader(mime_type=mime, width=width, height=height)


def _is_truncated(mime: str, data: bytes, header_end: int) -> bool:
    """A cut-off body, found without decoding: the container says where the image ends.

    JPEG: no end-of-image marker after the start of scan (entropy-coded data escapes 0xFF, so FF D9
    there is the real marker; bytes a phone appends after it are fine). PNG: the chunks run out before
    IEND. WebP: fewer bytes than the RIFF header declares. HEIC is left to the decoder.
    """
    if mime == "image/jpeg":
        return data.find(b"\xff\xd9", header_end) == -1
    if mime == "image/png":
        return not _png_has_iend(data)
    if mime == "image/webp":
        return len(data) < 8 + int.from_bytes(data[4:8], "little")
    return False


def _png_has_iend(data: bytes) -> bool:
    position = 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        if data[position + 4 : position + 8] == b"IEND":
            return True
        position += 12 + length  # length, type, payload, CRC
    return False


def _label(mime: str) -> str:
    return {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}.get(mime, "HEIC")


# --- prepare -------------------------------------------------------------------------------------


def fit_within(size: tuple[int, int], max_edge: int) -> tuple[int, int]:
    """`size` scaled so its longest edge is at most `max_edge` (never enlarged, never 0)."""
    width, height = size
    longest = max(width, height)
    if longest <= max_edge:
        return width, height
    scale = max_edge / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def prepare_photo(data: bytes, *, index: int) -> PreparedPhoto:
    """Decode, turn upright (EXIF orientation), RGB, shrink to `SCAN_MAX_EDGE_PX`, re-encode.

    `encoded` keeps the source's type when a model takes it (JPEG, PNG, WebP); HEIC becomes JPEG.
    Re-encoding also drops the source's metadata (EXIF, GPS) before anything leaves the server.
    `original_width`/`original_height` are the source's upright size (after EXIF orientation).
    Raises `PhotoRejected` (see `inspect_image`; a truncated body is a 400 here).
    """
    header = inspect_image(data)
    max_edge = scan_setting("SCAN_MAX_EDGE_PX", DEFAULT_MAX_EDGE_PX)
    try:
        image, swapped = _decode_upright(data, header, max_edge)
        if max(image.size) > max_edge:
            image = image.resize(fit_within(image.size, max_edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
        encoded, mime = _encode(image, header.mime_type)
    except PhotoRejected:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(header.width, header.height, _max_pixels()) from None
    except MemoryError:
        raise PhotoRejected("The image is too large to decode.", code="FILE_TOO_LARGE", status=413) from None
    except Exception as exc:  # a decoder failure after a good header: truncated or corrupt
        logger.info("scan photo undecodable (%s): %s", header.mime_type, exc)
        raise PhotoRejected(
            f"The {_label(header.mime_type)} image is corrupt or truncated: its pixels cannot be decoded. {ACCEPTED}"
        ) from None
    original = (header.height, header.width) if swapped else (header.width, header.height)
    return PreparedPhoto(
        index=index,
        pixels=image,
        encoded=encoded,
        mime_type=mime,
        width=image.width,
        height=image.height,
        original_width=original[0],
        original_height=original[1],
        source_mime_type=header.mime_type,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _decode_upright(data: bytes, header: ImageHeader, max_edge: int) -> tuple[PilImage, bool]:
    """The decoded, upright RGB picture and whether the orientation swapped width and height.

    No `with`: closing a Pillow image discards its pixels, and the source is in-memory bytes.
    """
    opened = Image.open(io.BytesIO(data), formats=[_FORMAT_BY_MIME[header.mime_type]])
    if opened.format in ("JPEG", "MPO"):  # MPO: a JPEG with more pictures after the first
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale when the result still covers the target: a 48 MP
        # photo is decoded as 12 MP, in a quarter of the time and memory.
        opened.draft("RGB", fit_within(opened.size, max_edge))
    opened.load()
    decoded_size = opened.size
    upright = ImageOps.exif_transpose(opened) if _has_orientation(opened) else opened
    rgb = _to_rgb(upright)
    rgb.info.clear()
    return rgb, upright.size != decoded_size


def _has_orientation(image: PilImage) -> bool:
    """True when EXIF asks for a turn or a flip; a malformed EXIF block is read as "upright"."""
    try:
        return image.getexif().get(0x0112, 1) not in (None, 0, 1)
    except Exception:  # a damaged EXIF block must not cost the photo
        return False


def _to_rgb(image: PilImage) -> PilImage:
    """RGB, with transparency flattened onto white (a transparent PNG's hidden colours are noise)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey (some PNGs): scale to 8 bits before the colour conversion.
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _encode(image: PilImage, source_mime: str) -> tuple[bytes, str]:
    """The prepared picture as the bytes a model is sent, in the source's type when a model takes it."""
    out = io.BytesIO()
    if source_mime == "image/png":
        image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
        return out.getvalue(), "image/png"
    if source_mime == "image/webp":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=3)
        return out.getvalue(), "image/webp"
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"
