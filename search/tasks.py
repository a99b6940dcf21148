"""Celery tasks of the search app (queue: providers, routed by the `search.*` rule in settings)."""

from __future__ import annotations

from celery import shared_task

from search.catalog import catalog_upsert_hits
from search.dto import hit_from_record


@shared_task(
    name="search.upsert_catalog",
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,
    ignore_result=True,
)
def upsert_catalog(records: list[dict]) -> int:
    """Write search hits (wire records, JSON) to the catalog. Idempotent: keyed by ISBN-13."""
    return catalog_upsert_hits(hits=[hit_from_record(r) for r in records])
