"""The offline engine (`modelUsed: "ocr-fallback"`): RapidOCR reads the spines, the catalog and the
title search say which books they are. No cloud key, no download: the ONNX models are the ones inside
the rapidocr wheel, named by path (so rapidocr's own downloader never runs), and onnxruntime's
telemetry is switched off before the first session is made.

Reading (`read_lines`): the photo is scaled to `SCAN_OCR_MAX_SIDE` and read upright with detection,
the 0/180 classifier and recognition; the detector finds vertical spine text as well, and the
recogniser turns tall crops before reading them. Then the photo is turned by each further angle of
`SCAN_OCR_ROTATIONS` (90 and 270: spines are vertical) and only detection runs; a line found there
that no earlier line covers is cut out and recognised alone. Each turn costs about one detection
pass, not a full read, and turns are skipped once `SCAN_OCR_TIME_BUDGET_SECONDS` would be exceeded
(noted in the reply). Every box is mapped back to the upright photo.

Matching (`match_spines`): lines are grouped into spines (`scanning.spines`), then each spine's
word runs are looked up as exact title keys in the stored catalog in one query
(`search.catalog.catalog_lookup_titles`); a spine no stored book names well enough is sent to the
title search (`search.services.book_search_by_title`, at most `SCAN_OCR_MAX_SEARCHES` per photo,
within `SCAN_OCR_SEARCH_SECONDS`). A spine's best candidate scoring at least `SCAN_OCR_MIN_MATCH`
becomes a Detection whose confidence is that match score. A spine that names no book is left out
(a publisher's logo or a shelf label is not a book) and counted in the reply's notes.

The model is loaded once per process, lazily, under a lock; reads share it under the same lock
(rapidocr keeps per-call options on the instance, so concurrent calls would trample each other).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from booktrack.core.exceptions import DomainError
from scanning.dto import Box, Detection, EngineReply, PhotoFailed, PreparedPhoto
from scanning.spines import (
    Candidate,
    Spine,
    SpineMatch,
    TextLine,
    best_match,
    dedupe_lines,
    group_spines,
    matched_part,
    search_query_for,
    spine_rest,
    title_keys_for,
)
from search.text import title_key

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image

logger = logging.getLogger(__name__)

NAME = "ocr-fallback"
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}
MIN_SPINE_LETTERS = 3
MAX_CATALOG_KEYS = 3000

_model_lock = threading.Lock()
_model: Any = None


def model_paths() -> dict[str, Path]:
    """The ONNX files inside the installed rapidocr package (they ship in its wheel)."""
    import rapidocr

    root = Path(rapidocr.__file__).parent / "models"
    return {stage: root / name for stage, name in MODEL_FILES.items()}


def ocr_model() -> Any:
    """The process's RapidOCR instance, made on first use."""
    global _model
    if _model is not None:
        return _model
    with _model_lock:
        if _model is None:
            import onnxruntime

            # Telemetry is a Windows ETW feature today; switched off anyway, so no build ever sends it.
            if hasattr(onnxruntime, "disable_telemetry_events"):
                onnxruntime.disable_telemetry_events()
            from rapidocr import RapidOCR

            paths = model_paths()
            missing = [str(p) for p in paths.values() if not p.is_file()]
            if missing:
                raise RuntimeError(f"rapidocr's bundled models are missing: {missing}")
            threads = int(settings.SCAN_OCR_THREADS) or -1
            params: dict[str, Any] = {
                "Global.log_level": "warning",
                "Global.max_side_len": int(settings.SCAN_OCR_MAX_SIDE),
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            params.update({f"{stage}.model_path": str(path) for stage, path in paths.items()})
            started = time.perf_counter()
            _model = RapidOCR(params=params)
            logger.info("ocr model loaded in %.2f s", time.perf_counter() - started)
    return _model


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    lines: tuple[TextLine, ...]
    rotations: tuple[int, ...]  # the turns that ran
    skipped: tuple[int, ...]  # the turns the time budget left out
    seconds: float


def _bgr(image: Image) -> np.ndarray:
    import numpy as np

    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _to_upright(
    points: Sequence[Sequence[float]], rotation: int, width: int, height: int
) -> tuple[float, float, float, float]:
    """A quad read on the photo turned `rotation` degrees counter-clockwise, as (left, top, right,
    bottom) on the upright `width` x `height` photo."""
    xs, ys = [], []
    for x, y in points:
        if rotation == 90:  # upright (ux, uy) -> turned (uy, width - ux)
            ux, uy = width - y, x
        elif rotation == 270:  # upright (ux, uy) -> turned (height - uy, ux)
            ux, uy = y, height - x
        else:
            ux, uy = x, y
        xs.append(ux)
        ys.append(uy)
    return (max(0.0, min(xs)), max(0.0, min(ys)), min(float(width), max(xs)), min(float(height), max(ys)))


def _runs(box: tuple[float, ...], rotation: int) -> int:
    """How a line runs (`TextLine.rotation`). A turn of 90 or 270 made it horizontal, so it runs that
    way; a line read upright runs top to bottom when its box is tall (the recogniser turned the crop,
    and the classifier righted it, so the side it starts from is unknown: English spines run top to
    bottom), else it is horizontal."""
    if rotation in (90, 270):
        return rotation
    left, top, right, bottom = box
    return 90 if (bottom - top) > 1.5 * (right - left) else 0


def _covered(box: tuple[float, ...], lines: Sequence[TextLine], share: float = 0.5) -> bool:
    left, top, right, bottom = box
    area = (right - left) * (bottom - top)
    if area <= 0:
        return True
    for line in lines:
        dx = max(0.0, min(right, line.right) - max(left, line.left))
        dy = max(0.0, min(bottom, line.bottom) - max(top, line.top))
        if dx * dy >= share * min(area, line.width * line.height):
            return True
    return False


def read_lines(image: Image, *, rotations: Sequence[int] | None = None, budget: float | None = None) -> Reading:
    """Every text line on `image` with its box on it (pixels), read as the module docstring says."""
    from PIL import Image as PILImage

    started = time.monotonic()
    turns = [r for r in (rotations if rotations is not None else settings.SCAN_OCR_ROTATIONS) if r in (0, 90, 270)]
    turns = [0] + [r for r in dict.fromkeys(turns) if r != 0] if 0 in turns or not turns else list(dict.fromkeys(turns))
    budget = float(settings.SCAN_OCR_TIME_BUDGET_SECONDS if budget is None else budget)
    max_side = int(settings.SCAN_OCR_MAX_SIDE)
    scale = min(1.0, max_side / max(image.size))
    small = image.convert("RGB")
    if scale < 1.0:
        small = small.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), PILImage.Resampling.BILINEAR
        )
    width, height = small.size
    model = ocr_model()
    lines: list[TextLine] = []
    ran: list[int] = []
    skipped: list[int] = []
    estimate = 0.0  # what the next turn should cost
    for rotation in turns:
        elapsed = time.monotonic() - started
        if ran and elapsed + estimate > budget:
            skipped.append(rotation)
            continue
        pass_started = time.monotonic()
        turned = (
            small
            if rotation == 0
            else small.transpose(PILImage.Transpose.ROTATE_90 if rotation == 90 else PILImage.Transpose.ROTATE_270)
        )
        pixels = _bgr(turned)
        if not ran:  # the first turn: a full read
            with _model_lock:
                out = model(pixels, use_det=True, use_cls=True, use_rec=True)  # options stick: name all three
            for quad, text, score in zip(
                out.boxes if out.boxes is not None else (), out.txts or (), out.scores or (), strict=False
            ):
                box = _to_upright(quad.tolist(), rotation, width, height)
                lines.append(TextLine(str(text).strip(), float(score), *box, rotation=_runs(box, rotation)))
        else:  # a further turn: detection, then only the lines no earlier read covers
            from rapidocr.utils.process_img import get_rotate_crop_image

            with _model_lock:
                found = model(pixels, use_det=True, use_cls=False, use_rec=False)
            for quad in found.boxes if found.boxes is not None else ():
                box = _to_upright(quad.tolist(), rotation, width, height)
                if _covered(box, lines):
                    continue
                crop = get_rotate_crop_image(pixels, quad.astype("float32"))
                with _model_lock:
                    read = model(crop, use_det=False, use_cls=True, use_rec=True)
                for text, score in zip(read.txts or (), read.scores or (), strict=False):
                    if float(score) >= 0.5 and str(text).strip():
                        lines.append(TextLine(str(text).strip(), float(score), *box, rotation=_runs(box, rotation)))
        ran.append(rotation)
        cost = time.monotonic() - pass_started
        # A detection-only turn costs about half a full read (recognition is the other half or more).
        estimate = cost * 0.5 if len(ran) == 1 else cost
    back = 1 / scale
    upright = tuple(
        TextLine(
            line.text,
            line.score,
            line.left * back,
            line.top * back,
            line.right * back,
            line.bottom * back,
            rotation=line.rotation,
        )
        for line in lines
        if line.text
    )
    return Reading(lines=upright, rotations=tuple(ran), skipped=tuple(skipped), seconds=time.monotonic() - started)


