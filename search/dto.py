"""Canonical DTOs of CONTRACT section 3, as frozen dataclasses, and their one wire serializer.

Field names are snake_case in Python; `to_wire()` emits the contract's camelCase names (the few
irregular ones, `coverImageURL`, `isbndbID`..., are declared per field). Always-present fields have
non-None defaults and are always emitted; optional fields default to None and are omitted when None.
`provenance` (field -> provider) is emitted on works and editions when any field was supplied.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from typing import Any

FORMATS = ("Hardcover", "Paperback", "E-book", "Audiobook", "Mass Market")
DEFAULT_FORMAT = "Paperback"  # the clients expect an unknown binding to read as Paperback, never "Other"
GENDERS = ("Female", "Male", "Non-binary", "Other", "Unknown")
CULTURAL_REGIONS = (
    "Africa",
    "Asia",
    "Europe",
    "North America",
    "South America",
    "Oceania",
    "Middle East",
    "Caribbean",
    "Central Asia",
    "Indigenous",
    "International",
)
REVIEW_STATUSES = ("verified", "needsReview", "userEdited")
PROVIDERS = ("google-books", "openlibrary", "isbndb", "gemini")
CACHE_SOURCES = ("EDGE_FRESH", "EDGE_STALE", "KV", "CATALOG")


def _wire(name: str) -> dict[str, str]:
    return {"wire": name}


@functools.cache
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class BoundingBox:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class AuthorDTO:
    name: str
    gender: str = "Unknown"
    cultural_region: str | None = None
    nationality: str | None = None
    birth_year: int | None = None
    death_year: int | None = None
    open_library_id: str | None = field(default=None, metadata=_wire("openLibraryID"))
    isbndb_id: str | None = field(default=None, metadata=_wire("isbndbID"))
    google_books_id: str | None = field(default=None, metadata=_wire("googleBooksID"))
    goodreads_id: str | None = field(default=None, metadata=_wire("goodreadsID"))
    wikidata_id: str | None = field(default=None, metadata=_wire("wikidataID"))
    book_count: int | None = None

    def __post_init__(self) -> None:
        if self.gender not in GENDERS:
            object.__setattr__(self, "gender", "Unknown")
        if self.cultural_region is not None and self.cultural_region not in CULTURAL_REGIONS:
            object.__setattr__(self, "cultural_region", None)

    def to_wire(self) -> dict[str, Any]:
        return to_wire(self)


@dataclass(frozen=True)
class WorkDTO:
    title: str
    subject_tags: tuple[str, ...] = ()
    goodreads_work_ids: tuple[str, ...] = field(default=(), metadata=_wire("goodreadsWorkIDs"))
    amazon_asins: tuple[str, ...] = field(default=(), metadata=_wire("amazonASINs"))
    librarything_ids: tuple[str, ...] = field(default=(), metadata=_wire("librarythingIDs"))
    google_books_volume_ids: tuple[str, ...] = field(default=(), metadata=_wire("googleBooksVolumeIDs"))
    isbndb_quality: int = 0
    review_status: str = "verified"
    original_language: str | None = None
    first_publication_year: int | None = None
    description: str | None = None
    cover_image_url: str | None = field(default=None, metadata=_wire("coverImageURL"))
    synthetic: bool | None = None
    primary_provider: str | None = None
    contributors: tuple[str, ...] | None = None
    open_library_id: str | None = field(default=None, metadata=_wire("openLibraryID"))
    open_library_work_id: str | None = field(default=None, metadata=_wire("openLibraryWorkID"))
    isbndb_id: str | None = field(default=None, metadata=_wire("isbndbID"))
    google_books_volume_id: str | None = field(default=None, metadata=_wire("googleBooksVolumeID"))
    goodreads_id: str | None = field(default=None, metadata=_wire("goodreadsID"))
    last_isbndb_sync: str | None = field(default=None, metadata=_wire("lastISBNDBSync"))
    original_image_path: str | None = None
    bounding_box: BoundingBox | None = None
    provenance: Mapping[str, str] = field(default_factory=dict, compare=False)
    # True when first_publication_year is an edition's date (Google/ISBNdb publishedDate, an OpenLibrary
    # edition's publish_date), not a work-level first publication: the merge prefers a work-level year.
    # Internal: not on the wire.
    year_from_edition: bool = field(default=False, compare=False, metadata={"internal": True})

    def __post_init__(self) -> None:
        if self.review_status not in REVIEW_STATUSES:
            object.__setattr__(self, "review_status", "needsReview")

    def to_wire(self) -> dict[str, Any]:
        return to_wire(self)


@dataclass(frozen=True)
class EditionDTO:
    isbns: tuple[str, ...] = ()
    format: str = DEFAULT_FORMAT
    amazon_asins: tuple[str, ...] = field(default=(), metadata=_wire("amazonASINs"))
    google_books_volume_ids: tuple[str, ...] = field(default=(), metadata=_wire("googleBooksVolumeIDs"))
    librarything_ids: tuple[str, ...] = field(default=(), metadata=_wire("librarythingIDs"))
    isbndb_quality: int = 0
    isbn: str | None = None
    title: str | None = None
    publisher: str | None = None
    publication_date: str | None = None
    page_count: int | None = None
    cover_image_url: str | None = field(default=None, metadata=_wire("coverImageURL"))
    edition_title: str | None = None
    edition_description: str | None = None
    language: str | None = None
    primary_provider: str | None = None
    contributors: tuple[str, ...] | None = None
    open_library_id: str | None = field(default=None, metadata=_wire("openLibraryID"))
    open_library_edition_id: str | None = field(default=None, metadata=_wire("openLibraryEditionID"))
    isbndb_id: str | None = field(default=None, metadata=_wire("isbndbID"))
    google_books_volume_id: str | None = field(default=None, metadata=_wire("googleBooksVolumeID"))
    goodreads_id: str | None = field(default=None, metadata=_wire("goodreadsID"))
    last_isbndb_sync: str | None = field(default=None, metadata=_wire("lastISBNDBSync"))
    provenance: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            object.__setattr__(self, "format", DEFAULT_FORMAT)

    def to_wire(self) -> dict[str, Any]:
        return to_wire(self)


@dataclass(frozen=True)
class SearchHit:
    """One book as found: a work, its edition, its authors (works/editions are parallel on the wire)."""

    work: WorkDTO
    edition: EditionDTO
    authors: tuple[AuthorDTO, ...] = ()

    @property
    def isbn13(self) -> str | None:
        return self.edition.isbn

    @property
    def author_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.authors)


@dataclass(frozen=True)
class ProviderPage:
    """What one provider answered for one query (already normalized)."""

    provider: str
    hits: tuple[SearchHit, ...] = ()
    total: int = 0


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...] = ()
    total_results: int = 0
    provider: str = "none"  # "google-books", "merged:google-books+openlibrary", "none", ...
    cached: bool = False
    cache_source: str | None = None
    degraded: tuple[str, ...] = ()  # providers that failed/timed out for this answer
    # True when `hits` hold every result the providers have for the query (a title-search window that
    # every provider answered in full): pages past its end are empty, not asked again. Not on the wire.
    complete: bool = False
    # True while a background task completes this answer's work-level facts (search.complete_work):
    # the cache tiers hold it briefly and never over the completed answer (search.cache). Not on the wire.
    provisional: bool = False

    @property
    def works(self) -> list[WorkDTO]:
        return [h.work for h in self.hits]

    @property
    def editions(self) -> list[EditionDTO]:
        return [h.edition for h in self.hits]

    @property
    def authors(self) -> list[AuthorDTO]:
        seen: dict[str, AuthorDTO] = {}
        for hit in self.hits:
            for author in hit.authors:
                seen.setdefault(author.name.casefold(), author)
        return list(seen.values())

    @property
    def found(self) -> bool:
        return bool(self.hits)

    def with_cache(self, *, cached: bool, cache_source: str | None) -> SearchResult:
        """This answer labelled with the cache tier that served it."""
        return replace(self, cached=cached, cache_source=cache_source)

    def to_wire(self) -> dict[str, Any]:
        """The search payload: {works, editions, authors, totalResults}."""
        return {
            "works": [w.to_wire() for w in self.works],
            "editions": [e.to_wire() for e in self.editions],
            "authors": [a.to_wire() for a in self.authors],
            "totalResults": self.total_results,
        }


def provider_label(providers: Iterable[str]) -> str:
    """`none`, one provider's name, or `merged:a+b` in a stable order."""
    unique = list(dict.fromkeys(p for p in providers if p))
    if not unique:
        return "none"
    if len(unique) == 1:
        return unique[0]
    return "merged:" + "+".join(unique)


