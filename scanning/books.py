"""Detections to books (pure): photo records, barcodes onto spines, de-duplication across photos,
review status and the DetectedBook of CONTRACT 9. No Django, no I/O: the scan service feeds it.

- A photo's outcome (`PhotoRecord`) is stored as the job's item the moment the photo is finished, in
  the JSON form of `photo_record_to_json`, so a redelivered task rebuilds it with `photo_record_from_json`
  instead of sending the photo to the model again.
- `barcodes_attach`: a barcode whose centre lies inside exactly one detection's box on the same photo
  gives that detection its ISBN (confirmed); any other barcode is a book of its own.
- `books_dedupe`: one book per ISBN, else per title key + author name key (search.text); a detection
  without an ISBN joins the one ISBN book of its title + author, and one without an author the one
  book of its title, when there is exactly one; `books_merge_matched` then joins books whose lookups
  found the same ISBN.
- `review_status`: `verified` when a barcode confirmed the ISBN or the engine's confidence reaches the
  threshold; `needsReview` otherwise, a missing confidence included (never a made-up figure).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, cast

from scanning.dto import Barcode, Box, Detection, DetectionSource, QualityReport
from search.dto import SearchHit
from search.isbn import isbn_to_13
from search.text import name_key, title_key

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
Json = dict[str, JsonValue]

PhotoStatus = Literal["done", "failed", "pending"]
EnrichmentStatus = Literal["pending", "success", "not_found", "error"]
ReviewStatus = Literal["verified", "needsReview"]
SOURCES: tuple[DetectionSource, ...] = ("gemini", "ocr", "barcode")


# --- boxes -----------------------------------------------------------------------------------------


def box_checked(box: Box | None) -> Box | None:
    """The box cropped to the photo (0-1 on both axes), or None when it is missing, not finite or empty.

    Engines build boxes through `Box.from_box_2d` / `Box.from_pixels`, which clamp already; this is the
    last guard before the wire, so `every box within 0-1 or null` holds whatever an engine sent.
    """
    if box is None:
        return None
    values = (box.x, box.y, box.width, box.height)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        return None
    x0, y0 = min(max(box.x, 0.0), 1.0), min(max(box.y, 0.0), 1.0)
    x1, y1 = min(max(box.x + box.width, 0.0), 1.0), min(max(box.y + box.height, 0.0), 1.0)
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(x=x0, y=y0, width=x1 - x0, height=y1 - y0)


def box_in_range(box: Mapping[str, object] | None) -> bool:
    """A wire `boundingBox` within the photo (what the results promise): all of it inside 0-1."""
    if box is None:
        return True
    try:
        x, y, w, h = (float(cast(float, box[k])) for k in ("x", "y", "width", "height"))
    except (KeyError, TypeError, ValueError):
        return False
    eps = 1e-3  # to_wire rounds to 4 decimals
    return 0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1 and x + w <= 1 + eps and y + h <= 1 + eps


def _box_to_json(box: Box | None) -> JsonValue:
    checked = box_checked(box)
    return cast(JsonValue, checked.to_wire()) if checked is not None else None


def _box_from_json(value: object) -> Box | None:
    if not isinstance(value, dict):
        return None
    try:
        box = Box(x=float(value["x"]), y=float(value["y"]), width=float(value["width"]), height=float(value["height"]))
    except (KeyError, TypeError, ValueError):
        return None
    return box_checked(box)


def _contains(box: Box | None, x: float, y: float) -> bool:
    return box is not None and box.x <= x <= box.x + box.width and box.y <= y <= box.y + box.height


# --- photo records (a job item each) ---------------------------------------------------------------


def detection_to_json(detection: Detection) -> Json:
    return {
        "title": detection.title,
        "author": detection.author,
        "confidence": detection.confidence,
        "box": _box_to_json(detection.box),
        "source": detection.source,
        "spineText": detection.spine_text,
        "isbn": detection.isbn,
        "matchScore": detection.match_score,
    }


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _float_or_none(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def detection_from_json(value: Mapping[str, object]) -> Detection:
    source: DetectionSource = next((s for s in SOURCES if s == value.get("source")), "gemini")
    return Detection(
        title=str(value.get("title") or ""),
        author=_str_or_none(value.get("author")),
        confidence=_float_or_none(value.get("confidence")),
        box=_box_from_json(value.get("box")),
        source=source,
        spine_text=_str_or_none(value.get("spineText")),
        isbn=_str_or_none(value.get("isbn")),
        match_score=_float_or_none(value.get("matchScore")),
    )


@dataclass(frozen=True)
class PhotoRecord:
    """What one photo gave: its quality report, its detections (barcodes attached) or its error."""

    index: int
    status: PhotoStatus
    quality: Json | None = None  # QualityReport.to_wire()
    error_code: str | None = None
    error: str | None = None
    detections: tuple[Detection, ...] = ()
    confirmed: frozenset[int] = frozenset()  # positions in `detections` whose ISBN a barcode confirmed
    barcodes: tuple[str, ...] = ()  # ISBN-13s read from barcodes
    model_used: str | None = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    timings_ms: Mapping[str, int] = field(default_factory=dict)
    # What the engine said about its reading, for the app to show (e.g. the OCR engine's spines that
    # named no known book, title searches that failed).
    notes: tuple[str, ...] = ()

    @property
    def books_found(self) -> int:
        return len(self.detections)

    def to_wire(self) -> Json:
        """The `photos[]` entry of the results."""
        return {
            "index": self.index,
            "status": self.status,
            "quality": self.quality,
            "error": self.error,
            "errorCode": self.error_code,
            "booksFound": self.books_found,
            "barcodes": list(self.barcodes),
            "modelUsed": self.model_used,
            "notes": list(self.notes),
        }


def quality_to_json(report: QualityReport | None) -> Json | None:
    return cast(Json, report.to_wire()) if report is not None else None


def photo_record_to_json(record: PhotoRecord) -> Json:
    return {
        "index": record.index,
        "status": record.status,
        "quality": record.quality,
        "errorCode": record.error_code,
        "error": record.error,
        "detections": [detection_to_json(d) for d in record.detections],
        "confirmed": list[JsonValue](sorted(record.confirmed)),
        "barcodes": list(record.barcodes),
        "modelUsed": record.model_used,
        "promptTokens": record.prompt_tokens,
        "outputTokens": record.output_tokens,
        "timingsMs": dict(record.timings_ms),
        "notes": list(record.notes),
    }


def photo_record_from_json(value: object, *, index: int) -> PhotoRecord:
    """A stored item back into a record; anything unreadable is a failed photo, never a crash."""
    if not isinstance(value, dict):
        return PhotoRecord(index=index, status="failed", error_code="unreadable", error="Stored result unreadable.")
    raw_detections = value.get("detections")
    detections = tuple(
        detection_from_json(d)
        for d in (raw_detections if isinstance(raw_detections, list) else [])
        if isinstance(d, dict)
    )
    status = value.get("status")
    raw_confirmed = value.get("confirmed")
    confirmed = frozenset(
        i
        for i in (raw_confirmed if isinstance(raw_confirmed, list) else [])
        if isinstance(i, int) and 0 <= i < len(detections)
    )
    quality = value.get("quality")
    timings = value.get("timingsMs")
    barcodes = value.get("barcodes")
    notes = value.get("notes")
    return PhotoRecord(
        index=index,
        status=cast(PhotoStatus, status) if status in ("done", "failed") else "failed",
        quality=quality if isinstance(quality, dict) else None,
        error_code=_str_or_none(value.get("errorCode")),
        error=_str_or_none(value.get("error")),
        detections=detections,
        confirmed=confirmed,
        barcodes=tuple(b for b in (barcodes if isinstance(barcodes, list) else []) if isinstance(b, str)),
        model_used=_str_or_none(value.get("modelUsed")),
        prompt_tokens=int(value.get("promptTokens") or 0) if isinstance(value.get("promptTokens"), int) else 0,
        output_tokens=int(value.get("outputTokens") or 0) if isinstance(value.get("outputTokens"), int) else 0,
        timings_ms={k: int(v) for k, v in timings.items() if isinstance(v, int)} if isinstance(timings, dict) else {},
        notes=tuple(n for n in (notes if isinstance(notes, list) else []) if isinstance(n, str)),
    )


# --- barcodes onto detections ----------------------------------------------------------------------


def barcodes_attach(
    detections: Sequence[Detection], barcodes: Sequence[Barcode]
) -> tuple[tuple[Detection, ...], frozenset[int]]:
    """Detections with each barcode's ISBN given to the one detection whose box holds the barcode's
    centre; a barcode no single detection holds becomes a detection of its own (source `barcode`).

    Returns the detections and the positions whose ISBN a barcode confirmed.
    """
    result = list(detections)
    confirmed: set[int] = set()
    seen: set[str] = set()
    for barcode in barcodes:
        isbn = isbn_to_13(barcode.isbn13)
        if isbn is None or isbn in seen:
            continue
        seen.add(isbn)
        holders: list[int] = []
        if barcode.box is not None:
            cx, cy = barcode.box.x + barcode.box.width / 2, barcode.box.y + barcode.box.height / 2
            holders = [i for i, d in enumerate(detections) if d.source != "barcode" and _contains(d.box, cx, cy)]
        if len(holders) == 1 and result[holders[0]].isbn in (None, isbn):
            result[holders[0]] = replace(result[holders[0]], isbn=isbn)
            confirmed.add(holders[0])
            continue
        already = [i for i, d in enumerate(result) if d.isbn and isbn_to_13(d.isbn) == isbn]
        if already:
            confirmed.update(already)
            continue
        result.append(
            Detection(
                title="",
                author=None,
                confidence=None,
                box=barcode.box,
                source="barcode",
                spine_text=barcode.raw_text or None,
                isbn=isbn,
            )
        )
        confirmed.add(len(result) - 1)
    return tuple(result), frozenset(confirmed)


# --- de-duplication across photos ------------------------------------------------------------------


@dataclass(frozen=True)
class Sighting:
    """One detection of a book on one photo."""

    photo_index: int
    detection: Detection
    barcode_confirmed: bool


@dataclass(frozen=True)
class BookCandidate:
    """One book after de-duplication, before lookup: its best sighting first."""

    key: str
    sightings: tuple[Sighting, ...]

    @property
    def best(self) -> Sighting:
        return self.sightings[0]

    @property
    def title(self) -> str:
        return next((s.detection.title for s in self.sightings if s.detection.title), "")

    @property
    def author(self) -> str | None:
        return next((s.detection.author for s in self.sightings if s.detection.author), None)

    @property
    def isbn(self) -> str | None:
        """A barcode's ISBN first, then one an engine gave (ISBN-13)."""
        ordered = sorted(self.sightings, key=lambda s: not s.barcode_confirmed)
        for sighting in ordered:
            isbn = isbn_to_13(sighting.detection.isbn) if sighting.detection.isbn else None
            if isbn:
                return isbn
        return None

    @property
    def barcode_confirmed(self) -> bool:
        return any(s.barcode_confirmed for s in self.sightings)

    @property
    def confidence(self) -> float | None:
        """The engines' highest figure for this book, or None when no engine gave one."""
        values = [s.detection.confidence for s in self.sightings if s.detection.confidence is not None]
        return max(values) if values else None

    @property
    def photo_indexes(self) -> tuple[int, ...]:
        return tuple(sorted({s.photo_index for s in self.sightings}))


