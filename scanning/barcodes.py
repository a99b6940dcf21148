"""ISBN barcodes on a prepared photo: EAN-13 symbols (zxing-cpp) whose number is an ISBN-13.

Bookland EAN-13 starts with 978 or 979; the number must also pass the ISBN-13 check digit (the
project's ISBN rules, `search.isbn`), so a grocery EAN or a misread never becomes a book. Each ISBN is
reported once per photo, with its box normalised to the photo (`Box.from_pixels`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import zxingcpp

from scanning.dto import Barcode, Box
from search.isbn import isbn_is_valid

if TYPE_CHECKING:
    from scanning.dto import PreparedPhoto

# EAN-13 nominal symbol: bars 22.85 mm high for a 31.35 mm wide bar area (GS1 General Specifications,
# 5.2.1.4). zxing-cpp locates a linear code by the scan line(s) it decoded, which can be a few pixels
# high; the box is then grown to the symbol's nominal height around that line.
EAN13_HEIGHT_PER_WIDTH = 22.85 / 31.35
EAN13_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.EAN13)


def read_isbn_barcodes(photo: PreparedPhoto) -> list[Barcode]:
    """Every distinct ISBN-13 read from an EAN-13 barcode on the photo, in reading order (top, left)."""
    grey = photo.pixels.convert("L")
    found = zxingcpp.read_barcodes(
        grey,
        formats=EAN13_ONLY,
        try_rotate=True,
        try_downscale=True,
        try_invert=False,  # book barcodes are printed dark on light
    )
    barcodes: dict[str, Barcode] = {}
    for result in found:
        text = result.text.strip()
        if not result.valid or not isbn_from_ean13(text):
            continue
        box = _box(result.position, width=photo.width, height=photo.height)
        if text not in barcodes or (barcodes[text].box is None and box is not None):
            barcodes[text] = Barcode(isbn13=text, box=box, raw_text=result.text)
    return sorted(barcodes.values(), key=_reading_order)


def isbn_from_ean13(text: str) -> bool:
    """True for a 13-digit Bookland EAN (978/979) whose ISBN-13 check digit is right."""
    return len(text) == 13 and text.isdigit() and text[:3] in ("978", "979") and isbn_is_valid(text)


def _box(position: zxingcpp.Position, *, width: int, height: int) -> Box | None:
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    xs = [float(point.x) for point in corners]
    ys = [float(point.y) for point in corners]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    span_x, span_y = right - left, bottom - top
    nominal = EAN13_HEIGHT_PER_WIDTH * max(span_x, span_y)
    # A scan line across the bars (under a quarter of the nominal height): grow the short side to the
    # nominal height around it. A box that already has height is the symbol's own, kept as it is.
    if span_x >= span_y and span_y < nominal / 4:
        centre = (top + bottom) / 2
        top, bottom = centre - nominal / 2, centre + nominal / 2
    elif span_y > span_x and span_x < nominal / 4:  # the barcode stands on its side (a spine)
        centre = (left + right) / 2
        left, right = centre - nominal / 2, centre + nominal / 2
    return Box.from_pixels(left, top, right, bottom, width=width, height=height)


def _reading_order(barcode: Barcode) -> tuple[float, float, str]:
    if barcode.box is None:
        return (2.0, 2.0, barcode.isbn13)
    return (round(barcode.box.y, 2), barcode.box.x, barcode.isbn13)
