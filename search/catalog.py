"""Catalog reads (ISBN lookups, tier CATALOG), the after-response upsert of search results, and the
completion of a work's facts from OpenLibrary's work record (search.complete_work)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import transaction
from django.utils import timezone

from search.dto import AuthorDTO, EditionDTO, SearchHit, WorkDTO, from_wire, hit_to_record
from search.isbn import isbn_to_10
from search.merge import merge_cluster
from search.text import text_key, title_key

logger = logging.getLogger(__name__)


def catalog_lookup_isbn(*, isbn13: str, max_age_days: int | None = None) -> SearchHit | None:
    """A fresh catalog record for an ISBN-13, or None (missing or older than CATALOG_FRESH_DAYS)."""
    from search.models import Edition

    max_age = settings.SEARCH_CATALOG_FRESH_DAYS if max_age_days is None else max_age_days
    edition = (
        Edition.objects.select_related("work")
        .prefetch_related("work__authors")
        .filter(isbn13=isbn13, fetched_at__gte=timezone.now() - timedelta(days=max_age))
        .first()
    )
    if edition is None:
        return None
    return _stored_hit(edition)


def _stored_hit(edition) -> SearchHit | None:
    """The hit an Edition row (and its work) holds, or None when its records are missing or unreadable."""
    work = edition.work
    if not edition.record or not work.record:
        return None
    try:
        if work.author_records:
            authors = tuple(from_wire(AuthorDTO, a) for a in work.author_records)
        else:  # rows written before authors were recorded in order
            authors = tuple(
                AuthorDTO(name=a.name, open_library_id=a.open_library_id or None, wikidata_id=a.wikidata_id or None)
                for a in work.authors.all()
            )
        return SearchHit(
            work=from_wire(WorkDTO, work.record), edition=from_wire(EditionDTO, edition.record), authors=authors
        )
    except (ValueError, TypeError, KeyError):
        logger.warning("catalog record for %s is unreadable; ignoring it", edition.isbn13, exc_info=True)
        return None


def _merged_with_stored(hit: SearchHit, *, edition, work) -> SearchHit:
    """`hit` merged field by field with what the catalog already holds for it (search.merge), so a
    less complete answer (a title search's) never replaces a richer one (an ISBN lookup's); the
    fresh answer is preferred where the rules pick by source, not by quality."""
    stored = _stored_hit(edition) if edition is not None else None
    if stored is None and work is not None and work.record:
        try:  # a new edition of a known work: merge the work-level fields
            stored = SearchHit(work=from_wire(WorkDTO, work.record), edition=hit.edition, authors=())
        except (ValueError, TypeError, KeyError):
            stored = None
    return hit if stored is None else merge_cluster([hit, stored])


def _author_upsert(author: AuthorDTO):
    from search.models import Author

    key = text_key(author.name)[:300]
    obj, created = Author.objects.get_or_create(name_key=key, defaults={"name": author.name[:300]})
    changed = False
    for field_name in ("open_library_id", "isbndb_id", "google_books_id", "goodreads_id", "wikidata_id"):
        value = getattr(author, field_name)
        if value and not getattr(obj, field_name):
            setattr(obj, field_name, value[:64])
            changed = True
    if changed and not created:
        obj.save()
    elif changed:
        obj.save()
    return obj


def _work_fields(hit: SearchHit, record: dict) -> dict:
    """The Work row's columns for the (merged) `hit`; `record` is `hit_to_record(hit)`."""
    return {
        "title": hit.work.title[:500],
        "title_key": title_key(hit.work.title)[:500],
        "description": hit.work.description or "",
        "subject_tags": list(hit.work.subject_tags),
        "cover_image_url": (hit.work.cover_image_url or "")[:1000],
        "first_publication_year": hit.work.first_publication_year,
        "original_language": hit.work.original_language or "",
        "open_library_work_id": hit.work.open_library_work_id or "",
        "google_books_volume_ids": list(hit.work.google_books_volume_ids),
        "goodreads_work_ids": list(hit.work.goodreads_work_ids),
        "librarything_ids": list(hit.work.librarything_ids),
        "amazon_asins": list(hit.work.amazon_asins),
        "isbndb_id": hit.work.isbndb_id or "",
        "quality": hit.work.isbndb_quality,
        "primary_provider": hit.work.primary_provider or "",
        "provenance": dict(hit.work.provenance),
        "record": record["work"],
        "author_records": record["authors"],
    }


def _edition_fields(hit: SearchHit, record: dict) -> dict:
    """The Edition row's columns (its work and timestamps aside) for the (merged) `hit`."""
    isbn13 = hit.edition.isbn or ""
    return {
        "isbn10": isbn_to_10(isbn13) or "",
        "title": (hit.edition.title or hit.work.title)[:500],
        "publisher": (hit.edition.publisher or "")[:300],
        "publication_date": hit.edition.publication_date or "",
        "page_count": hit.edition.page_count,
        "format": hit.edition.format,
        "language": hit.edition.language or "",
        "cover_image_url": (hit.edition.cover_image_url or "")[:1000],
        "open_library_edition_id": hit.edition.open_library_edition_id or "",
        "google_books_volume_id": hit.edition.google_books_volume_id or "",
        "isbndb_id": hit.edition.isbndb_id or "",
        "quality": hit.edition.isbndb_quality,
        "primary_provider": hit.edition.primary_provider or "",
        "provenance": dict(hit.edition.provenance),
        "record": record["edition"],
    }


