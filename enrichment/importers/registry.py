"""Which importer reads a file: data, not an if/elif chain. The best header match wins; a tie goes
to the larger signature (Goodreads legacy over current when all 31 columns are there)."""

from __future__ import annotations

from collections.abc import Sequence

from enrichment.importers.base import Importer, header_key
from enrichment.importers.bookwyrm import BookWyrmImporter
from enrichment.importers.calibre import CalibreImporter
from enrichment.importers.generic import GenericImporter
from enrichment.importers.goodreads import GoodreadsImporter, GoodreadsLegacyImporter
from enrichment.importers.librarything import LibraryThingImporter
from enrichment.importers.openlibrary import OpenLibraryImporter, OpenLibraryLegacyImporter
from enrichment.importers.openreads import OpenreadsImporter
from enrichment.importers.storygraph import StoryGraphImporter

GENERIC = GenericImporter()

IMPORTERS: tuple[Importer, ...] = (
    GoodreadsImporter(),
    GoodreadsLegacyImporter(),
    StoryGraphImporter(),
    LibraryThingImporter(),
    CalibreImporter(),
    OpenLibraryImporter(),
    OpenLibraryLegacyImporter(),
    OpenreadsImporter(),
    BookWyrmImporter(),
    GENERIC,  # last: any header naming a title or ISBN column
)


def detect(header: Sequence[str]) -> Importer | None:
    """The importer whose header signature matches best, or None (then Gemini maps the columns)."""
    keys = frozenset(header_key(name) for name in header)
    best: tuple[float, int] | None = None
    chosen: Importer | None = None
    for importer in IMPORTERS:
        score = importer.score(keys)
        if score < importer.min_score:
            continue
        rank = (score, len(importer.signature))
        if best is None or rank > best:
            best, chosen = rank, importer
    return chosen
