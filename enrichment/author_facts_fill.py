"""Author facts for search answers are looked up in the background, never on the request path.

Authors an answer has that nobody looked up yet are queued for ONE task, `enrichment.fill_author_facts`
(providers queue), at most `MAX_NAMES_PER_TASK` names (`author_facts_fill_schedule`). A short-lived
marker per name (`cache.add`, atomic) keeps concurrent answers from queueing the same name twice; it
also spaces retries when Wikidata or the broker is down. The message is sent after commit, from a
small background thread, so a slow or dead broker never delays or fails the answer (it is logged).
The task runs `author_facts_fill` (Wikidata lookups, idempotent).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from django.db import transaction

from enrichment.author_facts_memo import memo_forget, memo_mark_queued
from enrichment.authors import (
    AuthorFacts,
    AuthorQuery,
    author_facts_cached,
    author_facts_lookup_many,
    author_facts_not_found_remember,
    author_facts_queue_claim,
)

logger = logging.getLogger(__name__)

FILL_TASK_NAME: Final = "enrichment.fill_author_facts"
MAX_NAMES_PER_TASK: Final = 10
# Long enough to cover a queued task's run (a lookup is a few Wikidata calls), short enough that a
# failed one (Wikidata or broker down) is retried by the next answer a few minutes later.
PENDING_TTL: Final = 300
FILL_DEADLINE_SECONDS: Final = 120.0

# One thread sends the task messages: a broker that is slow to connect never holds a request.
_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrichment-enqueue")
# Names this process tried to queue, and when it may try again (the shared marker lasts PENDING_TTL).
_RETRY_LOCALLY_AFTER: Final = 30.0
_TRIED_MAX: Final = 20_000
_tried: dict[str, float] = {}


# --- queueing -----------------------------------------------------------------------------------------


def author_facts_fill_schedule(*, queries: Sequence[AuthorQuery]) -> list[str]:
    """Queue one `enrichment.fill_author_facts` task for the authors nobody has queued yet.

    Returns the names queued (at most MAX_NAMES_PER_TASK). Never raises.
    """
    claimed: list[AuthorQuery] = []
    queued: list[str] = []  # claimed here, or already queued by someone: memoized as queued
    now = time.monotonic()
    for query in queries:
        if len(claimed) >= MAX_NAMES_PER_TASK:
            break  # the rest is picked up by a later answer
        queued.append(query.name)
        if _tried.get(query.name, 0.0) > now:
            continue  # this process asked recently: no shared-cache round trip on every hot answer
        try:
            if author_facts_queue_claim(name=query.name, ttl=PENDING_TTL):
                claimed.append(query)
        except Exception:
            logger.warning("could not mark author %r as queued", query.name, exc_info=True)
            return []
        if len(_tried) > _TRIED_MAX:
            _tried.clear()
        _tried[query.name] = now + _RETRY_LOCALLY_AFTER
    memo_mark_queued(queued)
    if not claimed:
        return []
    payload = [
        {"name": q.name, "knownTitles": list(q.known_titles), "openLibraryID": q.openlibrary_id} for q in claimed
    ]
    transaction.on_commit(lambda: _sender.submit(_send, payload))
    return [q.name for q in claimed]


def _send(payload: list[dict[str, Any]]) -> None:
    from enrichment.tasks_authors import fill_author_facts

    try:
        fill_author_facts.apply_async(args=[payload], retry=False)
    except Exception:  # the markers expire; a later answer queues these names again
        logger.warning("could not queue %s for %d authors", FILL_TASK_NAME, len(payload), exc_info=True)


def queries_from_payload(payload: Sequence[dict[str, Any]]) -> list[AuthorQuery]:
    out = []
    for item in payload:
        name = str(item.get("name") or "").strip()
        if name:
            titles = tuple(str(t) for t in item.get("knownTitles") or () if t)
            out.append(AuthorQuery(name=name, known_titles=titles, openlibrary_id=item.get("openLibraryID") or None))
    return out


def tried_clear() -> None:
    """Forget which names this process queued (tests)."""
    _tried.clear()


# --- the background fill ------------------------------------------------------------------------------


def author_facts_fill(
    *, queries: Sequence[AuthorQuery], deadline: float | None = None
) -> dict[str, AuthorFacts | None]:
    """Look up (Wikidata) the authors whose bare name has no cached answer yet. Idempotent.

    A found author is cached under the hinted and the bare name (by `author_facts_lookup`). When the
    hinted lookup finds nobody, the bare name is cached as "not found" too: hints only add evidence,
    so the bare lookup could not do better, and search answers read the bare name. Upstream errors
    are not cached; the author is retried when the queue marker expires.
    """
    todo = [q for q in queries if author_facts_cached(name=q.name) is None]
    if not todo:
        return {}
    end = deadline if deadline is not None else time.monotonic() + FILL_DEADLINE_SECONDS
    found = author_facts_lookup_many(names=todo, deadline=end)
    for query in todo:
        if found.get(query.name) is not None:
            continue
        entry = author_facts_cached(
            name=query.name, known_titles=query.known_titles, openlibrary_id=query.openlibrary_id
        )
        if entry is not None and entry.facts is None:
            author_facts_not_found_remember(name=query.name)
    memo_forget([q.name for q in todo])  # this process (embedded mode) sees the new answers at once
    return found
