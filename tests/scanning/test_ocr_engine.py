"""The offline OCR engine (scanning/engines/ocr.py) on a rendered shelf of known spines.

The model is loaded once for the module (with rapidocr's downloader refused) and the shelf is read
once; the tests share that reading, so the module costs one OCR pass set on a shared CPU.
"""

from __future__ import annotations

import threading

import pytest
from PIL import Image, ImageDraw

from scanning.engines import ocr
from scanning.engines.ocr import OcrEngine, match_spines, read_lines
from scanning.spines import dedupe_lines, group_spines
from search.catalog import catalog_upsert_hits
from search.text import title_key
from tests.factories import search_hit
from tests.scanning.shelves import (
    CATALOG_SHELF,
    REAL_SHELF,
    REAL_SHELF_BOOKS,
    REAL_SHELF_DECOYS,
    ShelfBook,
    prepared,
    render_shelf,
)

pytest.importorskip("rapidocr")

UNKNOWN = ShelfBook("Zzyzx Quorvant Plimsoll", "Nobody Ever")
BOOKS = (*CATALOG_SHELF[:9], UNKNOWN)


@pytest.fixture(scope="module")
def model():
    """The process's model, loaded with rapidocr's downloader refused: everything ships in the wheel."""
    from rapidocr.utils import download_file

    def refuse(*args, **kwargs):
        raise AssertionError("rapidocr tried to download a file")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(download_file.DownloadFile, "run", classmethod(refuse))
        patch.setattr(download_file.DownloadFile, "_make_http_request", classmethod(refuse))
        patch.setattr(ocr, "_model", None)
        loaded = ocr.ocr_model()
    ocr._model = loaded
    return loaded


@pytest.fixture(scope="module")
def shelf():
    return render_shelf(BOOKS, width=1600, height=1200)


@pytest.fixture(scope="module")
def reading(model, shelf):
    return read_lines(shelf.image, rotations=[0, 90, 270], budget=300)


@pytest.fixture(scope="module")
def spines(reading):
    return group_spines(dedupe_lines(reading.lines))


