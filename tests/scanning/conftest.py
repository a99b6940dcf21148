"""Fake scan stages for the pipeline's unit tests (the real ones live in scanning.images, .quality,
.barcodes and .engines, tested on their own).

A fake photo is a small byte string: `photo_bytes(n, *marks)` starts with a PNG signature (so the fake
sniff takes it as an image) and carries marks the fake stages react to:

- b"BOMB": the sniff refuses it with a 413; b"CORRUPT": prepare refuses it;
- b"BLURRY": quality says unusable; b"BARCODE": one EAN-13 is read;
- b"SAFETY": the engine raises PhotoFailed; b"CRASH": the engine raises a plain exception.

The fake engine returns the detections scripted for the photo's index in `FakeEngine.replies`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from scanning.books import BookCandidate, BookMatch
from scanning.dto import (
    Barcode,
    Box,
    Detection,
    EngineReply,
    ImageHeader,
    PhotoFailed,
    PhotoRejected,
    PreparedPhoto,
    QualityReport,
)
from scanning.services import ScanStages
from tests.factories import search_hit

PNG = b"\x89PNG\r\n\x1a\n"
BARCODE_ISBN = "9780441172719"


def photo_bytes(n: int, *marks: bytes) -> bytes:
    return PNG + f"photo-{n}".encode() + b"".join(marks)


def detection(title: str, author: str | None = None, confidence: float | None = 0.9, **kwargs) -> Detection:
    kwargs.setdefault("box", Box(x=0.1, y=0.1, width=0.1, height=0.8))
    kwargs.setdefault("source", "gemini")
    return Detection(title=title, author=author, confidence=confidence, **kwargs)


def fake_inspect(data: bytes) -> ImageHeader:
    if b"BOMB" in data:
        raise PhotoRejected("The image has too many pixels to open safely.", code="FILE_TOO_LARGE", status=413)
    if not data.startswith(PNG):
        raise PhotoRejected("The body is not an image (no JPEG, PNG, WebP or HEIC signature).")
    return ImageHeader(mime_type="image/png", width=4000, height=3000)


def fake_prepare(data: bytes, index: int) -> PreparedPhoto:
    if b"CORRUPT" in data:
        raise PhotoRejected("The image is truncated.")
    return PreparedPhoto(
        index=index,
        pixels=data,  # the fakes read the marks from here
        encoded=data,
        mime_type="image/png",
        width=3072,
        height=2304,
        original_width=4000,
        original_height=3000,
        source_mime_type="image/png",
        sha256="0" * 64,
    )


def fake_quality(photo: PreparedPhoto) -> QualityReport:
    blurry = b"BLURRY" in photo.pixels
    return QualityReport(
        usable=not blurry,
        width=photo.width,
        height=photo.height,
        megapixels=photo.width * photo.height / 1e6,
        blur_variance=12.0 if blurry else 480.0,
        mean_brightness=120.0,
        dark_fraction=0.01,
        bright_fraction=0.01,
        code="blurry" if blurry else None,
        reason="The photo is too blurry to read the spines; hold the phone still." if blurry else None,
    )


def fake_barcodes(photo: PreparedPhoto) -> list[Barcode]:
    if b"BARCODE" in photo.pixels:
        return [Barcode(isbn13=BARCODE_ISBN, box=Box(x=0.12, y=0.7, width=0.05, height=0.05), raw_text=BARCODE_ISBN)]
    return []


@dataclass
class FakeEngine:
    name: str = "gemini-2.5-flash"
    replies: dict[int, list[Detection]] = field(default_factory=dict)
    notes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    calls: list[int] = field(default_factory=list)

    def detect(self, photo: PreparedPhoto) -> EngineReply:
        self.calls.append(photo.index)
        if b"SAFETY" in photo.pixels:
            raise PhotoFailed("model_safety", "The model refused this photo (safety).")
        if b"CRASH" in photo.pixels:
            raise RuntimeError("engine bug")
        return EngineReply(
            detections=tuple(self.replies.get(photo.index, [])),
            model_used=self.name,
            prompt_tokens=1000,
            output_tokens=200,
            notes=self.notes.get(photo.index, ()),
        )


@dataclass
class FakeLookup:
    """Catalog knows `catalog_titles`; search knows `search_titles` (title -> hit); `fail` raises."""

    catalog_titles: dict[str, object] = field(default_factory=dict)
    search_titles: dict[str, object] = field(default_factory=dict)
    searched: list[str] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)

    def catalog(self, candidates):
        return {
            c.key: BookMatch(
                status="success",
                hit=self.catalog_titles[c.title],
                provider="catalog",
                method="catalog_title",
                score=1.0,
            )
            for c in candidates
            if c.title in self.catalog_titles
        }

    def search(self, candidate: BookCandidate, *, deadline: float) -> BookMatch:
        self.searched.append(candidate.title or candidate.isbn or "")
        if candidate.title in self.fail:
            raise RuntimeError("provider exploded")
        hit = self.search_titles.get(candidate.title) or self.search_titles.get(candidate.isbn or "")
        if hit is None:
            return BookMatch(status="not_found")
        return BookMatch(status="success", hit=hit, provider="google-books", method="search_title", score=0.97)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def lookup() -> FakeLookup:
    return FakeLookup(
        search_titles={
            "Dune": search_hit(
                "Dune",
                isbn="9780441172719",
                authors=["Frank Herbert"],
                publisher="Ace",
                cover="http://c/dune.jpg",
                year=1965,
            ),
            BARCODE_ISBN: search_hit("Dune", isbn=BARCODE_ISBN, authors=["Frank Herbert"]),
        }
    )


@pytest.fixture
def stages(engine, lookup) -> ScanStages:
    return ScanStages(
        inspect=fake_inspect,
        prepare=fake_prepare,
        quality=fake_quality,
        barcodes=fake_barcodes,
        engine=lambda: engine,
        lookup=lookup,
    )


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path