# --- matching -------------------------------------------------------------------------------------


def _candidates_from_hits(hits: Sequence[Any]) -> list[Candidate]:
    return [Candidate(title=h.work.title, authors=tuple(h.author_names), isbn13=h.isbn13) for h in hits]


def _catalog_candidates(spines: Sequence[Spine]) -> list[list[Candidate]]:
    """Per spine, the stored books whose title key is a run of the spine's words (one query)."""
    from search.catalog import catalog_lookup_titles

    keys_per_spine = [title_keys_for(s.text) for s in spines]
    wanted = list(dict.fromkeys(k for keys in keys_per_spine for k in keys))[:MAX_CATALOG_KEYS]
    found = catalog_lookup_titles(title_keys=wanted, per_key=3) if wanted else {}
    result = []
    for keys in keys_per_spine:
        hits = [hit for key in keys for hit in found.get(key, ())]
        result.append(_candidates_from_hits(hits))
    return result


def _searched_candidates(query: str, deadline: float) -> list[Candidate]:
    from search.services import book_search_by_title

    remaining = deadline - time.monotonic()
    if remaining <= 0.5 or len(title_key(query).replace(" ", "")) < 3:
        return []
    result = book_search_by_title(
        query=query, limit=5, deadline=time.monotonic() + min(remaining, settings.SEARCH_DEADLINE_SECONDS)
    )
    return _candidates_from_hits(result.hits)


