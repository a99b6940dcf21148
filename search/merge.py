"""Field-by-field merge of provider answers, with provenance (pure).

1. Dedupe: hits are clustered by shared ISBN-13, then by title key + author key.
2. Each cluster becomes one hit: for every field the best value wins (largest cover, longest clean
   description, earliest first-publication year, the preferred provider's title/publisher/...),
   identifiers are unioned, and `provenance[field]` names the provider the value came from.
3. `primaryProvider` is the provider that supplied the most fields; `contributors` lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from search.dto import (
    DEFAULT_FORMAT,
    AuthorDTO,
    EditionDTO,
    ProviderPage,
    SearchHit,
    WorkDTO,
)
from search.normalize import data_quality, dedupe_authors
from search.text import surname_key, title_key

ID_UNION_FIELDS = ("goodreads_work_ids", "amazon_asins", "librarything_ids", "google_books_volume_ids", "isbns")
EARLIEST_FIELDS = ("first_publication_year",)
LONGEST_FIELDS = ("description", "edition_description")
COVER_FIELDS = ("cover_image_url",)
SKIP_FIELDS = {"provenance", "primary_provider", "contributors", "isbndb_quality", "isbn", "year_from_edition"}

_GOOGLE_ZOOM_RANK = {"6": 6, "4": 5, "3": 4, "2": 3, "1": 2, "5": 1, "0": 3}


def cover_rank(url: str | None) -> int:
    """How large a cover URL is likely to be (bigger = better), from each host's size conventions."""
    if not url:
        return 0
    parts = urlsplit(url)
    path = parts.path
    if path.endswith("-L.jpg"):
        return 6
    if path.endswith("-M.jpg"):
        return 3
    if path.endswith("-S.jpg"):
        return 1
    if "isbndb" in parts.netloc:
        return 5
    zoom = parse_qs(parts.query).get("zoom", [None])[0]
    if zoom is not None:
        return _GOOGLE_ZOOM_RANK.get(zoom, 2)
    return 2


def cluster_hits(hits: Sequence[tuple[int, SearchHit]]) -> list[list[SearchHit]]:
    """Group hits that are the same book: shared ISBN-13, else same title key and author key."""
    clusters: list[list[SearchHit]] = []
    by_isbn: dict[str, int] = {}
    by_title: dict[tuple[str, str], int] = {}
    for _, hit in hits:
        isbn13s = {i for i in hit.edition.isbns if len(i) == 13}
        if hit.edition.isbn:
            isbn13s.add(hit.edition.isbn)
        tkey = (title_key(hit.work.title), surname_key(hit.author_names[0]) if hit.author_names else "")
        index = next((by_isbn[i] for i in isbn13s if i in by_isbn), None)
        if index is None and tkey[0]:
            index = by_title.get(tkey)
            # A title match never joins two books that both carry (different) ISBNs.
            if index is not None and isbn13s:
                other = {i for h in clusters[index] for i in h.edition.isbns if len(i) == 13}
                if other and not (other & isbn13s):
                    index = None
        if index is None:
            index = len(clusters)
            clusters.append([])
        clusters[index].append(hit)
        for i in isbn13s:
            by_isbn.setdefault(i, index)
        if tkey[0]:
            by_title.setdefault(tkey, index)
    return clusters


def _source(dto: Any, name: str) -> str | None:
    return dto.provenance.get(name) if isinstance(dto.provenance, Mapping) else None


