"""Celery tasks of the search app (queue: providers, routed by the `search.*` rule in settings)."""

from __future__ import annotations

from celery import shared_task

from search.catalog import catalog_upsert_hits
from search.dto import hit_from_record
from search.services import work_facts_complete


@shared_task(
    name="search.upsert_catalog",
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,
    ignore_result=True,
)
def upsert_catalog(records: list[dict], complete_works: list[str] | None = None) -> int:
    """Write search hits (wire records, JSON) to the catalog. Idempotent: keyed by ISBN-13.
    `complete_works` (ISBN lookups): OpenLibrary work ids to complete (search.complete_work) once written."""
    return catalog_upsert_hits(hits=[hit_from_record(r) for r in records], complete_works=complete_works or ())


@shared_task(
    name="search.complete_work",
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,
    ignore_result=True,
)
def complete_work(open_library_work_id: str) -> int:
    """Fill a work's description, first publication year and subjects from OpenLibrary's work record
    into the catalog, and refresh the cached ISBN answers of its editions. Idempotent (a work done
    is not asked again while its catalog merge chain lasts)."""
    return work_facts_complete(open_library_work_id=open_library_work_id)