def _wire_value(value: Any) -> Any:
    if is_dataclass(value):
        return to_wire(value)
    if isinstance(value, tuple | list):
        return [_wire_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _wire_value(v) for k, v in value.items()}
    return value


@functools.cache
def _wire_plan(cls: type) -> tuple[tuple[str, str, bool, bool], ...]:
    """Per class, once: (field, wire name, optional, is provenance) for every field."""
    plan = []
    for f in fields(cls):
        if f.metadata.get("internal"):
            continue
        wire_name = f.name if cls is BoundingBox else f.metadata.get("wire", _camel(f.name))
        plan.append((f.name, wire_name, f.default is None, f.name == "provenance"))
    return tuple(plan)


@functools.cache
def field_wire_names(cls: type) -> dict[str, str]:
    """Field name -> wire name, for `provenance` keys."""
    return {name: wire_name for name, wire_name, _, _ in _wire_plan(cls)}


@functools.cache
def _wire_field_names(cls: type) -> dict[str, str]:
    """Wire name -> field name (the inverse, for parsing `provenance` back)."""
    return {wire_name: name for name, wire_name in field_wire_names(cls).items()}


def to_wire(dto: Any) -> dict[str, Any]:
    """The one serializer: camelCase names, optional (None-default) fields omitted when None."""
    out: dict[str, Any] = {}
    for name, wire_name, optional, is_provenance in _wire_plan(type(dto)):
        value = getattr(dto, name)
        if optional and value is None:
            continue
        if is_provenance:
            if value:
                # Keys are DTO field names (Python side); the wire names them like the fields themselves.
                names = field_wire_names(type(dto))
                out["provenance"] = {names.get(k, _camel(k)): v for k, v in value.items()}
            continue
        out[wire_name] = _wire_value(value)
    return out