def catalog_upsert_hits(*, hits: Sequence[SearchHit], complete_works: Sequence[str] = ()) -> int:
    """Insert or refresh works/editions/authors for hits that have an ISBN-13. Idempotent.

    `complete_works` (ISBN lookups): OpenLibrary work ids whose facts the answer lacked
    (`work_facts_missing`, decided by the caller on the full DTOs); once their rows are written,
    `search.complete_work` is queued for each after this commits, once per work.
    """
    from search.models import Edition, Work

    written = 0
    now = timezone.now()
    for hit in hits:
        isbn13 = hit.edition.isbn
        if not isbn13:
            continue
        with transaction.atomic():
            edition = Edition.objects.select_for_update().select_related("work").filter(isbn13=isbn13).first()
            work = edition.work if edition else None
            if work is None and hit.work.open_library_work_id:
                # Locked too: another edition's upsert may be merging into this work right now.
                work = (
                    Work.objects.select_for_update()
                    .filter(open_library_work_id=hit.work.open_library_work_id)
                    .order_by("pk")
                    .first()
                )
            # Stored values are merged in for CATALOG_FRESH_DAYS from the chain's first answer; then the
            # next answer starts a new chain, so a value no provider gives any more does not stay forever.
            chain = [row.merged_since or row.fetched_at for row in (edition, work) if row is not None]
            continuing = bool(chain) and now - min(chain) < timedelta(days=settings.SEARCH_CATALOG_FRESH_DAYS)
            if continuing:
                hit = _merged_with_stored(hit, edition=edition, work=work)
            merged_since = min(chain) if continuing else now
            record = hit_to_record(hit)
            work_fields = {**_work_fields(hit, record), "fetched_at": now, "merged_since": merged_since}
            if work is None:
                work = Work.objects.create(**work_fields)
            else:
                for name, value in work_fields.items():
                    setattr(work, name, value)
                work.save()
            work.authors.set([_author_upsert(a) for a in hit.authors])
            edition_fields = {
                **_edition_fields(hit, record),
                "work": work,
                "fetched_at": now,
                "merged_since": merged_since,
            }
            Edition.objects.update_or_create(isbn13=isbn13, defaults=edition_fields)
            written += 1
    if complete_works:
        catalog_schedule_work_completion(work_ids=complete_works)
    return written


def catalog_schedule_upsert(*, hits: Sequence[SearchHit], complete_works: Sequence[str] = ()) -> None:
    """Queue the upsert after the current transaction commits (never on the request's critical path).
    `complete_works`: see `catalog_upsert_hits`."""
    records = [hit_to_record(h) for h in hits if h.edition.isbn]
    if not records:
        return

    def _enqueue() -> None:
        from search.tasks import upsert_catalog

        try:
            if complete_works:
                upsert_catalog.delay(records, complete_works=list(complete_works))
            else:
                upsert_catalog.delay(records)
        except Exception:  # the catalog is a cache of searches: losing one write is fine
            logger.warning("could not queue search.upsert_catalog", exc_info=True)

    transaction.on_commit(_enqueue)


# --- work facts (OpenLibrary's work record) -----------------------------------------------------------
#
# An ISBN answer is an edition: Google's record may have no description, and OpenLibrary's edition
# record (`/api/books` jscmd=details) has the work's key but not its description, first publication
# year or subjects. Those are read from `/works/{id}.json` in the background (search.complete_work,
# providers queue, inside the OpenLibrary budget) and merged into the catalog with the usual field
# rules; the task then rewrites the cached ISBN answers of the work's editions.

WORK_FACT_FIELDS = ("description", "first_publication_year", "subject_tags")
# Completion state per OpenLibrary work id, in the shared cache: "queued" while a task is due (a lost
# task is retried by a later lookup after this), "done" for as long as a catalog merge chain lasts.
COMPLETION_QUEUED_SECONDS = 120


def work_facts_missing(work: WorkDTO) -> bool:
    """Whether OpenLibrary's work record could add to `work`: it has a work key and lacks a description,
    subjects, or a work-level first publication year (an edition's date does not count)."""
    if not work.open_library_work_id:
        return False
    return not work.description or not work.subject_tags or not work.first_publication_year or work.year_from_edition


def work_facts_only(work: WorkDTO) -> WorkDTO:
    """The work-level facts of `work` (description, first year, subjects) with their provenance, and
    nothing else: merged into an answer, they can only add those facts."""
    provenance = {k: v for k, v in work.provenance.items() if k in WORK_FACT_FIELDS}
    return WorkDTO(
        title=work.title,
        description=work.description,
        first_publication_year=work.first_publication_year,
        year_from_edition=work.year_from_edition,
        subject_tags=work.subject_tags,
        open_library_work_id=work.open_library_work_id,
        provenance=provenance,
        contributors=tuple(dict.fromkeys(provenance.values())) or None,
    )


