"""Photos for the scanning tests, made in memory: real shelf photos from the fixtures, and generated ones
(a shelf of spines, blurred, dark, overexposed, tiny, corrupt, wrong type, a decompression bomb, HEIC,
EXIF-rotated, with EAN-13 barcodes). Deterministic: the same call gives the same bytes.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import zxingcpp
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

IMAGES = Path(__file__).resolve().parents[1] / "fixtures" / "upstream" / "images"
SHELF_PHOTOS = ("bookshelf_shelf_photo_1538_1.jpg", "bookshelf_shelf_photo_1539_1.jpg")
STUB_JPEG = "original_backend_test-bookshelf_STUB.jpg"  # a 156-byte JPEG header, no image data
PNG_NAMED_JPG = "original_backend_tiny-test_PNG_named_jpg.jpg"  # a 1x1 PNG with a .jpg name

SPINE_TITLES = (
    "THE NAME OF THE ROSE",
    "DUNE",
    "MIDDLEMARCH",
    "BELOVED",
    "THE LEFT HAND OF DARKNESS",
    "PACHINKO",
    "WOLF HALL",
    "THE REMAINS OF THE DAY",
    "ANNIHILATION",
    "KINDRED",
)


def fixture_bytes(name: str) -> bytes:
    return (IMAGES / name).read_bytes()


def fixture_image(name: str) -> Image.Image:
    image = Image.open(IMAGES / name)
    image.load()
    return image.convert("RGB")


# --- encoders ------------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        options.setdefault("quality", 90)
    image.save(out, fmt, **options)
    return out.getvalue()


def heic_bytes(image: Image.Image, *, quality: int = 80, orientation: int | None = None) -> bytes:
    """A real HEIC (HEVC in HEIF) file, as an iPhone sends (x265's fastest preset: seconds, not minutes);
    `orientation` is the EXIF orientation the camera recorded for the stored pixels."""
    heif = pillow_heif.from_pillow(image.convert("RGB"))
    out = io.BytesIO()
    options: dict[str, object] = {"quality": quality, "enc_params": {"preset": "ultrafast"}}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    heif.save(out, **options)
    return out.getvalue()


def exif_rotated_jpeg(image: Image.Image, *, orientation: int = 6) -> bytes:
    """A JPEG whose stored pixels are turned so that applying EXIF `orientation` shows `image` upright
    (orientation 6: the camera was held in portrait, stored landscape-sideways)."""
    stored = {
        3: Image.Transpose.ROTATE_180,
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image.transpose(stored), "JPEG", exif=exif.tobytes())


# --- generated pictures --------------------------------------------------------------------------


def shelf_image(
    width: int = 2400,
    height: int = 1200,
    *,
    seed: int = 0,
    titles: tuple[str, ...] = SPINE_TITLES,
    noise: float = 6.0,
) -> Image.Image:
    """A shelf of book spines: coloured vertical spines with their titles written along them, on wood,
    with light sensor noise (a photo, not a flat drawing)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (120, 82, 50))
    draw = ImageDraw.Draw(image)
    top, bottom = int(height * 0.08), int(height * 0.94)
    draw.rectangle((0, bottom, width, height), fill=(90, 60, 35))  # the shelf board
    spine_width = width // (len(titles) + 1)
    font = ImageFont.load_default(size=max(12, spine_width // 4))
    x = spine_width // 2
    for title in titles:
        w = int(spine_width * rng.uniform(0.75, 1.0))
        spine_top = top + rng.randint(0, height // 10)
        colour = tuple(rng.randint(30, 220) for _ in range(3))
        ink = (250, 245, 230) if sum(colour) < 380 else (20, 20, 25)
        draw.rectangle((x, spine_top, x + w, bottom), fill=colour, outline=(25, 20, 15), width=2)
        label = Image.new("RGB", (bottom - spine_top - 20, w - 8), colour)
        ImageDraw.Draw(label).text((10, (w - 8) // 2), title, fill=ink, font=font, anchor="lm")
        image.paste(label.rotate(90, expand=True), (x + 4, spine_top + 10))
        x += w + rng.randint(2, 10)
    if noise:
        image = add_noise(image, sigma=noise, seed=seed)
    return image


def add_noise(image: Image.Image, *, sigma: float, seed: int = 0) -> Image.Image:
    """Gaussian sensor noise of `sigma` grey levels (seeded, so the bytes are the same every run)."""
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    pixels += rng.standard_normal(pixels.shape, dtype=np.float32) * sigma
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def blurred(image: Image.Image, radius: float = 6.0) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def darkened(image: Image.Image, factor: float = 0.2) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def brightened(image: Image.Image, factor: float = 3.0) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(factor)


def tiny(image: Image.Image, longest_edge: int = 320) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((longest_edge, longest_edge))
    return copy


def ean13_label(code: str, *, scale: int = 3) -> Image.Image:
    """A printed EAN-13 barcode (zxing-cpp's writer) on a white label with a quiet zone."""
    symbol = Image.fromarray(zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.EAN13).to_image(scale=scale))
    label = Image.new("RGB", (symbol.width + 12 * scale, symbol.height + 12 * scale), "white")
    label.paste(symbol.convert("RGB"), (6 * scale, 6 * scale))
    return label


def shelf_with_barcodes(codes: tuple[str, ...], *, width: int = 2400, height: int = 1200, seed: int = 0) -> Image.Image:
    """A shelf photo with a barcode label stuck on it for each code, left to right along the middle."""
    image = shelf_image(width, height, seed=seed, noise=0)
    step = width // (len(codes) + 1)
    for i, code in enumerate(codes, start=1):
        label = ean13_label(code)
        image.paste(label, (step * i - label.width // 2, height // 2 - label.height // 2))
    return add_noise(image, sigma=4.0, seed=seed)


# --- broken bodies -------------------------------------------------------------------------------


def truncated_jpeg(image: Image.Image | None = None, *, keep: float = 0.5) -> bytes:
    """A JPEG cut off part way through its image data (the header is intact)."""
    data = encode(image or shelf_image(800, 600), "JPEG")
    return data[: int(len(data) * keep)]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A ~100-byte PNG whose header declares `width` x `height` pixels (2.5 gigapixels by default); its
    compressed data would inflate to gigabytes of zeros."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is patched to declare `width` x `height`."""
    data = bytearray(encode(Image.new("RGB", (16, 16), "grey"), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HTML_BYTES = b"<!DOCTYPE html>\n<html><head><title>Upload</title></head><body>not a photo</body></html>\n"
TEXT_BYTES = "Ma bibliothèque : Dune, Middlemarch, Les Misérables.\n".encode()
