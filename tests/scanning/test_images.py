"""Photo intake: the real type from the bytes, header-only refusal of bombs, and the prepared photo."""

from __future__ import annotations

import hashlib
import io
import random
import time

import numpy as np
import pytest
from PIL import Image

from scanning.dto import PhotoRejected
from scanning.images import inspect_image, prepare_photo, sniff_mime
from tests.scanning import photos


def _rejected(data: bytes, *, prepare: bool = False) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        prepare_photo(data, index=0) if prepare else inspect_image(data)
    return caught.value


# --- the real fixture files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size"),
    [("bookshelf_shelf_photo_1538_1.jpg", (2837, 1313)), ("bookshelf_shelf_photo_1539_1.jpg", (2900, 1085))],
)
def test_inspect_real_shelf_photos_are_jpeg_with_their_size(name, size):
    header = inspect_image(photos.fixture_bytes(name))
    assert (header.mime_type, header.width, header.height) == ("image/jpeg", *size)


def test_inspect_png_named_jpg_is_sniffed_as_png():
    header = inspect_image(photos.fixture_bytes(photos.PNG_NAMED_JPG))
    assert (header.mime_type, header.width, header.height) == ("image/png", 1, 1)
    prepared = prepare_photo(photos.fixture_bytes(photos.PNG_NAMED_JPG), index=0)
    assert prepared.mime_type == "image/png" and Image.open(io.BytesIO(prepared.encoded)).format == "PNG"


def test_inspect_stub_jpeg_header_without_image_data_is_a_400():
    error = _rejected(photos.fixture_bytes(photos.STUB_JPEG))
    assert (error.code, error.status) == ("INVALID_FILE", 400)
    assert "corrupt or truncated" in error.reason


def test_prepare_real_photo_keeps_its_size_type_and_hashes_the_original():
    data = photos.fixture_bytes(photos.SHELF_PHOTOS[0])
    prepared = prepare_photo(data, index=3)
    assert prepared.index == 3
    assert (prepared.width, prepared.height) == (2837, 1313) == prepared.pixels.size
    assert (prepared.original_width, prepared.original_height) == (2837, 1313)
    assert prepared.mime_type == prepared.source_mime_type == "image/jpeg"
    assert prepared.pixels.mode == "RGB"
    assert prepared.sha256 == hashlib.sha256(data).hexdigest()
    encoded = Image.open(io.BytesIO(prepared.encoded))
    assert (encoded.format, encoded.size) == ("JPEG", (2837, 1313))


def test_prepare_drops_the_source_metadata():
    data = photos.fixture_bytes(photos.SHELF_PHOTOS[1])
    assert Image.open(io.BytesIO(data)).getexif().get(0x0110) == "iPhone 11"  # camera model
    encoded = Image.open(io.BytesIO(prepare_photo(data, index=0).encoded))
    assert len(encoded.getexif()) == 0


# --- not an image ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (photos.PDF_BYTES, "PDF"),
        (photos.HTML_BYTES, "HTML"),
        (photos.TEXT_BYTES, "text"),
        (b'{"images": []}', "JSON"),
        (b"", "empty"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "GIF"),
        (b"PK\x03\x04" + bytes(40), "ZIP"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(32), "video"),
        (bytes(range(256)) * 4, "not a recognised image"),
    ],
)
def test_inspect_body_that_is_not_a_photo_is_a_400_saying_what_it_looks_like(data, says):
    error = _rejected(data)
    assert (error.code, error.status) == ("INVALID_FILE", 400)
    assert error.reason.startswith("Not an image") and says in error.reason


def test_sniff_ignores_the_name_and_reads_the_magic_bytes():
    shelf = photos.shelf_image(400, 300)
    assert sniff_mime(photos.encode(shelf, "JPEG")) == "image/jpeg"
    assert sniff_mime(photos.encode(shelf, "PNG")) == "image/png"
    assert sniff_mime(photos.encode(shelf, "WEBP")) == "image/webp"
    assert sniff_mime(photos.heic_bytes(shelf)) == "image/heic"
    assert sniff_mime(photos.encode(shelf, "GIF")) is None