def _rank(sighting: Sighting) -> tuple[bool, bool, float, int]:
    """Best first: a titled sighting, a confirmed barcode, the highest confidence, the earliest photo."""
    confidence = sighting.detection.confidence
    return (
        not sighting.detection.title,
        not sighting.barcode_confirmed,
        -(confidence if confidence is not None else -1.0),
        sighting.photo_index,
    )


@dataclass
class _Group:
    key: str
    sightings: list[Sighting] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)

    def add(self, sighting: Sighting) -> None:
        self.sightings.append(sighting)
        title, author = title_key(sighting.detection.title), name_key(sighting.detection.author)
        if title:
            self.titles.add(title)
        if author:
            self.authors.add(author)

    def same_book(self, title: str, author: str) -> bool:
        """Same title, and the same author unless one side names none."""
        return title in self.titles and (not author or not self.authors or author in self.authors)


def books_dedupe(records: Iterable[PhotoRecord]) -> list[BookCandidate]:
    """One candidate per book across the photos, in order of first sighting (photo, then position).

    1. A detection with an ISBN is keyed by its ISBN-13.
    2. One without an ISBN but with an author joins the one ISBN book of the same title (and the same
       author, or none named); else it is keyed by title key + author name key.
    3. One with a title alone joins the one book of that title seen so far; else it is keyed by title.
    Detections with neither a title nor an ISBN are dropped: nothing names the book.
    """
    groups: dict[str, _Group] = {}
    by_isbn: list[_Group] = []
    authored: list[Sighting] = []
    titled: list[Sighting] = []
    seen_at: dict[int, tuple[int, int]] = {}  # id(sighting) -> (photo index, position on the photo)

    def group(key: str) -> _Group:
        if key not in groups:
            groups[key] = _Group(key)
        return groups[key]

    for record in sorted(records, key=lambda r: r.index):
        if record.status != "done":
            continue
        for position, detection in enumerate(record.detections):
            sighting = Sighting(record.index, detection, position in record.confirmed)
            seen_at[id(sighting)] = (record.index, position)
            isbn = isbn_to_13(detection.isbn) if detection.isbn else None
            if isbn:
                target = group(f"isbn:{isbn}")
                if target not in by_isbn:
                    by_isbn.append(target)
                target.add(sighting)
            elif title_key(detection.title):
                (authored if name_key(detection.author) else titled).append(sighting)
    for sighting in authored:
        title, author = title_key(sighting.detection.title), name_key(sighting.detection.author)
        owners = [g for g in by_isbn if g.same_book(title, author)]
        (owners[0] if len(owners) == 1 else group(f"ta:{title}|{author}")).add(sighting)
    for sighting in titled:
        title = title_key(sighting.detection.title)
        owners = [g for g in groups.values() if title in g.titles]
        (owners[0] if len(owners) == 1 else group(f"ta:{title}|")).add(sighting)

    ordered = sorted(groups.values(), key=lambda g: min(seen_at[id(s)] for s in g.sightings))
    return [BookCandidate(key=g.key, sightings=tuple(sorted(g.sightings, key=_rank))) for g in ordered]


