"""Catalog reads (ISBN lookups, tier CATALOG) and the after-response upsert of search results."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
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


def catalog_upsert_hits(*, hits: Sequence[SearchHit]) -> int:
    """Insert or refresh works/editions/authors for hits that have an ISBN-13. Idempotent."""
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
            work_fields = {
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
                "fetched_at": now,
                "merged_since": merged_since,
            }
            if work is None:
                work = Work.objects.create(**work_fields)
            else:
                for name, value in work_fields.items():
                    setattr(work, name, value)
                work.save()
            work.authors.set([_author_upsert(a) for a in hit.authors])
            edition_fields = {
                "work": work,
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
                "fetched_at": now,
                "merged_since": merged_since,
            }
            Edition.objects.update_or_create(isbn13=isbn13, defaults=edition_fields)
            written += 1
    return written


def catalog_schedule_upsert(*, hits: Sequence[SearchHit]) -> None:
    """Queue the upsert after the current transaction commits (never on the request's critical path)."""
    records = [hit_to_record(h) for h in hits if h.edition.isbn]
    if not records:
        return

    def _enqueue() -> None:
        from search.tasks import upsert_catalog

        try:
            upsert_catalog.delay(records)
        except Exception:  # noqa: BLE001 - the catalog is a cache of searches: losing one write is fine
            logger.warning("could not queue search.upsert_catalog", exc_info=True)

    transaction.on_commit(_enqueue)
