"""Image quality stage: real measurements of a prepared photo and, when unusable, why (docs/scanning.md).

Measured on a grey copy whose longest edge is `ANALYSIS_EDGE_PX` (area-averaged), so the sharpness
figure means the same for a 2 MP and a 12 MP photo and costs a few milliseconds:

- resolution: the prepared photo's shorter edge against `SCAN_MIN_EDGE_PX`;
- exposure: the mean grey level (0-255) and the shares of clipped pixels (<= `DARK_CLIP`, >= `BRIGHT_CLIP`)
  against `SCAN_DARK_MAX_MEAN` / `SCAN_DARK_MAX_FRACTION` and `SCAN_BRIGHT_MIN_MEAN` / `SCAN_BRIGHT_MAX_FRACTION`;
- sharpness: the variance of the 4-neighbour Laplacian against `SCAN_BLUR_MIN_VARIANCE` (low = few edges
  = blurry).

Checks run in that order: a dark photo also has few edges, and "too dark" is the advice that helps.
The thresholds were calibrated on the two real shelf photos of tests/fixtures/upstream/images/ and
on blurred, darkened and brightened copies of them (docs/scanning.md, "How the thresholds were chosen").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from scanning.config import scan_setting
from scanning.dto import QualityReport

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

    from scanning.dto import PreparedPhoto

ANALYSIS_EDGE_PX = 1024
DARK_CLIP = 15  # grey levels at or under it carry no detail
BRIGHT_CLIP = 245  # grey levels at or over it are washed out


@dataclass(frozen=True)
class QualityThresholds:
    min_edge_px: int = 480
    blur_min_variance: float = 60.0
    dark_max_mean: float = 40.0
    dark_max_fraction: float = 0.5
    bright_min_mean: float = 205.0
    bright_max_fraction: float = 0.4

    @classmethod
    def from_settings(cls) -> QualityThresholds:
        base = cls()
        return cls(
            min_edge_px=scan_setting("SCAN_MIN_EDGE_PX", base.min_edge_px),
            blur_min_variance=scan_setting("SCAN_BLUR_MIN_VARIANCE", base.blur_min_variance),
            dark_max_mean=scan_setting("SCAN_DARK_MAX_MEAN", base.dark_max_mean),
            dark_max_fraction=scan_setting("SCAN_DARK_MAX_FRACTION", base.dark_max_fraction),
            bright_min_mean=scan_setting("SCAN_BRIGHT_MIN_MEAN", base.bright_min_mean),
            bright_max_fraction=scan_setting("SCAN_BRIGHT_MAX_FRACTION", base.bright_max_fraction),
        )


@dataclass(frozen=True)
class Measurements:
    blur_variance: float
    mean_brightness: float
    dark_fraction: float
    bright_fraction: float


def analysis_grey(pixels: PilImage, *, edge: int = ANALYSIS_EDGE_PX) -> np.ndarray:
    """A float32 grey copy whose longest edge is at most `edge` (area average: no aliasing)."""
    grey = pixels.convert("L")
    longest = max(grey.size)
    if longest > edge:
        scale = edge / longest
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    return np.asarray(grey, dtype=np.float32)


def laplacian_variance(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian ([0 1 0; 1 -4 1; 0 1 0]) over the inner pixels."""
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    centre = grey[1:-1, 1:-1]
    laplacian = grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4.0 * centre
    return float(laplacian.var())


def measure(pixels: PilImage) -> Measurements:
    grey = analysis_grey(pixels)
    return Measurements(
        blur_variance=laplacian_variance(grey),
        mean_brightness=float(grey.mean()),
        dark_fraction=float((grey <= DARK_CLIP).mean()),
        bright_fraction=float((grey >= BRIGHT_CLIP).mean()),
    )


def assess_quality(photo: PreparedPhoto, *, thresholds: QualityThresholds | None = None) -> QualityReport:
    """Measure the photo; `usable` False comes with a `code` (`too_small`, `too_dark`, `too_bright`,
    `blurry`) and a sentence the app can show."""
    limits = thresholds or QualityThresholds.from_settings()
    figures = measure(photo.pixels)
    verdict = _verdict(photo.width, photo.height, figures, limits)
    return QualityReport(
        usable=verdict is None,
        width=photo.width,
        height=photo.height,
        megapixels=round(photo.width * photo.height / 1e6, 2),
        blur_variance=figures.blur_variance,
        mean_brightness=figures.mean_brightness,
        dark_fraction=figures.dark_fraction,
        bright_fraction=figures.bright_fraction,
        code=verdict[0] if verdict else None,
        reason=verdict[1] if verdict else None,
    )


def _verdict(width: int, height: int, figures: Measurements, limits: QualityThresholds) -> tuple[str, str] | None:
    if min(width, height) < limits.min_edge_px:
        return (
            "too_small",
            f"The photo is too small ({width} x {height} pixels): its shorter side needs at least "
            f"{limits.min_edge_px} pixels to read the spines. Send the photo at full resolution.",
        )
    if figures.mean_brightness < limits.dark_max_mean or figures.dark_fraction > limits.dark_max_fraction:
        return (
            "too_dark",
            f"The photo is too dark (brightness {figures.mean_brightness:.0f} of 255, "
            f"{figures.dark_fraction:.0%} nearly black). Add light and retake it.",
        )
    if figures.mean_brightness > limits.bright_min_mean or figures.bright_fraction > limits.bright_max_fraction:
        return (
            "too_bright",
            f"The photo is overexposed ({figures.bright_fraction:.0%} of it washed-out white). "
            "Avoid direct light or flash glare on the spines and retake it.",
        )
    if figures.blur_variance < limits.blur_min_variance:
        return (
            "blurry",
            f"The photo is blurry (sharpness {figures.blur_variance:.0f}, at least "
            f"{limits.blur_min_variance:.0f} needed). Hold the phone steady, let it focus on the spines and retake it.",
        )
    return None
