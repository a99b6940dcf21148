"""Celery task that fills the author-facts cache for search answers (queue `providers` by the
`enrichment.*` route). Imported by `EnrichmentConfig.ready()`: autodiscovery only imports `tasks`."""

from __future__ import annotations

from celery import shared_task

from enrichment.author_facts_fill import FILL_TASK_NAME, author_facts_fill, queries_from_payload


@shared_task(name=FILL_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fill_author_facts(authors: list[dict]) -> int:
    """`authors`: [{name, knownTitles, openLibraryID}]. Idempotent: authors already cached are skipped.

    No Celery retry: lookups never raise for upstream trouble, and an author whose lookup failed is
    queued again by the next search answer once its marker expires.
    """
    return len(author_facts_fill(queries=queries_from_payload(authors)))
