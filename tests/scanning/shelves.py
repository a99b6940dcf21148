"""Rendered shelves of known spines, for the OCR engine's tests and the bench.

`render_shelf` draws books standing on a shelf: each spine a coloured strip of its own height, the
title (large) and the author (smaller) running along it top to bottom, as printed on most English
spines; a wall behind, a plank below, optional camera noise and blur. It returns the photo with the
books on it (left to right) and each spine's box, so a test knows exactly what a reader should find.

The font is the one Pillow ships inside itself (`ImageFont.load_default(size=...)`, Aileron, SIL Open
Font License), so the same shelf renders the same on every machine, with no font file to install.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from scanning.dto import Box, PreparedPhoto


@dataclass(frozen=True)
class ShelfBook:
    title: str
    author: str
    isbn13: str | None = None


@dataclass(frozen=True)
class RenderedShelf:
    image: Image.Image
    books: tuple[ShelfBook, ...]
    boxes: tuple[Box, ...]  # each book's spine, normalised to the photo


# Books of the fakes' catalog (tests/fakes/data/catalog.py), so a title search through the fakes finds them.
CATALOG_SHELF: tuple[ShelfBook, ...] = (
    ShelfBook("Annihilation", "Jeff VanderMeer", "9780374104092"),
    ShelfBook("Fantastic Mr Fox", "Roald Dahl", "9780140328721"),
    ShelfBook("Sabriel", "Garth Nix", "9780060273224"),
    ShelfBook("Children of Time", "Adrian Tchaikovsky", "9780316452502"),
    ShelfBook("The Great Gatsby", "F. Scott Fitzgerald", "9780743273565"),
    ShelfBook("Dune", "Frank Herbert", "9780441172719"),
    ShelfBook("Project Hail Mary", "Andy Weir", "9780593135204"),
    ShelfBook("Piranesi", "Susanna Clarke", "9781635575637"),
    ShelfBook("Beloved", "Toni Morrison", "9781400033416"),
    ShelfBook("Things Fall Apart", "Chinua Achebe", "9780385474542"),
    ShelfBook("The Left Hand of Darkness", "Ursula K. Le Guin", "9780441478125"),
    ShelfBook("Americanah", "Chimamanda Ngozi Adichie", "9780307271082"),
    ShelfBook("Guards! Guards!", "Terry Pratchett", "9780552134637"),
    ShelfBook("Annie John", "Jamaica Kincaid", "9780374525101"),
)

# Books readable on the real shelf photo REAL_SHELF (tests/fixtures/upstream/images), as printed there,
# with made-up ISBNs for the catalog, and two books that are not on it.
REAL_SHELF = "bookshelf_shelf_photo_1538_1.jpg"
REAL_SHELF_BOOKS: tuple[ShelfBook, ...] = tuple(
    ShelfBook(title, author, f"97800001{i:04d}0")
    for i, (title, author) in enumerate(
        (
            ("The Birchbark House", "Louise Erdrich"),
            ("Miss Spitfire", "Sarah Miller"),
            ("A Single Shard", "Linda Sue Park"),
            ("Out of the Dust", "Karen Hesse"),
            ("Island of the Blue Dolphins", "Scott O'Dell"),
            ("Al Capone Does My Shirts", "Gennifer Choldenko"),
            ("The Fighting Ground", "Avi"),
            ("The Seer of Shadows", "Avi"),
            ("The Secret School", "Avi"),
            ("Chasing Lincoln's Killer", "James L. Swanson"),
            ("The Slave Dancer", "Paula Fox"),
            ("Lionboy", "Zizou Corder"),
            ("Kizzy Ann Stamps", "Jeri Watts"),
            ("Boys Without Names", "Kashmira Sheth"),
        )
    )
)
REAL_SHELF_DECOYS = (
    ShelfBook("Dune", "Frank Herbert", "9780441172719"),
    ShelfBook("Piranesi", "Susanna Clarke", "9781635575637"),
)

# (background, ink): dark on light and light on dark, as real spines are.
PALETTE = [
    ((236, 228, 205), (25, 25, 30)),
    ((30, 50, 90), (245, 240, 225)),
    ((150, 30, 35), (250, 245, 235)),
    ((245, 245, 240), (120, 20, 20)),
    ((35, 35, 35), (235, 200, 90)),
    ((200, 170, 60), (20, 20, 20)),
    ((60, 110, 70), (245, 245, 235)),
    ((210, 225, 235), (20, 40, 80)),
]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit(
    draw: ImageDraw.ImageDraw, text: str, size: int, max_length: int
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, int]:
    """The font at `size` or smaller so that `text` fits `max_length` pixels."""
    while size > 12:
        font = _font(size)
        length = draw.textlength(text, font=font)
        if length <= max_length:
            return font, int(length)
        size = int(size * 0.9)
    font = _font(12)
    return font, int(draw.textlength(text, font=font))


def _spine(
    book: ShelfBook, width: int, height: int, colours: tuple[tuple[int, int, int], tuple[int, int, int]]
) -> Image.Image:
    """One spine, drawn lying down (text left to right) and turned to stand (text top to bottom)."""
    background, ink = colours
    lying = Image.new("RGB", (height, width), background)
    draw = ImageDraw.Draw(lying)
    margin = int(height * 0.06)
    room = height - 3 * margin
    title_font, title_len = _fit(draw, book.title, int(width * 0.5), int(room * 0.68))
    author_font, author_len = _fit(draw, book.author, int(width * 0.3), room - title_len)
    draw.text((margin, width / 2), book.title, font=title_font, fill=ink, anchor="lm")
    draw.text((height - margin - author_len, width / 2), book.author, font=author_font, fill=ink, anchor="lm")
    draw.line([(margin // 2, 3), (height - margin // 2, 3)], fill=ink, width=2)
    draw.line([(margin // 2, width - 4), (height - margin // 2, width - 4)], fill=ink, width=2)
    return lying.rotate(-90, expand=True)  # clockwise: the text now reads top to bottom


def render_shelf(
    books: Sequence[ShelfBook] = CATALOG_SHELF,
    *,
    width: int = 3072,
    height: int = 2304,
    seed: int = 7,
    noise: float = 6.0,
    blur: float = 0.6,
) -> RenderedShelf:
    """A photo of `books` standing side by side on a shelf (see the module docstring)."""
    rng = random.Random(seed)
    photo = Image.new("RGB", (width, height), (196, 186, 170))
    draw = ImageDraw.Draw(photo)
    plank_top = int(height * 0.9)
    draw.rectangle([0, plank_top, width, height], fill=(110, 75, 45))
    side = int(width * 0.03)
    slot = (width - 2 * side) / len(books)
    boxes = []
    for i, book in enumerate(books):
        spine_width = int(slot * rng.uniform(0.82, 0.95))
        spine_height = int(plank_top * rng.uniform(0.72, 0.9))
        left = int(side + i * slot + (slot - spine_width) / 2)
        top = plank_top - spine_height
        colours = PALETTE[(i * 3 + seed) % len(PALETTE)]
        photo.paste(_spine(book, spine_width, spine_height, colours), (left, top))
        box = Box.from_pixels(left, top, left + spine_width, plank_top, width=width, height=height)
        assert box is not None
        boxes.append(box)
    if blur:
        photo = photo.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        grain = Image.effect_noise((width, height), noise).convert("RGB")
        photo = Image.blend(photo, grain, 0.08)
    return RenderedShelf(image=photo, books=tuple(books), boxes=tuple(boxes))


def prepared(image: Image.Image, *, index: int = 0, quality: int = 90) -> PreparedPhoto:
    """A `PreparedPhoto` of an upright RGB image, as `scanning.images.prepare_photo` gives one."""
    buffer = io.BytesIO()
    rgb = image.convert("RGB")
    rgb.save(buffer, format="JPEG", quality=quality)
    encoded = buffer.getvalue()
    return PreparedPhoto(
        index=index,
        pixels=rgb,
        encoded=encoded,
        mime_type="image/jpeg",
        width=rgb.width,
        height=rgb.height,
        original_width=rgb.width,
        original_height=rgb.height,
        source_mime_type="image/jpeg",
        sha256=hashlib.sha256(encoded).hexdigest(),
    )