@dataclass(frozen=True)
class Matched:
    detections: tuple[Detection, ...]
    unmatched: tuple[str, ...]  # the text of spines that named no book
    searches: int
    search_failures: int


def _detection(spine: Spine, match: SpineMatch, width: int, height: int) -> Detection:
    candidate = match.candidate
    return Detection(
        title=candidate.title,
        author=candidate.authors[0] if candidate.authors else None,
        confidence=match.score,
        box=Box.from_pixels(spine.left, spine.top, spine.right, spine.bottom, width=width, height=height),
        source="ocr",
        spine_text=spine.text,
        isbn=candidate.isbn13,
        match_score=match.score,
    )


def _named(
    spine: Spine, candidates: Sequence[Candidate], min_match: float
) -> tuple[list[tuple[Spine, SpineMatch]], Spine | None]:
    """The books `spine` names among `candidates`, and the part of it left unnamed. A spine that
    chained several books (their lines in one column) names each in turn: the best match's lines are
    taken out and the rest matched again, against the candidates not yet used."""
    named: list[tuple[Spine, SpineMatch]] = []
    rest: Spine | None = spine
    left = list(candidates)
    while rest is not None and left:
        match = best_match(rest.text, left)
        if match is None or match.score < min_match:
            break
        named.append((matched_part(rest, match), match))
        left = [c for c in left if c is not match.candidate]
        rest = spine_rest(rest, match)
    return named, rest


