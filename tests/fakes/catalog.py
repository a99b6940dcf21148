"""Indexes and matching over the shared catalog (tests/fakes/data/catalog.py)."""

from __future__ import annotations

import unicodedata

from tests.fakes.data.catalog import AUTHORS, WORKS


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form used by every search."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = "".join(c if c.isalnum() else " " for c in stripped.casefold())
    return " ".join(cleaned.split())


def tokens_match(query: str | None, haystack: str) -> bool:
    words = fold(query).split()
    folded = f" {fold(haystack)} "
    return bool(words) and all(word in folded for word in words)


def isbn10_to_13(isbn10: str) -> str:
    core = "978" + isbn10[:9]
    total = sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(core))
    return core + str((10 - total % 10) % 10)


def clean_isbn(raw: str | None) -> str:
    return "".join(c for c in (raw or "") if c.isdigit() or c in "xX").upper()


class Catalog:
    def __init__(self) -> None:
        self.authors = AUTHORS
        self.works = WORKS
        self.by_isbn: dict[str, tuple[dict, dict]] = {}
        self.by_google_id: dict[str, tuple[dict, dict]] = {}
        self.by_ol_edition: dict[str, tuple[dict, dict]] = {}
        self.by_work: dict[str, dict] = {}
        self.cover_ids: dict[int, str] = {}  # cover id -> title drawn on the image
        for work in WORKS:
            self.by_work[work["key"]] = work
            for cover in work["covers"]:
                self.cover_ids[cover] = work["title"]
            for edition in work["editions"]:
                pair = (work, edition)
                self.by_isbn[edition["isbn13"]] = pair
                if edition["isbn10"]:
                    self.by_isbn[edition["isbn10"]] = pair
                if edition["google_id"]:
                    self.by_google_id[edition["google_id"]] = pair
                if edition["ol_key"]:
                    self.by_ol_edition[edition["ol_key"]] = pair
                if edition["cover_id"]:
                    self.cover_ids[edition["cover_id"]] = edition["title"] or work["title"]
        for key, author in AUTHORS.items():
            if author.get("photo"):
                self.cover_ids[author["photo"]] = author["name"]

    def find_isbn(self, raw: str | None) -> tuple[dict, dict] | None:
        isbn = clean_isbn(raw)
        found = self.by_isbn.get(isbn)
        if found is None and len(isbn) == 10:
            found = self.by_isbn.get(isbn10_to_13(isbn))
        return found

    def author_names(self, work: dict) -> list[str]:
        return [self.authors[key]["name"] for key in work["authors"]]

    def author_haystack(self, work: dict) -> str:
        parts = []
        for key in work["authors"]:
            author = self.authors[key]
            parts.append(author["name"])
            parts.extend(author.get("alternate_names", []))
        return " | ".join(parts)

    def title_haystack(self, work: dict, edition: dict | None = None) -> str:
        titles = [work["title"]]
        editions = [edition] if edition else work["editions"]
        titles += [e["title"] for e in editions if e.get("title")]
        titles += [e["subtitle"] for e in editions if e.get("subtitle")]
        return " | ".join(titles)

    def edition_title(self, work: dict, edition: dict) -> str:
        return edition.get("title") or work["title"]

    def editions(self, source: str):
        """(work, edition) pairs known to one upstream: ``g``, ``o`` or ``i``."""
        for work in self.works:
            for edition in work["editions"]:
                if source in edition["sources"]:
                    yield work, edition


CATALOG = Catalog()