# --- corrupt and truncated -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_body_is_a_400_from_the_header_check(fmt, keep):
    data = photos.encode(photos.shelf_image(800, 600), fmt)
    cut = data[: int(len(data) * keep)]
    for check in (inspect_image, lambda body: prepare_photo(body, index=0)):
        with pytest.raises(PhotoRejected) as caught:
            check(cut)
        assert (caught.value.code, caught.value.status) == ("INVALID_FILE", 400)
        assert "truncated" in caught.value.reason


def test_truncated_jpeg_upload_is_refused_by_the_route_check():
    error = _rejected(photos.truncated_jpeg())
    assert error.reason.startswith("The JPEG image is truncated")


def test_bytes_after_the_jpeg_end_marker_are_accepted():
    """Phones append data after the image (Samsung trailers, Motion Photo videos): still a photo."""
    data = photos.encode(photos.shelf_image(800, 600), "JPEG") + b"\x00\x00\x00\x18ftypmp42" + bytes(2000)
    assert inspect_image(data).mime_type == "image/jpeg"
    assert prepare_photo(data, index=0).width == 800


def test_damaged_bodies_only_ever_raise_photo_rejected():
    """Random cuts and byte flips of real JPEG, PNG, WebP and HEIC files: a PhotoRejected or a photo."""
    rng = random.Random(11)
    shelf = photos.shelf_image(320, 240, noise=0)
    sources = [
        photos.encode(shelf, "JPEG"),
        photos.encode(shelf, "PNG"),
        photos.encode(shelf, "WEBP"),
        photos.heic_bytes(shelf),
    ]
    outcomes = {"rejected": 0, "prepared": 0}
    for source in sources:
        for _ in range(25):
            data = bytearray(source[: rng.randint(1, len(source))])
            for _ in range(rng.randint(0, 6)):
                if data:
                    data[rng.randrange(len(data))] = rng.randrange(256)
            try:
                prepare_photo(bytes(data), index=0)
                outcomes["prepared"] += 1
            except PhotoRejected as error:
                assert error.status in (400, 413) and error.reason
                outcomes["rejected"] += 1
    assert outcomes["rejected"] > 50


# --- decompression bombs ---------------------------------------------------------------------------


def test_png_bomb_declaring_gigapixels_is_a_413_from_its_header_alone():
    bomb = photos.png_bomb(50_000, 50_000)
    assert len(bomb) < 200
    started = time.perf_counter()
    for check in (inspect_image, lambda data: prepare_photo(data, index=0)):
        with pytest.raises(PhotoRejected) as caught:
            check(bomb)
        assert (caught.value.code, caught.value.status) == ("FILE_TOO_LARGE", 413)
        assert "2,500.0 megapixels" in caught.value.reason
    assert time.perf_counter() - started < 0.5  # 2.5 gigapixels were never decoded


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's own warning at 89 MP
def test_image_over_scan_max_pixels_is_a_413_naming_its_size():
    error = _rejected(photos.jpeg_declaring(10_000, 9_000))  # 90 MP: over 80 MP, under Pillow's own guard
    assert (error.code, error.status) == ("FILE_TOO_LARGE", 413)
    assert "10,000 x 9,000" in error.reason and "80 megapixels" in error.reason


def test_scan_max_pixels_setting_is_read_at_call_time(settings):
    settings.SCAN_MAX_PIXELS = 1_000_000
    error = _rejected(photos.fixture_bytes(photos.SHELF_PHOTOS[0]))
    assert error.status == 413 and "1 megapixels" in error.reason


# --- formats, orientation, size ------------------------------------------------------------------