# --- review status and the DetectedBook ------------------------------------------------------------


def review_status(*, confidence: float | None, barcode_confirmed: bool, threshold: float) -> ReviewStatus:
    """`verified` when a barcode confirmed the ISBN or the engine's confidence reaches the threshold."""
    if barcode_confirmed or (confidence is not None and confidence >= threshold):
        return "verified"
    return "needsReview"


@dataclass(frozen=True)
class BookMatch:
    """What the catalog or search made of a candidate."""

    status: EnrichmentStatus
    hit: SearchHit | None = None
    provider: str | None = None
    method: str | None = None  # catalog_isbn | catalog_title | search_isbn | search_title
    score: float | None = None  # title + author score of the match (1.0 for an ISBN match)
    error: str | None = None


PENDING = BookMatch(status="pending")


def books_merge_matched(
    candidates: Sequence[BookCandidate], matches: Mapping[str, BookMatch]
) -> tuple[list[BookCandidate], dict[str, BookMatch]]:
    """After the lookups: candidates matched to the same ISBN are one book (a spine misread on one
    photo, a barcode-only back cover and its spine on another). The better-scored match is kept."""
    merged: list[BookCandidate] = []
    kept: dict[str, BookMatch] = {}
    at: dict[str, int] = {}
    for candidate in candidates:
        match = matches.get(candidate.key, PENDING)
        isbn = match.hit.edition.isbn if match.status == "success" and match.hit is not None else None
        isbn = isbn or candidate.isbn
        if isbn is None or isbn not in at:
            if isbn is not None:
                at[isbn] = len(merged)
            merged.append(candidate)
            kept[candidate.key] = match
            continue
        into = merged[at[isbn]]
        sightings = tuple(sorted(into.sightings + candidate.sightings, key=_rank))
        merged[at[isbn]] = BookCandidate(key=into.key, sightings=sightings)
        if (match.score or 0.0) > (kept[into.key].score or 0.0):
            kept[into.key] = match
    return merged, kept


