"""Cache warming: an upload of author names -> one task per author that fills the search cache tiers.

What a warm-up fills is exactly what the search routes read, because it goes through the same
services the routes call (search.services), with the routes' default parameters, so the cache keys
cannot drift apart:

- `GET /v1/search/advanced?author=<name>` (limit 20): `book_search_advanced(author=name)`;
- `GET /search/author?q=<name>` (limit 50, offset 0, sortBy publicationYear): `author_works_search`;
- `GET /v1/search/title?q=<title>` for the author's first `WARMING_TITLES_PER_AUTHOR` works: the
  title window every page within the first 40 results is cut from (`book_search_by_title`);
- the author facts (Wikidata) that decorate those answers (enrichment.author_facts_fill), capped at
  `WARMING_AUTHOR_FACTS_MAX` names, so the decoration of the next search queues no lookup either.

Fresh answers land in the shared tier (Redis) and in the worker's edge; any web process then
answers from the shared tier (`cacheSource: KV`) with no upstream call. A partial answer (a provider
failed: `degraded`) is cached for 5 minutes only, so it counts as a failure: the task retries.

`maxDepth` 2-3 follows co-authors: the other authors of the books the advanced search found, each
warmed once per upload (a marker per name in the shared cache).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from booktrack.core import metrics
from booktrack.core.exceptions import (
    BatchTooLarge,
    InvalidFile,
    InvalidRequest,
    MissingParameter,
    NotFound,
)
from enrichment.author_facts_fill import author_facts_fill
from enrichment.importers.base import header_key
from enrichment.importers.generic import SYNONYMS
from enrichment.importers.reading import CsvReader, Record
from enrichment.importers.registry import GENERIC, detect
from enrichment.search_decoration import author_queries_of
from harvest.models import WarmingDeadLetter, WarmingRun
from search.dto import SearchHit, clean_text
from search.services import author_works_search, book_search_advanced, book_search_by_title
from search.text import text_key

logger = logging.getLogger(__name__)

MIN_DEPTH, MAX_DEPTH = 1, 3
DLQ_QUEUE = "harvest.warm_author"
MAX_NAME_LENGTH = 300
# A one-column file whose first cell is one of these words has a header row (else every row is a name).
_AUTHOR_HEADERS = frozenset(header_key(n) for n in (*SYNONYMS["author"], "name", "names", "author names"))
_MORE_AUTHORS_HEADERS = frozenset(("additional authors", "co-authors", "coauthors", "other authors"))
_AUTHOR_KEYS = ("author", "authors", "additional_authors")
SEEN_TTL = 7 * 86400


# --- the upload --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarmingStarted:
    job_id: str
    authors_queued: int
    max_depth: int

    def to_wire(self) -> dict[str, object]:
        return {"jobId": self.job_id, "authorsQueued": self.authors_queued}


def warming_upload_decode(*, csv_base64: object, upload: bytes | None) -> bytes:
    """The CSV bytes of an upload: the multipart `file`, else the JSON `csv` (base64)."""
    if upload is not None:
        return upload
    if csv_base64 in (None, ""):
        raise MissingParameter("Send the CSV as JSON {\"csv\": <base64>} or as the multipart field 'file'.")
    if not isinstance(csv_base64, str):
        raise InvalidFile("'csv' must be a base64 string.")
    text = "".join(csv_base64.split())  # base64 wrapped over lines is still base64
    if "," in text[:100] and text.startswith("data:"):
        text = text.split(",", 1)[1]  # a data: URL, as a browser's FileReader gives it
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidFile("'csv' is not valid base64.") from None


def warming_depth_parse(value: object) -> int:
    """`maxDepth`: 1 (the named authors only) to 3; absent means 1."""
    if value in (None, ""):
        return MIN_DEPTH
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidRequest("'maxDepth' must be an integer from 1 to 3.", details={"maxDepth": value})
    try:
        depth = int(str(value).strip())
    except ValueError:
        raise InvalidRequest("'maxDepth' must be an integer from 1 to 3.", details={"maxDepth": value}) from None
    if not MIN_DEPTH <= depth <= MAX_DEPTH:
        raise InvalidRequest("'maxDepth' must be between 1 and 3.", details={"maxDepth": depth})
    return depth


def warming_authors_parse(data: bytes) -> tuple[str, ...]:
    """Author names of an upload, in file order, each once (compared case- and accent-insensitively).

    A book export (Goodreads, StoryGraph, LibraryThing... or any header naming an author column) is
    read with the CSV importers' own reader and column detection: its author column(s). Any other
    file is a plain list: the first cell of each row is a name (a first row reading "author" or
    "name" is a header). Raises InvalidFile when the file is empty or unreadable, or a book export
    has no author column.
    """
    if not data or data.isspace():
        raise InvalidFile("The CSV is empty.")
    records = iter(CsvReader(data))
    header = next(records, None)
    if header is None:
        raise InvalidFile("The CSV is empty.")
    importer = detect(header.cells)
    plan = (importer or GENERIC).bind(header.cells)
    names: Iterable[str]
    if any(key in plan.index for key in _AUTHOR_KEYS):
        index = dict(plan.index)
        if "additional_authors" not in index:  # the generic importer reads one author column only
            extra = [i for i, h in enumerate(header.cells) if header_key(h) in _MORE_AUTHORS_HEADERS]
            if extra:
                index["additional_authors"] = extra[0]
        names = _export_authors(index, plan.importer, records)
    elif importer is not None:
        raise InvalidFile(
            f"The file looks like a {importer.name} export but has no author column.",
            details={"header": list(header.cells)[:30]},
        )
    else:
        first = header.cells[0] if header.cells else ""
        rest = (r.cells[0] for r in records if r.cells)
        names = rest if header_key(first) in _AUTHOR_HEADERS else (first, *rest)
    out: dict[str, str] = {}
    for raw in names:
        name = clean_text(raw)
        if not name or len(name) > MAX_NAME_LENGTH:
            continue
        out.setdefault(text_key(name), name)
    out.pop("", None)
    return tuple(out.values())


def _export_authors(index: Mapping[str, int], importer, records: Iterable[Record]) -> Iterable[str]:
    for record in records:
        cells = record.cells
        values = {key: (cells[i] if i < len(cells) else "") for key, i in index.items()}
        yield from importer.authors(values)


def warming_start(*, data: bytes, max_depth: int) -> WarmingStarted:
    """Parse the upload, record a run and queue one warm-up task per author (after commit)."""
    names = warming_authors_parse(data)
    if not names:
        raise InvalidFile("The CSV holds no author names.")
    limit = settings.WARMING_MAX_AUTHORS
    if len(names) > limit:
        raise BatchTooLarge(f"At most {limit} authors per upload.", details={"max": limit, "received": len(names)})
    with transaction.atomic():
        run = WarmingRun.objects.create(max_depth=max_depth, authors_queued=len(names))
        for name in names:
            _seen_claim(run_id=str(run.id), name=name)
            _enqueue_on_commit(author=name, depth=1, max_depth=max_depth, run_id=str(run.id))
    metrics.record_event("warming_authors_queued", len(names))
    return WarmingStarted(job_id=str(run.id), authors_queued=len(names), max_depth=max_depth)


def _enqueue_on_commit(*, author: str, depth: int, max_depth: int, run_id: str | None, prior_attempts: int = 0):
    from harvest.tasks import warm_author

    kwargs = {
        "author": author,
        "depth": depth,
        "max_depth": max_depth,
        "run_id": run_id,
        "prior_attempts": prior_attempts,
    }
    transaction.on_commit(partial(warm_author.apply_async, kwargs=kwargs))


def _seen_key(run_id: str, name: str) -> str:
    digest = hashlib.sha1(text_key(name).encode(), usedforsecurity=False).hexdigest()
    return f"harvest:warming:{run_id}:{digest}"


def _seen_claim(*, run_id: str, name: str) -> bool:
    """True the first time `name` is claimed in this run (atomic across processes)."""
    try:
        return bool(cache.add(_seen_key(run_id, name), 1, SEEN_TTL))
    except Exception:  # a cache outage: warm it again rather than skip it
        logger.warning("warming: could not mark %r as seen", name, exc_info=True)
        return True


@dataclass(frozen=True)
class WarmingRunState:
    job_id: str
    max_depth: int
    authors_queued: int
    coauthors_queued: int
    warmed: int
    dead_lettered: int
    created_at: datetime

    def to_wire(self) -> dict[str, object]:
        return {
            "jobId": self.job_id,
            "maxDepth": self.max_depth,
            "authorsQueued": self.authors_queued,
            "coauthorsQueued": self.coauthors_queued,
            "warmed": self.warmed,
            "deadLettered": self.dead_lettered,
            "pending": max(0, self.authors_queued + self.coauthors_queued - self.warmed - self.dead_lettered),
            "createdAt": self.created_at.isoformat(),
        }


def warming_run_get(*, job_id: object) -> WarmingRunState:
    try:
        run = WarmingRun.objects.get(pk=uuid.UUID(str(job_id)))
    except (ValueError, WarmingRun.DoesNotExist):
        raise NotFound(f"No warming job {job_id}.") from None
    return WarmingRunState(
        job_id=str(run.id),
        max_depth=run.max_depth,
        authors_queued=run.authors_queued,
        coauthors_queued=run.coauthors_queued,
        warmed=run.warmed,
        dead_lettered=run.dead_lettered,
        created_at=run.created_at,
    )


# --- one author ----------------------------------------------------------------------------------------


class WarmingIncomplete(Exception):
    """A provider failed during the warm-up: the answer is cached only briefly, so try again later."""


@dataclass(frozen=True)
class WarmedAuthor:
    author: str
    titles: tuple[str, ...]  # the works whose title searches were warmed
    coauthors: tuple[str, ...]
    author_facts: int  # authors whose facts were looked up (0 when all were cached)


def author_warm(*, name: str) -> WarmedAuthor:
    """Fill the cache entries the search routes read for `name` (module docstring). Raises when a
    provider failed (ProviderUnavailable, WarmingIncomplete): the task retries."""
    advanced = book_search_advanced(title=None, author=name)
    works = author_works_search(name=name)
    titles = _work_titles(works.works, advanced.hits, limit=settings.WARMING_TITLES_PER_AUTHOR)
    answers = [advanced, *(book_search_by_title(query=title) for title in titles)]
    degraded = sorted({provider for answer in answers for provider in answer.degraded})
    if degraded:
        raise WarmingIncomplete(f"providers failed while warming {name!r}: {', '.join(degraded)}")
    hits = [hit for answer in answers for hit in answer.hits]
    queries = author_queries_of(hits)[: settings.WARMING_AUTHOR_FACTS_MAX]
    looked_up = author_facts_fill(queries=queries) if queries else {}
    return WarmedAuthor(
        author=name,
        titles=titles,
        coauthors=_coauthors(name, advanced.hits, limit=settings.WARMING_MAX_COAUTHORS),
        author_facts=len(looked_up),
    )


def _work_titles(works: Sequence, hits: Sequence[SearchHit], *, limit: int) -> tuple[str, ...]:
    """The author's first `limit` distinct work titles: the author route's order (newest first), else
    the advanced search's ranking."""
    titles: dict[str, str] = {}
    for title in [*(w.title for w in works), *(h.work.title for h in hits)]:
        if len(titles) >= limit:
            break
        if title and text_key(title):
            titles.setdefault(text_key(title), title)
    return tuple(titles.values())