def overlap(a, b) -> float:
    dx = max(0.0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
    dy = max(0.0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
    return dx * dy / min(a.width * a.height, b.width * b.height)


def test_models_are_the_ones_inside_the_wheel(model):
    paths = ocr.model_paths()
    assert all(p.is_file() and "site-packages" in str(p) for p in paths.values())


def test_every_spine_of_the_shelf_is_read_in_every_turn(reading, spines):
    assert reading.rotations == (0, 90, 270) and reading.skipped == ()
    assert len(spines) == len(BOOKS)
    for spine, book in zip(spines, BOOKS, strict=True):
        assert title_key(book.title) in title_key(spine.text), (book.title, spine.text)
        assert spine.vertical


def test_spines_are_matched_to_the_books_stored_in_the_catalog(db, fake, spines, shelf):
    catalog_upsert_hits(hits=[search_hit(b.title, isbn=b.isbn13, authors=[b.author]) for b in CATALOG_SHELF])
    matched = match_spines(spines, width=shelf.image.width, height=shelf.image.height)
    assert [d.title for d in matched.detections] == [b.title for b in BOOKS[:9]]
    for detection, book, truth in zip(matched.detections, BOOKS, shelf.boxes, strict=False):
        assert detection.source == "ocr" and detection.isbn == book.isbn13 and detection.author == book.author
        assert detection.confidence == detection.match_score and detection.confidence >= 0.9
        assert overlap(detection.box, truth) > 0.5 and book.title.split()[-1].lower() in detection.spine_text.lower()
    # The unknown book is not in the catalog; its title search found nothing either.
    (unknown,) = matched.unmatched
    assert unknown.startswith("Zzyzx Quorvant Plimsoll") and unknown.endswith("Nobody Ever")
    assert matched.searches == 1 and fake.count("POST /gemini") == 0


def test_spines_the_catalog_does_not_know_are_found_by_title_search(db, fake, spines, shelf, settings):
    settings.SCAN_OCR_MAX_SEARCHES = 6
    matched = match_spines(spines, width=shelf.image.width, height=shelf.image.height)
    assert matched.searches == 6
    assert len(matched.detections) >= 5  # the fakes' search knows every catalog book searched
    assert all(d.isbn and d.confidence >= settings.SCAN_OCR_MIN_MATCH for d in matched.detections)


def test_detect_reports_ocr_fallback_with_its_notes(db, fake, reading, shelf, monkeypatch):
    monkeypatch.setattr(ocr, "read_lines", lambda image: reading)  # the module's one reading
    catalog_upsert_hits(hits=[search_hit(b.title, isbn=b.isbn13, authors=[b.author]) for b in CATALOG_SHELF])
    reply = OcrEngine().detect(prepared(shelf.image))
    assert reply.model_used == "ocr-fallback" and reply.prompt_version is None and reply.prompt_tokens == 0
    assert len(reply.detections) == 9
    assert any("named no known book: Zzyzx" in note for note in reply.notes)


def test_further_turns_are_skipped_past_the_time_budget(model):
    image = Image.new("RGB", (320, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "HELLO", fill="black")
    quick = read_lines(image, rotations=[0, 90, 270], budget=0)
    assert quick.rotations == (0,) and quick.skipped == (90, 270)


@pytest.mark.parametrize("turn", [90, 270])
def test_boxes_read_on_a_turned_photo_map_back_to_the_upright_one(turn):
    upright = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(upright).rectangle([300, 40, 330, 200], fill="black")
    turned = upright.transpose(Image.Transpose.ROTATE_90 if turn == 90 else Image.Transpose.ROTATE_270)
    left, top, right, bottom = turned.convert("L").point(lambda v: 255 - v).getbbox()
    quad = [(left, top), (right, top), (right, bottom), (left, bottom)]
    assert ocr._to_upright(quad, turn, 400, 300) == (300, 40, 331, 201)


def test_the_model_is_loaded_once_however_many_threads_ask(monkeypatch):
    import rapidocr

    made = []

    class SlowModel:
        def __init__(self, params):
            made.append(params)
            threading.Event().wait(0.2)

    monkeypatch.setattr(rapidocr, "RapidOCR", SlowModel)
    monkeypatch.setattr(ocr, "_model", None)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(ocr.ocr_model())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len({id(m) for m in seen}) == 1
    assert made[0]["Det.model_path"].endswith("PP-OCRv6_det_small.onnx")


def test_an_ocr_runtime_error_fails_the_photo_alone(monkeypatch):
    from scanning.dto import PhotoFailed

    def broken(image):
        raise RuntimeError("onnxruntime: bad input")

    monkeypatch.setattr(ocr, "read_lines", broken)
    with pytest.raises(PhotoFailed) as raised:
        OcrEngine().detect(prepared(Image.new("RGB", (64, 64))))
    assert raised.value.code == "ocr_failed" and raised.value.reason


# The real shelf photo (tests/fixtures/upstream/images): 14 of the books on it are stored in the
# catalog, with two books that are not on it; the engine must name most of the 14 and neither decoy.
def test_real_shelf_photo_names_the_stored_books_on_it_and_no_other(db, fake, model, settings):
    from scanning.images import prepare_photo
    from tests.scanning.photos import fixture_bytes

    settings.SCAN_OCR_ROTATIONS = [0, 90]
    settings.SCAN_OCR_TIME_BUDGET_SECONDS = 300
    books = REAL_SHELF_BOOKS + REAL_SHELF_DECOYS
    catalog_upsert_hits(hits=[search_hit(b.title, isbn=b.isbn13, authors=[b.author]) for b in books])
    reply = OcrEngine().detect(prepare_photo(fixture_bytes(REAL_SHELF), index=0))
    found = {d.title for d in reply.detections}
    assert len(found & {b.title for b in REAL_SHELF_BOOKS}) >= 11, sorted(found)
    assert not found & {b.title for b in REAL_SHELF_DECOYS}
    for d in reply.detections:
        assert d.box is not None and 0 <= d.box.x <= d.box.x + d.box.width <= 1 and 0 <= d.box.y + d.box.height <= 1
        assert d.spine_text and d.confidence is not None and d.confidence >= settings.SCAN_OCR_MIN_MATCH
