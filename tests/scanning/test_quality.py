"""Quality stage: real measurements; real shelf photos pass, degraded ones fail with a code and a reason."""

from __future__ import annotations

import pytest

from scanning.images import prepare_photo
from scanning.quality import QualityThresholds, assess_quality
from tests.scanning import photos


def _report(image, **kwargs):
    return assess_quality(prepare_photo(photos.encode(image, "JPEG", quality=92), index=0), **kwargs)


@pytest.mark.parametrize("name", photos.SHELF_PHOTOS)
def test_real_shelf_photos_are_usable(name):
    report = assess_quality(prepare_photo(photos.fixture_bytes(name), index=0))
    assert report.usable, report.reason
    assert report.code is None and report.reason is None
    assert report.blur_variance > 10 * QualityThresholds().blur_min_variance  # far from the threshold
    assert 60 < report.mean_brightness < 180
    assert report.dark_fraction < 0.1 and report.bright_fraction < 0.05


def test_generated_shelf_is_usable():
    assert _report(photos.shelf_image()).usable


@pytest.mark.parametrize("name", photos.SHELF_PHOTOS)
@pytest.mark.parametrize(
    ("degrade", "code", "words"),
    [
        (lambda image: photos.blurred(image, 6), "blurry", "blurry"),
        (lambda image: photos.darkened(image, 0.2), "too_dark", "too dark"),
        (lambda image: photos.brightened(image, 3.0), "too_bright", "overexposed"),
        (lambda image: photos.tiny(image, 320), "too_small", "too small"),
    ],
    ids=["blurred", "dark", "bright", "tiny"],
)
def test_degraded_real_photos_fail_with_a_code_and_a_sentence(name, degrade, code, words):
    report = _report(degrade(photos.fixture_image(name)))
    assert not report.usable
    assert report.code == code
    assert words in report.reason and report.reason.endswith(".")
    assert report.to_wire()["reason"] == report.reason and report.to_wire()["usable"] is False


@pytest.mark.parametrize(
    ("degrade", "code"),
    [
        (lambda image: photos.blurred(image, 5), "blurry"),
        (lambda image: photos.darkened(image, 0.2), "too_dark"),
        (lambda image: photos.brightened(image, 3.0), "too_bright"),
        (lambda image: photos.tiny(image, 400), "too_small"),
    ],
    ids=["blurred", "dark", "bright", "tiny"],
)
def test_degraded_generated_shelf_fails(degrade, code):
    assert _report(degrade(photos.shelf_image())).code == code


def test_mild_blur_and_dim_light_still_pass():
    """The thresholds refuse what a reader could not use, not every imperfect photo."""
    image = photos.fixture_image(photos.SHELF_PHOTOS[0])
    assert _report(photos.blurred(image, 2)).usable
    assert _report(photos.darkened(image, 0.5)).usable
    assert _report(photos.brightened(image, 1.4)).usable


def test_sharpness_figure_is_comparable_across_resolutions():
    image = photos.fixture_image(photos.SHELF_PHOTOS[0])
    full = _report(image).blur_variance
    half = _report(image.resize((image.width // 2, image.height // 2))).blur_variance
    assert 0.6 < half / full < 1.6


def test_to_wire_rounds_the_measurements():
    wire = _report(photos.fixture_image(photos.SHELF_PHOTOS[1])).to_wire()
    assert set(wire) == {"usable", "width", "height", "blurScore", "brightness", "reason"}
    assert (wire["width"], wire["height"]) == (2900, 1085)
    assert wire["blurScore"] == round(wire["blurScore"], 1)


def test_thresholds_come_from_settings_at_call_time(settings):
    prepared = prepare_photo(photos.fixture_bytes(photos.SHELF_PHOTOS[0]), index=0)
    assert assess_quality(prepared).usable
    settings.SCAN_BLUR_MIN_VARIANCE = 1e6
    assert assess_quality(prepared).code == "blurry"
    settings.SCAN_MIN_EDGE_PX = 2000
    assert assess_quality(prepared).code == "too_small"


def test_thresholds_can_be_passed_without_django_settings():
    prepared = prepare_photo(photos.fixture_bytes(photos.SHELF_PHOTOS[0]), index=0)
    assert assess_quality(prepared, thresholds=QualityThresholds(dark_max_mean=200.0)).code == "too_dark"