def _coauthors(name: str, hits: Sequence[SearchHit], *, limit: int) -> tuple[str, ...]:
    """The other authors of the books the advanced search found for `name` (each once)."""
    own = text_key(name)
    found: dict[str, str] = {}
    for hit in hits:
        keys = [text_key(a) for a in hit.author_names]
        if own not in keys:
            continue  # a book the author search matched another way: its authors are no co-authors
        for author, key in zip(hit.author_names, keys, strict=True):
            if key and key != own and len(found) < limit:
                found.setdefault(key, author)
    return tuple(found.values())


def warming_follow(*, run_id: str | None, coauthors: Sequence[str], depth: int, max_depth: int) -> int:
    """Queue the co-authors not yet warmed in this run (at `depth` + 1); returns how many."""
    if depth >= max_depth or not coauthors:
        return 0
    queued = 0
    with transaction.atomic():
        for name in coauthors:
            if run_id is not None and not _seen_claim(run_id=run_id, name=name):
                continue
            _enqueue_on_commit(author=name, depth=depth + 1, max_depth=max_depth, run_id=run_id)
            queued += 1
        if queued and run_id is not None:
            WarmingRun.objects.filter(pk=run_id).update(coauthors_queued=F("coauthors_queued") + queued)
    return queued


def warming_record_warmed(*, run_id: str | None) -> None:
    metrics.record_event("warming_authors_warmed")
    if run_id is not None:
        WarmingRun.objects.filter(pk=run_id).update(warmed=F("warmed") + 1)