_WIRE_TO_FIELD: dict[type, dict[str, Any]] = {}


def _field_map(cls: type) -> dict[str, Any]:
    if cls not in _WIRE_TO_FIELD:
        _WIRE_TO_FIELD[cls] = {
            f.metadata.get("wire", _camel(f.name)): f for f in fields(cls) if not f.metadata.get("internal")
        }
    return _WIRE_TO_FIELD[cls]


def from_wire(cls: type, data: Mapping[str, Any]) -> Any:
    """Parse a wire dict back into a DTO (catalog task payloads, cached JSON). Unknown keys ignored."""
    kwargs: dict[str, Any] = {}
    for wire_name, f in _field_map(cls).items():
        if wire_name not in data:
            continue
        value = data[wire_name]
        if f.name == "bounding_box" and isinstance(value, Mapping):
            value = BoundingBox(**{k: float(value[k]) for k in ("x", "y", "width", "height")})
        elif f.name == "provenance":
            # Wire keys back to field names; records stored before keys were camelCase are snake_case.
            names = _wire_field_names(cls)
            value = {names.get(k, k): v for k, v in (value or {}).items()}
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    for f in fields(cls):
        if f.name not in kwargs and f.default is MISSING and f.default_factory is MISSING:
            raise ValueError(f"{cls.__name__}: missing required field {f.name}")
    return cls(**kwargs)


def hit_to_record(hit: SearchHit) -> dict[str, Any]:
    """A JSON-serialisable record of one hit (Celery payloads)."""
    return {
        "work": hit.work.to_wire(),
        "edition": hit.edition.to_wire(),
        "authors": [a.to_wire() for a in hit.authors],
    }


def hit_from_record(record: Mapping[str, Any]) -> SearchHit:
    return SearchHit(
        work=from_wire(WorkDTO, record["work"]),
        edition=from_wire(EditionDTO, record["edition"]),
        authors=tuple(from_wire(AuthorDTO, a) for a in record.get("authors", ())),
    )


_SPACE = re.compile(r"\s+")


def clean_text(value: Any) -> str | None:
    """A stripped single-spaced string, or None when empty or not a string."""
    if not isinstance(value, str):
        return None
    text = _SPACE.sub(" ", value).strip()
    return text or None