def match_spines(spines: Sequence[Spine], *, width: int, height: int) -> Matched:
    """Spines -> detections: the catalog first, then the title search (see the module docstring)."""
    min_match = float(settings.SCAN_OCR_MIN_MATCH)
    readable = [s for s in spines if _letters(s.text) >= MIN_SPINE_LETTERS]
    named: list[tuple[Spine, SpineMatch]] = []
    unnamed: list[Spine] = []
    for spine, candidates in zip(readable, _catalog_candidates(readable), strict=True):
        found, rest = _named(spine, candidates, min_match)
        named += found
        if rest is not None and _letters(rest.text) >= MIN_SPINE_LETTERS:
            unnamed.append(rest)
    # Spines (or parts) still unnamed, the best read (most well-read letters) first, get the searches.
    unnamed.sort(key=lambda s: s.score * len(s.text), reverse=True)
    deadline = time.monotonic() + float(settings.SCAN_OCR_SEARCH_SECONDS)
    searches = failures = 0
    asked: dict[str, list[Candidate]] = {}
    unmatched: list[str] = []
    for spine in unnamed:
        query = search_query_for(spine)
        key = title_key(query)
        if key not in asked:
            if searches >= int(settings.SCAN_OCR_MAX_SEARCHES) or time.monotonic() >= deadline:
                unmatched.append(spine.text)
                continue
            searches += 1
            try:
                asked[key] = _searched_candidates(query, deadline)
            except DomainError as exc:  # no provider answered: this spine stays unnamed
                logger.info("ocr spine search failed for %r: %s", query, exc.message)
                failures += 1
                asked[key] = []
        found, rest = _named(spine, asked[key], min_match)
        named += found
        if not found:
            unmatched.append(spine.text)
        elif rest is not None and _letters(rest.text) >= MIN_SPINE_LETTERS:
            unmatched.append(rest.text)
    kept: dict[str, tuple[Spine, SpineMatch]] = {}
    for spine, match in named:
        book = match.candidate.isbn13 or title_key(match.candidate.title)
        if book not in kept or match.score > kept[book][1].score:  # a book named by two spines: once
            kept[book] = (spine, match)
    ordered = sorted(kept.values(), key=lambda pair: (pair[0].left, pair[0].top))
    return Matched(
        detections=tuple(_detection(s, m, width, height) for s, m in ordered),
        unmatched=tuple(unmatched),
        searches=searches,
        search_failures=failures,
    )


def _letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


class OcrEngine:
    """Books on a photo, read offline (see the module docstring)."""

    name = NAME

    def detect(self, photo: PreparedPhoto) -> EngineReply:
        try:
            reading = read_lines(photo.pixels)
        except Exception as exc:  # the OCR runtime has many error types; the photo fails alone
            logger.exception("ocr failed on photo %s", photo.index)
            raise PhotoFailed("ocr_failed", "The photo could not be read by the offline engine.") from exc
        spines = group_spines(dedupe_lines(reading.lines))
        matched = match_spines(spines, width=photo.width, height=photo.height)
        turns = ", ".join(map(str, reading.rotations))
        notes = [f"read {len(reading.lines)} text lines in {reading.seconds:.1f} s (turns {turns})"]
        if reading.skipped:
            notes.append(f"turns {', '.join(map(str, reading.skipped))} skipped to stay within the time budget")
        if matched.unmatched:
            sample = "; ".join(t[:40] for t in matched.unmatched[:5])
            notes.append(f"{len(matched.unmatched)} spine(s) named no known book: {sample}")
        if matched.search_failures:
            notes.append(f"{matched.search_failures} title search(es) failed")
        return EngineReply(detections=matched.detections, model_used=NAME, notes=tuple(notes))