# --- dead letters ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    id: int
    author: str
    error: str
    attempts: int
    failed_at: datetime

    def to_wire(self) -> dict[str, object]:
        return {
            "id": self.id,
            "author": self.author,
            "error": self.error,
            "attempts": self.attempts,
            "failedAt": self.failed_at.isoformat(),
        }


@dataclass(frozen=True)
class DeadLetterQueue:
    queue: str
    depth: int
    items: tuple[DeadLetter, ...]

    def to_wire(self) -> dict[str, object]:
        return {"queue": self.queue, "depth": self.depth, "items": [item.to_wire() for item in self.items]}


def dead_letter_store(
    *,
    task_id: str,
    author: str,
    depth: int,
    max_depth: int,
    run_id: str | None,
    error: str,
    attempts: int,
) -> bool:
    """Keep a warm-up that failed after its last retry. Idempotent per task id; True when stored now."""
    with transaction.atomic():
        run = WarmingRun.objects.filter(pk=run_id).first() if run_id else None
        _, created = WarmingDeadLetter.objects.get_or_create(
            task_id=task_id,
            defaults={
                "run": run,
                "author": author[:MAX_NAME_LENGTH],
                "depth": depth,
                "max_depth": max_depth,
                "error": error[:4000],
                "attempts": attempts,
            },
        )
        if created and run is not None:
            WarmingRun.objects.filter(pk=run.pk).update(dead_lettered=F("dead_lettered") + 1)
    if created:
        metrics.record_event("warming_dead_letters")
        logger.warning("warming %r failed after %d attempts: %s", author, attempts, error)
    return created