def hit_with_work_facts(hit: SearchHit, facts: WorkDTO) -> SearchHit:
    """`hit` with the work-level facts of `facts` merged in field by field (search.merge rules: the
    longest description, a work-level first year over an edition's date, subjects unioned); every other
    field stays `hit`'s. Provenance names the provider of each filled field."""
    only = work_facts_only(facts)
    if not only.provenance:
        return hit
    return merge_cluster([hit, SearchHit(work=only, edition=EditionDTO())])


def _completion_key(work_id: str) -> str:
    return f"search:workfacts:v1:{work_id}"


def work_completion_states(work_ids: Sequence[str]) -> dict[str, str]:
    """work id -> "queued" | "done" for the works that have a completion state."""
    if not work_ids:
        return {}
    try:
        found = django_cache.get_many([_completion_key(w) for w in work_ids])
    except Exception:  # no shared cache: treat as never completed
        logger.warning("work completion state unreadable", exc_info=True)
        return {}
    return {w: found[_completion_key(w)] for w in work_ids if _completion_key(w) in found}


def work_completion_done(work_id: str) -> None:
    django_cache.set(_completion_key(work_id), "done", settings.SEARCH_CATALOG_FRESH_DAYS * 86400)


def catalog_schedule_work_completion(*, work_ids: Sequence[str]) -> list[str]:
    """Queue `search.complete_work` after commit for each work not done nor queued already (claimed
    atomically in the shared cache, so concurrent lookups queue one task). Returns the ids queued."""
    claimed = []
    for work_id in dict.fromkeys(w for w in work_ids if w):
        try:
            if django_cache.add(_completion_key(work_id), "queued", COMPLETION_QUEUED_SECONDS):
                claimed.append(work_id)
        except Exception:  # no shared cache: completion waits for a later lookup
            logger.warning("could not claim work completion of %s", work_id, exc_info=True)
    if not claimed:
        return []

    def _enqueue() -> None:
        from search.tasks import complete_work

        for work_id in claimed:
            try:
                complete_work.delay(work_id)
            except Exception:  # a later lookup queues it again once the claim expires
                logger.warning("could not queue search.complete_work", exc_info=True)

    transaction.on_commit(_enqueue)
    return claimed


def catalog_work_facts(*, work_ids: Sequence[str]) -> dict[str, WorkDTO]:
    """OpenLibrary work id -> the work-level facts the catalog holds for it (`work_facts_only`)."""
    from search.models import Work

    out: dict[str, WorkDTO] = {}
    if not work_ids:
        return out
    try:
        rows = Work.objects.filter(open_library_work_id__in=list(set(work_ids))).exclude(record={}).order_by("pk")
        for row in rows:
            if row.open_library_work_id not in out:
                out[row.open_library_work_id] = work_facts_only(from_wire(WorkDTO, row.record))
    except Exception:  # a database hiccup: the answer goes without stored facts
        logger.warning("catalog work facts unreadable", exc_info=True)
    return out


def catalog_fill_work_facts(*, open_library_work_id: str, facts: WorkDTO) -> list[str]:
    """Merge a work record's facts into every stored edition of the work (rows locked). Returns the
    ISBN-13s of those editions (their cached answers are now out of date). Idempotent."""
    from search.models import Edition, Work

    isbns: list[str] = []
    with transaction.atomic():
        works = list(Work.objects.select_for_update().filter(open_library_work_id=open_library_work_id))
        for work in works:
            merged_work = None
            for edition in Edition.objects.select_for_update().select_related("work").filter(work=work):
                stored = _stored_hit(edition)
                if stored is None:
                    continue
                merged = hit_with_work_facts(stored, facts)
                record = hit_to_record(merged)
                for name, value in _edition_fields(merged, record).items():
                    setattr(edition, name, value)
                edition.save()
                merged_work = (merged, record)
                isbns.append(edition.isbn13)
            if merged_work is not None:
                for name, value in _work_fields(*merged_work).items():
                    setattr(work, name, value)
                work.save()
    return isbns


def catalog_lookup_titles(*, title_keys: Sequence[str], per_key: int = 5) -> dict[str, list[SearchHit]]:
    """Stored works by title key (`search.text.title_key`), one hit (an edition with its work) each, at
    most `per_key` works a key, freshest first: ONE query for many titles (CSV import's title rows)."""
    from search.models import Edition

    wanted = {key for key in title_keys if key}
    if not wanted:
        return {}
    found: dict[str, list[SearchHit]] = {}
    seen_works: set[int] = set()
    editions = (
        Edition.objects.select_related("work")
        .prefetch_related("work__authors")
        .filter(work__title_key__in=wanted)
        .exclude(record={})
        .order_by("work_id", "-fetched_at")
    )
    for edition in editions:
        key = edition.work.title_key
        if edition.work_id in seen_works or len(found.get(key, ())) >= per_key:
            continue
        hit = _stored_hit(edition)
        if hit is not None:
            seen_works.add(edition.work_id)
            found.setdefault(key, []).append(hit)
    return found