def _year(hit: SearchHit) -> int | None:
    text = hit.edition.publication_date or ""
    if len(text) >= 4 and text[:4].isdigit():
        return int(text[:4])
    return hit.work.first_publication_year


def detected_book(candidate: BookCandidate, match: BookMatch, *, threshold: float) -> Json:
    """The DetectedBook of CONTRACT 9, with its evidence."""
    best = candidate.best
    hit = match.hit if match.status == "success" else None
    isbn = candidate.isbn or (hit.edition.isbn if hit is not None else None)
    title = candidate.title or (hit.work.title if hit is not None else "") or (f"ISBN {isbn}" if isbn else "")
    author = candidate.author or (hit.author_names[0] if hit is not None and hit.author_names else None)
    confidence = candidate.confidence
    enrichment: Json = {
        "status": match.status,
        "work": cast(JsonValue, hit.work.to_wire()) if hit is not None else None,
        "editions": [cast(JsonValue, hit.edition.to_wire())] if hit is not None else [],
        "authors": [cast(JsonValue, a.to_wire()) for a in hit.authors] if hit is not None else [],
        "provider": match.provider if hit is not None else None,
    }
    if match.error:
        enrichment["error"] = match.error
    barcode_isbn = next(
        (isbn_to_13(s.detection.isbn) for s in candidate.sightings if s.barcode_confirmed and s.detection.isbn), None
    )
    engine_score = next(
        (s.detection.match_score for s in candidate.sightings if s.detection.match_score is not None), None
    )
    evidence: Json = {
        "spineText": next((s.detection.spine_text for s in candidate.sightings if s.detection.spine_text), None),
        "barcode": barcode_isbn,
        "matchScore": round(match.score, 3) if match.score is not None else engine_score,
        "matchMethod": match.method,
        "sources": list[JsonValue](sorted({s.detection.source for s in candidate.sightings})),
        "sightings": [
            {
                "photoIndex": s.photo_index,
                "boundingBox": _box_to_json(s.detection.box),
                "confidence": s.detection.confidence,
            }
            for s in candidate.sightings
        ],
    }
    return {
        "title": title,
        "author": author,
        "isbn": isbn,
        "confidence": round(confidence, 4) if confidence is not None else None,
        "boundingBox": _box_to_json(best.detection.box),
        "photoIndex": best.photo_index,
        "enrichmentStatus": match.status,
        "coverUrl": (hit.edition.cover_image_url or hit.work.cover_image_url) if hit is not None else None,
        "publisher": hit.edition.publisher if hit is not None else None,
        "publicationYear": _year(hit) if hit is not None else None,
        "enrichment": enrichment,
        "reviewStatus": review_status(
            confidence=confidence, barcode_confirmed=candidate.barcode_confirmed, threshold=threshold
        ),
        "evidence": evidence,
    }


