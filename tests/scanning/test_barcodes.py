"""ISBN barcodes on photos: EAN-13 Bookland codes with a valid check digit, once each, with their box."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from scanning.barcodes import _box, isbn_from_ean13, read_isbn_barcodes
from scanning.images import prepare_photo
from tests.scanning import photos

ISBN_978 = "9780306406157"
ISBN_979 = "9791032305690"
GROCERY_EAN = "4006381333931"  # a valid EAN-13 that is no ISBN


def _prepared(image, fmt="JPEG"):
    return prepare_photo(photos.encode(image, fmt), index=0)


def test_isbn_barcodes_are_read_once_each_and_other_eans_ignored():
    image = photos.shelf_with_barcodes((ISBN_978, GROCERY_EAN, ISBN_979, ISBN_978))
    barcodes = read_isbn_barcodes(_prepared(image))
    assert sorted(barcode.isbn13 for barcode in barcodes) == [ISBN_978, ISBN_979]
    assert all(barcode.raw_text == barcode.isbn13 for barcode in barcodes)


def test_barcode_box_is_normalised_and_where_the_label_is():
    image = photos.shelf_with_barcodes((GROCERY_EAN, ISBN_979), width=2400, height=1200)
    (barcode,) = read_isbn_barcodes(_prepared(image))
    box = barcode.box
    assert box is not None
    assert all(0.0 <= value <= 1.0 for value in (box.x, box.y, box.width, box.height))
    assert box.x + box.width <= 1.0 and box.y + box.height <= 1.0
    # The second of two labels is centred at 2/3 of the width and half the height.
    assert box.x < 2 / 3 < box.x + box.width
    assert box.y < 1 / 2 < box.y + box.height
    assert 0.05 < box.width < 0.25


def test_barcode_standing_on_a_spine_is_read():
    image = photos.shelf_image(2400, 1200, noise=0)
    label = photos.ean13_label(ISBN_978).rotate(90, expand=True)
    image.paste(label, (700, 300))
    (barcode,) = read_isbn_barcodes(_prepared(photos.add_noise(image, sigma=4.0)))
    assert barcode.isbn13 == ISBN_978
    assert barcode.box is not None and barcode.box.height > barcode.box.width


def test_small_tilted_soft_barcode_is_read():
    """As a phone sees a back cover held by hand: small, turned 15 degrees, slightly soft, JPEG q85."""
    image = photos.shelf_image(2400, 1200, noise=0)
    label = photos.ean13_label(ISBN_978, scale=2).rotate(15, expand=True, fillcolor=(200, 200, 200))
    image.paste(label, (900, 400))
    image = photos.add_noise(photos.blurred(image, 1.0), sigma=5.0)
    photo = prepare_photo(photos.encode(image, "JPEG", quality=85), index=0)
    assert [barcode.isbn13 for barcode in read_isbn_barcodes(photo)] == [ISBN_978]


def test_barcode_in_a_heic_photo_is_read():
    image = photos.shelf_with_barcodes((ISBN_978,), width=1600, height=800)
    assert [barcode.isbn13 for barcode in read_isbn_barcodes(_prepared_heic(image))] == [ISBN_978]


def _prepared_heic(image):
    return prepare_photo(photos.heic_bytes(image, quality=90), index=0)


@pytest.mark.parametrize("name", photos.SHELF_PHOTOS)
def test_real_shelf_photos_have_no_barcode(name):
    assert read_isbn_barcodes(prepare_photo(photos.fixture_bytes(name), index=0)) == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (ISBN_978, True),
        (ISBN_979, True),
        ("9780306406158", False),  # check digit wrong
        (GROCERY_EAN, False),
        ("978030640615", False),  # 12 digits
        ("97803064061 7", False),
    ],
)
def test_isbn_from_ean13(text, ok):
    assert isbn_from_ean13(text) is ok


def _position(*corners):
    points = [SimpleNamespace(x=x, y=y) for x, y in corners]
    return SimpleNamespace(top_left=points[0], top_right=points[1], bottom_right=points[2], bottom_left=points[3])


def test_box_from_a_scan_line_is_grown_to_the_symbol_height():
    box = _box(_position((100, 500), (400, 500), (400, 501), (100, 501)), width=1000, height=1000)
    assert box is not None
    assert box.x == pytest.approx(0.1) and box.width == pytest.approx(0.3)
    assert box.height == pytest.approx(0.3 * 22.85 / 31.35)
    assert box.y + box.height / 2 == pytest.approx(0.5005)


def test_box_that_has_height_is_kept():
    box = _box(_position((100, 400), (400, 400), (400, 550), (100, 550)), width=1000, height=1000)
    assert box is not None and (box.y, box.height) == (pytest.approx(0.4), pytest.approx(0.15))