def test_heic_is_decoded_and_sent_as_jpeg():
    shelf = photos.shelf_image(1200, 800, noise=0)
    data = photos.heic_bytes(shelf, quality=90)
    assert inspect_image(data).mime_type == "image/heic"
    prepared = prepare_photo(data, index=0)
    assert (prepared.source_mime_type, prepared.mime_type) == ("image/heic", "image/jpeg")
    assert (prepared.width, prepared.height) == (1200, 800)
    difference = np.abs(np.asarray(prepared.pixels, dtype=np.int16) - np.asarray(shelf, dtype=np.int16))
    assert difference.mean() < 8  # the same picture, through a lossy codec


def test_heic_taken_in_portrait_is_upright():
    """pillow-heif turns EXIF orientation into HEIF's own rotation (irot), which libheif applies."""
    upright = photos.shelf_image(600, 400, noise=0)
    upright.paste((255, 0, 0), (0, 0, 60, 60))
    data = photos.heic_bytes(upright.transpose(Image.Transpose.ROTATE_90), quality=90, orientation=6)
    prepared = prepare_photo(data, index=0)
    assert (prepared.width, prepared.height) == (600, 400)
    red, green, blue = prepared.pixels.getpixel((20, 20))
    assert red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_keep_their_type(fmt):
    prepared = prepare_photo(photos.encode(photos.shelf_image(900, 600), fmt), index=0)
    assert prepared.mime_type == prepared.source_mime_type == f"image/{fmt.lower()}"
    assert Image.open(io.BytesIO(prepared.encoded)).format == fmt


def test_transparent_png_is_flattened_onto_white():
    image = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (100, 100, 500, 500))
    prepared = prepare_photo(photos.encode(image, "PNG"), index=0)
    assert prepared.pixels.mode == "RGB"
    assert prepared.pixels.getpixel((10, 10)) == (255, 255, 255)
    assert prepared.pixels.getpixel((300, 300)) == (200, 30, 30)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation):
    upright = photos.shelf_image(1200, 800, noise=0)
    upright.paste((255, 0, 0), (0, 0, 120, 120))  # a red mark in the upright top-left corner
    data = photos.exif_rotated_jpeg(upright, orientation=orientation)
    stored = inspect_image(data)
    prepared = prepare_photo(data, index=0)
    assert (prepared.width, prepared.height) == (1200, 800)
    assert (prepared.original_width, prepared.original_height) == (1200, 800)
    if orientation != 3:
        assert (stored.width, stored.height) == (800, 1200)
    red, green, blue = prepared.pixels.getpixel((40, 40))
    assert red > 200 and green < 60 and blue < 60


def test_multi_picture_jpeg_is_its_first_picture():
    """MPO (a JPEG followed by more pictures, from some cameras) is a JPEG; the first picture is used."""
    first, second = photos.shelf_image(800, 600, noise=0), photos.shelf_image(800, 600, seed=3, noise=0)
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    prepared = prepare_photo(out.getvalue(), index=0)
    assert (prepared.mime_type, prepared.width, prepared.height) == ("image/jpeg", 800, 600)
    difference = np.abs(np.asarray(prepared.pixels, dtype=np.int16) - np.asarray(first, dtype=np.int16))
    assert difference.mean() < 4


def test_large_photo_is_shrunk_to_the_max_edge_keeping_its_aspect():
    data = photos.encode(photos.shelf_image(8000, 2000, noise=0), "JPEG")
    prepared = prepare_photo(data, index=0)
    assert (prepared.width, prepared.height) == (3072, 768)
    assert (prepared.original_width, prepared.original_height) == (8000, 2000)
    assert Image.open(io.BytesIO(prepared.encoded)).size == (3072, 768)


def test_max_edge_setting_is_read_at_call_time(settings):
    settings.SCAN_MAX_EDGE_PX = 1000
    prepared = prepare_photo(photos.fixture_bytes(photos.SHELF_PHOTOS[1]), index=0)
    assert (prepared.width, prepared.height) == (1000, 374)