def scan_results(
    *,
    books: Sequence[Json],
    records: Sequence[PhotoRecord],
    photo_indexes: Sequence[int],
    model_used: str,
    processing_ms: int,
    timestamp: str,
    canceled: bool = False,
) -> Json:
    """The results body of `GET /v1/scan/results/{jobId}` (CONTRACT 5); `approved + needsReview ==
    totalDetected` by construction. Photos never reached (a cancel) are listed as `pending`."""
    approved = sum(1 for b in books if b.get("reviewStatus") == "verified")
    by_index = {r.index: r for r in records}
    photos: list[JsonValue] = [
        (by_index[i] if i in by_index else PhotoRecord(index=i, status="pending")).to_wire() for i in photo_indexes
    ]
    results: Json = {
        "totalDetected": len(books),
        "approved": approved,
        "needsReview": len(books) - approved,
        "books": list(books),
        "photos": photos,
        "metadata": {"modelUsed": model_used, "processingTime": processing_ms, "timestamp": timestamp},
    }
    if canceled:
        results["canceled"] = True
    return results


def models_used(records: Iterable[PhotoRecord]) -> str:
    """`metadata.modelUsed`: the engines that answered, in photo order ("" when none did)."""
    names: list[str] = []
    for record in sorted(records, key=lambda r: r.index):
        if record.model_used and record.model_used not in names:
            names.append(record.model_used)
    return "+".join(names)