def dlq_list(*, limit: int = 100) -> DeadLetterQueue:
    """The dead letters, oldest first (at most `limit`), and how many there are in all."""
    rows = WarmingDeadLetter.objects.order_by("failed_at", "id")
    items = tuple(
        DeadLetter(id=r.id, author=r.author, error=r.error, attempts=r.attempts, failed_at=r.failed_at)
        for r in rows[:limit]
    )
    return DeadLetterQueue(queue=DLQ_QUEUE, depth=rows.count(), items=items)


@dataclass(frozen=True)
class Requeued:
    requeued: tuple[int, ...]
    not_found: tuple[int, ...]

    def to_wire(self) -> dict[str, object]:
        return {"requeued": len(self.requeued), "ids": list(self.requeued), "notFound": list(self.not_found)}


def dlq_requeue(*, ids: Sequence[int] | None = None, everything: bool = False) -> Requeued:
    """Send dead letters to their task again (after commit) and remove them from the queue.

    Each row is deleted in the same transaction that queues it, so two concurrent requeues never
    send one letter twice; a letter that fails again comes back as a new row, its attempts counted on.
    """
    if not everything and not ids:
        return Requeued(requeued=(), not_found=())
    with transaction.atomic():
        rows = WarmingDeadLetter.objects.select_for_update().order_by("id")
        if not everything:
            rows = rows.filter(pk__in=list(ids or ()))
        letters = list(rows)
        taken = [r for r in letters if WarmingDeadLetter.objects.filter(pk=r.pk).delete()[0]]
        for letter in taken:
            _enqueue_on_commit(
                author=letter.author,
                depth=letter.depth,
                max_depth=letter.max_depth,
                run_id=str(letter.run_id) if letter.run_id else None,
                prior_attempts=letter.attempts,
            )
            if letter.run_id:
                WarmingRun.objects.filter(pk=letter.run_id, dead_lettered__gt=0).update(
                    dead_lettered=F("dead_lettered") - 1
                )
    found = {r.pk for r in taken}
    missing = tuple(i for i in (ids or ()) if i not in found) if not everything else ()
    return Requeued(requeued=tuple(sorted(found)), not_found=missing)


def dlq_requeue_parse(body: object) -> tuple[tuple[int, ...], bool]:
    """`{ids: [...]}` or `{all: true}` -> (ids, everything)."""
    if not isinstance(body, Mapping):
        raise InvalidRequest('The body must be {"ids": [...]} or {"all": true}.')
    everything = body.get("all")
    ids = body.get("ids")
    if everything not in (None, False, True):
        raise InvalidRequest("'all' must be true or false.")
    if everything and ids not in (None, []):
        raise InvalidRequest("Send either 'ids' or 'all', not both.")
    if everything:
        return (), True
    if ids in (None, []):
        raise MissingParameter('Send {"ids": [...]} or {"all": true}.', details={"parameter": "ids"})
    if not isinstance(ids, list) or not all(_is_id(i) for i in ids):
        raise InvalidRequest("'ids' must be a list of dead-letter ids (integers).")
    return tuple(dict.fromkeys(int(i) for i in ids)), False


def _is_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isdigit()