def _merge_dtos(dtos: Sequence[Any], cls: type) -> Any:
    """One DTO from several of the same type; `dtos` are in provider-priority order."""
    values: dict[str, Any] = {}
    provenance: dict[str, str | None] = {}
    # Providers that added items to a union field (identifiers, subjects): `provenance` names one
    # provider per field, but every one of them is a contributor (CONTRACT 3).
    unioned: set[str | None] = set()
    for f in fields(cls):
        name = f.name
        if name in SKIP_FIELDS:
            continue
        supplied = [(d, getattr(d, name)) for d in dtos if _source(d, name)]
        if not supplied:
            continue
        if name in ID_UNION_FIELDS:
            merged: list[str] = []
            for dto, value in supplied:
                for item in value or ():
                    if item not in merged:
                        merged.append(item)
                        unioned.add(_source(dto, name))
            if name == "isbns":
                merged.sort(key=lambda c: len(c) != 13)
            values[name] = tuple(merged)
            provenance[name] = _source(supplied[0][0], name)
            continue
        if name == "subject_tags":
            seen: dict[str, str] = {}
            for dto, value in supplied:
                for tag in value or ():
                    if tag.casefold() not in seen and len(seen) < 20:
                        seen[tag.casefold()] = tag
                        unioned.add(_source(dto, name))
            values[name] = tuple(seen.values())
            provenance[name] = _source(supplied[0][0], name)
            continue
        if name == "first_publication_year":
            # A work-level year (OpenLibrary's first_publish_year) wins over any edition's date; among
            # edition dates only (the only source), the earliest.
            work_level = [pair for pair in supplied if not getattr(pair[0], "year_from_edition", False)]
            best = min(work_level or supplied, key=lambda pair: pair[1])
            values["year_from_edition"] = not work_level
        elif name in EARLIEST_FIELDS:
            best = min(supplied, key=lambda pair: pair[1])
        elif name in LONGEST_FIELDS:
            best = max(supplied, key=lambda pair: len(pair[1] or ""))
        elif name in COVER_FIELDS:
            best = max(enumerate(supplied), key=lambda item: (cover_rank(item[1][1]), -item[0]))[1]
        else:
            best = supplied[0]
        values[name] = best[1]
        provenance[name] = _source(best[0], name)
    if cls is EditionDTO:
        isbn13s = [i for i in values.get("isbns", ()) if len(i) == 13]
        if isbn13s:
            values["isbn"] = next((d.isbn for d in dtos if d.isbn), isbn13s[0])
            provenance.setdefault("isbn", next((_source(d, "isbn") for d in dtos if d.isbn), None) or "")
        values.setdefault("format", DEFAULT_FORMAT)
    if cls is WorkDTO and "title" not in values:
        values["title"] = dtos[0].title
    counts: dict[str, int] = {}
    for provider in provenance.values():
        if provider:
            counts[provider] = counts.get(provider, 0) + 1
    order = [d.primary_provider for d in dtos if d.primary_provider]
    primary = max(counts, key=lambda p: (counts[p], -order.index(p) if p in order else 0)) if counts else None
    # Merging already-merged DTOs (the catalog merges a new answer into the stored one): their
    # contributors stay contributors.
    earlier = {p for d in dtos for p in (d.contributors or ())}
    named = sorted(p for p in unioned if p)
    known = list(dict.fromkeys([*order, *counts, *named, *sorted(earlier)]))
    contributors = tuple(p for p in known if p in counts or p in unioned or p in earlier)
    return cls(
        **values,
        primary_provider=primary,
        contributors=contributors or None,
        provenance={k: v for k, v in provenance.items() if v},
    )


def _merge_authors(groups: Sequence[Sequence[AuthorDTO]]) -> tuple[AuthorDTO, ...]:
    """The preferred source's authors, with missing ids/facts filled from the others (matched by surname)."""
    if not groups:
        return ()
    merged = list(groups[0])
    for group in groups[1:]:
        for author in group:
            key = surname_key(author.name)
            index = next((i for i, a in enumerate(merged) if surname_key(a.name) == key), None)
            if index is None:
                continue
            current = merged[index]
            updates = {
                f.name: getattr(author, f.name)
                for f in fields(AuthorDTO)
                if getattr(current, f.name) in (None, "Unknown") and getattr(author, f.name) not in (None, "Unknown")
            }
            if updates:
                merged[index] = replace(current, **updates)
    # One provider can list the same person twice ("Herbert, Frank" next to "Frank Herbert").
    return dedupe_authors(merged)


def merge_cluster(cluster: Sequence[SearchHit]) -> SearchHit:
    if len(cluster) == 1:
        return cluster[0]
    work = _merge_dtos([h.work for h in cluster], WorkDTO)
    edition = _merge_dtos([h.edition for h in cluster], EditionDTO)
    authors = _merge_authors([h.authors for h in cluster if h.authors])
    hit = SearchHit(work=work, edition=edition, authors=authors)
    quality = data_quality(hit)
    return SearchHit(
        work=replace(work, isbndb_quality=quality), edition=replace(edition, isbndb_quality=quality), authors=authors
    )


def merge_pages(pages: Sequence[ProviderPage], *, priority: Mapping[str, int] | None = None) -> list[SearchHit]:
    """All providers' hits, deduped and merged field by field (unranked; preferred provider first)."""
    priority = priority or {}
    ordered = sorted(pages, key=lambda p: priority.get(p.provider, 100))
    # Interleave by position so each provider's best answers come before anyone's tail.
    interleaved: list[tuple[int, SearchHit]] = []
    longest = max((len(p.hits) for p in ordered), default=0)
    for position in range(longest):
        for page in ordered:
            if position < len(page.hits):
                interleaved.append((position, page.hits[position]))
    return [merge_cluster(c) for c in cluster_hits(interleaved)]


def merged_providers(hits: Sequence[SearchHit]) -> list[str]:
    """Every provider that supplied a field to any hit, in first-seen order."""
    seen: list[str] = []
    for hit in hits:
        for dto in (hit.work, hit.edition):
            for provider in dto.contributors or ((dto.primary_provider,) if dto.primary_provider else ()):
                if provider not in seen:
                    seen.append(provider)
    return seen
