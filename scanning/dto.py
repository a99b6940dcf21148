"""The scan pipeline's typed values, shared by its stages (images -> quality -> barcodes/engine ->
books). Pure: no Django, no I/O.

Stage functions (each module owns its stage):
- `scanning.images.inspect_image(data) -> ImageHeader`: cheap sniff (no full decode) for the routes;
  raises `PhotoRejected`.
- `scanning.images.prepare_photo(data, *, index) -> PreparedPhoto`: full decode, EXIF orientation,
  downscale to `SCAN_MAX_EDGE_PX`; raises `PhotoRejected`.
- `scanning.quality.assess_quality(photo) -> QualityReport`.
- `scanning.barcodes.read_isbn_barcodes(photo) -> list[Barcode]`.
- `scanning.engines.select_engine() -> Engine`; `engine.detect(photo) -> EngineReply`; raises
  `PhotoFailed` for a reply that cannot be used (SAFETY, empty, malformed, timeout after retries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:  # Pillow is only needed by the stages that hold pixels.
    from PIL.Image import Image

DetectionSource = Literal["gemini", "ocr", "barcode"]


class PhotoRejected(Exception):
    """A body that cannot be used as a photo at all: not an image, corrupt, a decompression bomb.

    `code` is the contract error code the routes answer with (INVALID_FILE, FILE_TOO_LARGE...),
    `status` its HTTP status (400 or 413), `reason` a sentence the app can show.
    """

    def __init__(self, reason: str, *, code: str = "INVALID_FILE", status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


class PhotoFailed(Exception):
    """One photo failed in a later stage (quality, engine); the batch goes on without it.

    `code` is a stable machine word (`blurry`, `too_dark`, `too_small`, `model_safety`,
    `model_empty`, `model_malformed`, `model_unavailable`...), `reason` a sentence for the app.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Box:
    """A bounding box normalised to the photo: 0 <= x, y, width, height <= 1 (CONTRACT 9)."""

    x: float
    y: float
    width: float
    height: float

    @classmethod
    def from_box_2d(cls, box: list[float] | tuple[float, ...]) -> Box | None:
        """Gemini's native `box_2d` `[ymin, xmin, ymax, xmax]` on 0-1000, clamped; None if degenerate."""
        if len(box) != 4:
            return None
        ymin, xmin, ymax, xmax = (min(max(float(v), 0.0), 1000.0) / 1000.0 for v in box)
        if ymax <= ymin or xmax <= xmin:
            return None
        return cls(x=xmin, y=ymin, width=xmax - xmin, height=ymax - ymin)

    @classmethod
    def from_pixels(
        cls, left: float, top: float, right: float, bottom: float, *, width: int, height: int
    ) -> Box | None:
        """A pixel rectangle on a `width` x `height` photo, clamped to it; None if degenerate."""
        if width <= 0 or height <= 0:
            return None
        x0, x1 = (min(max(v / width, 0.0), 1.0) for v in (left, right))
        y0, y1 = (min(max(v / height, 0.0), 1.0) for v in (top, bottom))
        if x1 <= x0 or y1 <= y0:
            return None
        return cls(x=x0, y=y0, width=x1 - x0, height=y1 - y0)

    def to_wire(self) -> dict[str, float]:
        return {
            "x": round(self.x, 4),
            "y": round(self.y, 4),
            "width": round(self.width, 4),
            "height": round(self.height, 4),
        }


@dataclass(frozen=True)
class ImageHeader:
    """What the bytes really are, read without decoding the pixels."""

    mime_type: str  # image/jpeg | image/png | image/webp | image/heic
    width: int
    height: int


@dataclass(frozen=True, eq=False)
class PreparedPhoto:
    """A photo ready for the engines: upright (EXIF applied), RGB, longest edge <= SCAN_MAX_EDGE_PX.

    `encoded` and `mime_type` are what a model is sent (the true type, never a fixed image/jpeg);
    `pixels` is the same picture for pixel work (quality, barcodes, OCR).
    """

    index: int
    pixels: Image
    encoded: bytes
    mime_type: str
    width: int
    height: int
    original_width: int
    original_height: int
    source_mime_type: str
    sha256: str


@dataclass(frozen=True)
class QualityReport:
    """Real measurements of one photo; `usable` False comes with a `code` and a `reason`."""

    usable: bool
    width: int
    height: int
    megapixels: float
    blur_variance: float  # variance of the Laplacian of the grey image; low = blurry
    mean_brightness: float  # 0-255
    dark_fraction: float  # share of pixels under the dark clip level
    bright_fraction: float  # share of pixels over the bright clip level
    code: str | None = None
    reason: str | None = None

    def to_wire(self) -> dict[str, object]:
        return {
            "usable": self.usable,
            "width": self.width,
            "height": self.height,
            "blurScore": round(self.blur_variance, 1),
            "brightness": round(self.mean_brightness, 1),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Barcode:
    """An ISBN read from an EAN-13 barcode (978/979 prefix, check digit valid)."""

    isbn13: str
    box: Box | None
    raw_text: str


@dataclass(frozen=True)
class Detection:
    """One book an engine (or a barcode) found on a photo, before matching and enrichment.

    `confidence` is the engine's own figure (0-1) or None when it gave none: never a made-up
    default. For the OCR engine it is the fuzzy match score of the spine text against the book.
    """

    title: str
    author: str | None
    confidence: float | None
    box: Box | None
    source: DetectionSource
    spine_text: str | None = None
    isbn: str | None = None
    match_score: float | None = None


@dataclass(frozen=True)
class EngineReply:
    """An engine's answer for one photo, with what it cost."""

    detections: tuple[Detection, ...]
    model_used: str  # e.g. "gemini-2.5-flash" or "ocr-fallback"
    prompt_version: str | None = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


class Engine(Protocol):
    """A detector of books on one prepared photo."""

    name: str  # the `modelUsed` it reports

    def detect(self, photo: PreparedPhoto) -> EngineReply: ...
