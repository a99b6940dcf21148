"""The public search API (used by views, enrichment, batch workers). Thread-safe; keyword-only.

Each call: validate -> tiered cache (edge, KV, catalog for ISBNs) -> parallel provider fan-out under
one deadline -> field-by-field merge -> ranking. Fresh provider answers are written to the catalog
after the response (`search.upsert_catalog`).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from django.conf import settings

from booktrack.core.exceptions import InvalidQuery, ProviderUnavailable
from search.answers import Fetched, ServedAnswer
from search.cache.keys import cache_key, query_key
from search.cache.tiers import answer_fetch, cached_fetch, cached_fetch_many, kv_set
from search.cache.ttl import cache_ttl
from search.catalog import (
    catalog_fill_work_facts,
    catalog_lookup_isbn,
    catalog_schedule_upsert,
    catalog_schedule_work_completion,
    catalog_work_facts,
    hit_with_work_facts,
    work_completion_done,
    work_completion_states,
    work_facts_missing,
)
from search.dto import ProviderPage, SearchHit, SearchResult, WorkDTO, clean_text, provider_label
from search.fanout import fanout_run
from search.hooks import decorate_result
from search.isbn import isbn_normalize
from search.merge import merge_pages, merged_providers
from search.providers import PRIORITY, provider_get, providers_enabled
from search.providers.base import Provider
from search.ranking import rank_hits, title_similarity
from search.text import surname_key, text_key

MAX_QUERY_LENGTH = 500
_lookup_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="search-lookup")


def _deadline(deadline: float | None) -> float:
    return deadline if deadline is not None else time.monotonic() + settings.SEARCH_DEADLINE_SECONDS


def _clean_query(value: str | None, *, name: str = "q") -> str:
    """Trimmed, single-spaced; Unicode letters and accents kept (no ASCII-only stripping)."""
    text = clean_text(value) or ""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"'{name}' is longer than {MAX_QUERY_LENGTH} characters.")
    return text


def _result(
    hits: Sequence[SearchHit], *, total: int, failed: Sequence[str], ranked: bool = True, past_end: bool = False
) -> SearchResult:
    """A merged answer. `past_end`: a later page that came back empty keeps the query's total (the
    results exist, this page is beyond them); a first page with no hits is simply "not found" (0)."""
    return SearchResult(
        hits=tuple(hits),
        total_results=max(total, len(hits)) if hits or past_end else 0,
        provider=provider_label(merged_providers(hits)),
        degraded=tuple(failed),
    )


def _fan(operation: str, call: Callable[..., ProviderPage], deadline: float):
    providers = providers_enabled(operation)
    return fanout_run(calls={p.name: (lambda p=p: call(p)) for p in providers}, deadline=deadline)


def _require_an_answer(operation: str, hits: Sequence[SearchHit], failed: Sequence[str]) -> None:
    """Raise ProviderUnavailable when every enabled provider failed and nothing was found.

    Such an answer is not "not found": raising keeps it out of every cache tier (the loader never
    returns, so nothing is stored) and tells the client to retry instead of caching a false miss.
    """
    if hits or not failed:
        return
    enabled = {p.name for p in providers_enabled(operation)}
    if enabled and enabled <= set(failed):
        raise ProviderUnavailable(
            "Every book provider failed; try again shortly.", details={"providers": sorted(enabled)}
        )


# --- ISBN ---------------------------------------------------------------------------------------


def _isbn_answer(isbn13: str, pages: Sequence[ProviderPage], failed: Sequence[str]) -> SearchResult:
    """The one book with `isbn13` from the providers' pages (merged), or an empty answer."""
    pages = [
        replace(page, hits=tuple(h for h in page.hits if isbn13 in h.edition.isbns or h.edition.isbn == isbn13))
        for page in pages
    ]
    hits = rank_hits(merge_pages(pages, priority=PRIORITY), isbn=isbn13)
    hits = [h for h in hits if h.edition.isbn == isbn13][:1]
    return _result(hits, total=len(hits), failed=failed)


def _isbn_from_providers(isbn13: str, deadline: float) -> SearchResult:
    outcome = _fan("search_isbn", lambda p: p.search_isbn(isbn13=isbn13, deadline=deadline), deadline)
    result = _isbn_answer(isbn13, outcome.pages, outcome.failed)
    _require_an_answer("search_isbn", result.hits, outcome.failed)
    if result.hits:
        answers, due = _with_work_facts({isbn13: result})
        result = answers[isbn13]
        catalog_schedule_upsert(hits=result.hits, complete_works=due)
    return result


def _with_work_facts(results: dict[str, SearchResult]) -> tuple[dict[str, SearchResult], list[str]]:
    """(ISBN answers with the work-level facts the catalog holds for their work merged in, the
    OpenLibrary work ids whose completion is due). A fresh provider answer carries no work
    description; `search.complete_work` puts it in the catalog.

    An answer that lacked facts (`work_facts_missing`, judged on the answer as given: the stored
    record no longer tells an edition's date from a work's first year) whose work is not done is
    `provisional`: the completion (queued by the caller for the due ids) rewrites its cache entry, so
    the cache tiers hold it only briefly (search.cache.ttl).
    """
    lacking = {i: r for i, r in results.items() if r.hits and work_facts_missing(r.hits[0].work)}
    if not lacking:
        return results, []
    work_ids = list({r.hits[0].work.open_library_work_id for r in lacking.values()})
    stored = catalog_work_facts(work_ids=work_ids)
    states = work_completion_states(work_ids)
    out = dict(results)
    due: list[str] = []
    for isbn13, result in lacking.items():
        hit = result.hits[0]
        work_id = hit.work.open_library_work_id
        if work_id in stored:
            hit = hit_with_work_facts(hit, stored[work_id])
            result = replace(result, hits=(hit, *result.hits[1:]), provider=provider_label(merged_providers([hit])))
        if states.get(work_id) != "done":  # a completion is due or queued: it will rewrite this answer
            result = replace(result, provisional=True)
            if states.get(work_id) is None and work_id not in due:
                due.append(work_id)
        out[isbn13] = result
    return out, due


def work_facts_complete(*, open_library_work_id: str, deadline: float | None = None) -> int:
    """Complete a work from OpenLibrary's work record (`/works/{id}.json`, inside the OpenLibrary
    budget): merge its description, first publication year and subjects into the catalog's editions
    of the work, then rewrite their cached ISBN answers (365-day entries would keep the thin answer).
    Returns the editions completed. Idempotent: a work already done is not asked again."""
    if work_completion_states([open_library_work_id]).get(open_library_work_id) == "done":
        return 0
    facts = provider_get("openlibrary").work_facts(work_id=open_library_work_id, deadline=_deadline(deadline))
    isbns = catalog_fill_work_facts(open_library_work_id=open_library_work_id, facts=facts) if facts else []
    work_completion_done(open_library_work_id)
    for isbn13 in isbns:
        answer = _isbn_from_catalog(isbn13)
        if answer is not None:
            kv_set(cache_key("isbn", isbn13), answer, cache_ttl(kind="isbn", result=answer))
    return len(isbns)


def book_search_by_isbn(*, isbn: str, deadline: float | None = None) -> SearchResult:
    """One book by ISBN-10 or 13 (same answer for both). Raises InvalidIsbn for a bad checksum."""
    return book_answer_by_isbn(isbn=isbn, deadline=deadline).result


def book_answer_by_isbn(*, isbn: str, deadline: float | None = None) -> ServedAnswer:
    """`book_search_by_isbn` as a route serves it: the decorated answer with its rendered payload."""
    # Decorated after the cache: cached answers get fresh decorations (search.hooks, search.answers).
    return _isbn_cached(isbn_normalize(isbn), _deadline(deadline)).served()


def _isbn_cached(isbn13: str, end: float) -> Fetched:
    return answer_fetch(
        kind="isbn",
        key=cache_key("isbn", isbn13),
        loader=lambda d: _isbn_from_providers(isbn13, d),
        deadline=end,
        catalog=lambda: _isbn_from_catalog(isbn13),
    )


def _isbn_from_catalog(isbn13: str) -> SearchResult | None:
    hit = catalog_lookup_isbn(isbn13=isbn13)
    if hit is None:
        return None
    result = SearchResult(hits=(hit,), total_results=1, provider=provider_label(merged_providers([hit])))
    answers, due = _with_work_facts({isbn13: result})
    if due:  # the rows exist: complete them now
        catalog_schedule_work_completion(work_ids=due)
    return answers[isbn13]


# --- title / advanced ----------------------------------------------------------------------------


TYPO_FALLBACK_MIN_SIMILARITY = 60.0
# Each provider's first PAGING_WINDOW title results, merged and ranked, make the cached window that
# pages are cut from (40: Google's largest page, so every provider answers it in one call).
PAGING_WINDOW = 40


def _title_from_providers(
    query: str, limit: int, offset: int, deadline: float, *, window: bool = False
) -> SearchResult:
    """One page (`limit` hits from `offset`), or with `window` every merged hit of each provider's
    first `limit` results (the paging window; `complete` when every provider had no more)."""
    outcome = _fan(
        "search_title",
        lambda p: p.search_title(query=query, limit=limit, offset=offset, deadline=deadline),
        deadline,
    )
    ranked = rank_hits(merge_pages(outcome.pages, priority=PRIORITY), query=query)
    hits = ranked if window else ranked[:limit]
    total = max((p.total for p in outcome.pages), default=0)
    complete = bool(outcome.pages) and not outcome.failed and total <= limit and offset == 0
    if complete:
        total = len(ranked)  # every provider's every result was merged: the exact count
    if not hits and offset == 0:
        # Typo tolerance when upstreams match literally ("Grate Gatsby"): search the query's most
        # distinctive words alone and keep only titles that are fuzzily close to the whole query.
        words = sorted({w for w in text_key(query).split() if len(w) >= 4}, key=len, reverse=True)[:2]
        for word in words if len(text_key(query).split()) > 1 else ():
            if time.monotonic() >= deadline - 0.2:
                break
            retry = _fan(
                "search_title",
                lambda p, word=word: p.search_title(query=word, limit=40, offset=0, deadline=deadline),
                deadline,
            )
            candidates = [
                h
                for h in merge_pages(retry.pages, priority=PRIORITY)
                if title_similarity(query, h.work.title) >= TYPO_FALLBACK_MIN_SIMILARITY
            ]
            if candidates:
                ranked_candidates = rank_hits(candidates, query=query)
                hits = ranked_candidates if window else ranked_candidates[:limit]
                total = len(candidates)
                complete = True  # the fuzzy matches are all there is; the literal query has none
                outcome = retry
                break
    _require_an_answer("search_title", hits, outcome.failed)
    result = _result(hits, total=max(total, len(hits)), failed=outcome.failed, past_end=offset > 0)
    if hits:
        catalog_schedule_upsert(hits=hits[:PAGING_WINDOW])
    return replace(result, complete=complete) if complete else result


def book_search_by_title(
    *, query: str, limit: int = 20, offset: int = 0, deadline: float | None = None
) -> SearchResult:
    """Books whose title matches `query` (typo tolerant), best first. Raises InvalidQuery when blank."""
    return book_answer_by_title(query=query, limit=limit, offset=offset, deadline=deadline).result


def book_answer_by_title(
    *, query: str, limit: int = 20, offset: int = 0, deadline: float | None = None
) -> ServedAnswer:
    """`book_search_by_title` as a route serves it (see `book_answer_by_isbn`)."""
    text = _clean_query(query)
    if not text:
        raise InvalidQuery("The search query must not be empty.")
    limit = min(max(int(limit), 1), 100)
    offset = max(int(offset), 0)
    # Pages are cut from one cached, merged and ranked window (each provider's first PAGING_WINDOW
    # results): consecutive pages never repeat or skip a book, share one total, and cost no upstream
    # call after the first. Only a page past the window's end, when providers have more, asks each
    # provider for its own page at `offset`.
    window = answer_fetch(
        kind="title",
        key=cache_key("title", query_key(text), "window", PAGING_WINDOW),
        loader=lambda d: _title_from_providers(text, PAGING_WINDOW, 0, d, window=True),
        deadline=_deadline(deadline),
    )
    whole = window.answer.result
    if offset + limit <= max(PAGING_WINDOW, len(whole.hits)) or whole.complete or not whole.hits:
        # A page is an answer of its own, held by the window's (search.answers): a hot page keeps its
        # decoration and rendered form.
        return window.derived(("page", limit, offset), lambda r: result_page(r, limit=limit, offset=offset)).served()
    return answer_fetch(
        kind="title",
        key=cache_key("title", query_key(text), limit, offset),
        loader=lambda d: _title_from_providers(text, limit, offset, d),
        deadline=_deadline(deadline),
    ).served()


def result_page(result: SearchResult, *, limit: int, offset: int) -> SearchResult:
    """Hits [offset, offset + limit) of a ranked answer, with its total. An empty page says provider
    "none", like any answer without hits."""
    hits = result.hits[offset : offset + limit]
    return replace(result, hits=hits, provider=provider_label(merged_providers(hits)) if hits else "none")


def _advanced_from_providers(title: str | None, author: str | None, limit: int, deadline: float) -> SearchResult:
    outcome = _fan(
        "search_advanced",
        lambda p: p.search_advanced(title=title, author=author, limit=limit, deadline=deadline),
        deadline,
    )
    hits = merge_pages(outcome.pages, priority=PRIORITY)
    if author:
        wanted = surname_key(author)
        # Keep books by the author when any provider told us authors (drop unrelated title matches).
        matching = [h for h in hits if not h.authors or any(surname_key(a) == wanted for a in h.author_names)]
        hits = matching or hits
    hits = rank_hits(hits, query=title, author=author)[:limit]
    total = max((p.total for p in outcome.pages), default=0)
    _require_an_answer("search_advanced", hits, outcome.failed)
    result = _result(hits, total=total, failed=outcome.failed)
    if hits:
        catalog_schedule_upsert(hits=hits)
    return result


def book_search_advanced(
    *, title: str | None, author: str | None, limit: int = 20, deadline: float | None = None
) -> SearchResult:
    """Books by title and/or author. Raises InvalidQuery when both are blank."""
    return book_answer_advanced(title=title, author=author, limit=limit, deadline=deadline).result


def book_answer_advanced(
    *, title: str | None, author: str | None, limit: int = 20, deadline: float | None = None
) -> ServedAnswer:
    """`book_search_advanced` as a route serves it (see `book_answer_by_isbn`)."""
    title_text = _clean_query(title, name="title") or None
    author_text = _clean_query(author, name="author") or None
    if not title_text and not author_text:
        raise InvalidQuery("Give a title, an author, or both.")
    limit = min(max(int(limit), 1), 100)
    return answer_fetch(
        kind="advanced",
        key=cache_key("advanced", query_key(title_text), query_key(author_text), limit),
        loader=lambda d: _advanced_from_providers(title_text, author_text, limit, d),
        deadline=_deadline(deadline),
    ).served()


# --- editions ----------------------------------------------------------------------------------------

EDITION_MATCH_THRESHOLD = 80.0


def editions_search_result(
    *, work_title: str, author: str | None, limit: int = 20, deadline: float | None = None
) -> SearchResult:
    """Hits that are editions of the work titled `work_title` (cached, unranked by preference)."""
    title_text = _clean_query(work_title, name="workTitle")
    if not title_text:
        raise InvalidQuery("'workTitle' must not be empty.")
    author_text = _clean_query(author, name="author") or None
    limit = min(max(int(limit), 1), 100)

    def load(end: float) -> SearchResult:
        outcome = _fan(
            "search_advanced",
            lambda p: p.search_advanced(title=title_text, author=author_text, limit=40, deadline=end),
            end,
        )
        pages = list(outcome.pages)
        failed = list(outcome.failed)
        work_id = next(
            (
                h.work.open_library_work_id
                for p in pages
                for h in p.hits
                if h.work.open_library_work_id and title_similarity(title_text, h.work.title) >= EDITION_MATCH_THRESHOLD
            ),
            None,
        )
        openlibrary = provider_get("openlibrary")
        if work_id and openlibrary.enabled() and time.monotonic() < end - 0.2:
            # All editions of the work (OpenLibrary lists them; search answers show only a few).
            more = fanout_run(
                calls={"openlibrary": lambda: openlibrary.work_editions(work_id=work_id, limit=50, deadline=end)},
                deadline=end,
            )
            pages.extend(more.pages)
            failed.extend(f for f in more.failed if f not in failed)
        hits = merge_pages(pages, priority=PRIORITY)
        wanted = surname_key(author_text) if author_text else None
        hits = [
            h
            for h in hits
            if title_similarity(title_text, h.work.title) >= EDITION_MATCH_THRESHOLD
            and (not wanted or not h.authors or any(surname_key(a) == wanted for a in h.author_names))
        ]
        _require_an_answer("search_advanced", hits, failed)
        return _result(hits[:100], total=len(hits), failed=failed)

    return cached_fetch(
        kind="editions",
        key=cache_key("editions", query_key(title_text), query_key(author_text), limit),
        loader=load,
        deadline=_deadline(deadline),
    )


# --- author works (legacy /search/author) -----------------------------------------------------------

AUTHOR_SORTS = {"publicationYear": "new", "publicationYearAsc": "old", "title": "title", "popularity": "editions"}


@dataclass(frozen=True)
class AuthorWorks:
    name: str | None
    open_library_key: str | None
    total_works: int
    works: tuple[WorkDTO, ...]
    total: int
    cached: bool = False

    @property
    def found(self) -> bool:
        return self.name is not None

    def with_cache(self, *, cached: bool, cache_source: str | None) -> AuthorWorks:
        return replace(self, cached=cached)


def author_works_search(
    *, name: str, limit: int = 50, offset: int = 0, sort_by: str = "publicationYear", deadline: float | None = None
) -> AuthorWorks:
    """An author's works from OpenLibrary, paged; offset is part of the cache key."""
    text = _clean_query(name)
    if not text:
        raise InvalidQuery("The author name must not be empty.")
    if sort_by not in AUTHOR_SORTS:
        raise InvalidQuery(f"'sortBy' must be one of {', '.join(AUTHOR_SORTS)}.")
    limit = min(max(int(limit), 1), 100)
    offset = max(int(offset), 0)
    openlibrary = provider_get("openlibrary")

    def load(end: float) -> AuthorWorks:
        # Works are listed by OpenLibrary author key (/authors/{key}/works.json): an author without
        # one cannot be asked for, so it counts as unknown.
        authors = [a for a in openlibrary.author_search(name=text, deadline=end) if a.open_library_id]
        if not authors:
            return AuthorWorks(name=None, open_library_key=None, total_works=0, works=(), total=0)
        wanted = text_key(text)
        author = next((a for a in authors if text_key(a.name) == wanted), authors[0])
        page = openlibrary.author_works_page(
            author_id=author.open_library_id, limit=limit, offset=offset, sort=AUTHOR_SORTS[sort_by], deadline=end
        )
        works = tuple(h.work for h in page.hits)  # sorted across all the author's works by the provider
        if not works and offset == 0:
            # Nothing listed for the author: the contract's unknown-author answer, not an empty page.
            return AuthorWorks(name=None, open_library_key=None, total_works=0, works=(), total=0)
        return AuthorWorks(
            name=author.name,
            open_library_key=author.open_library_id,
            total_works=author.book_count if author.book_count is not None else page.total,
            works=works,
            total=page.total,
        )

    return cached_fetch(
        kind="author",
        key=cache_key("author", query_key(text), limit, offset, sort_by),
        loader=load,
        deadline=_deadline(deadline),
    )


# --- one provider (external debug routes) -----------------------------------------------------------


def provider_search(
    *,
    provider: str,
    operation: str,
    query: str | None = None,
    isbn: str | None = None,
    title: str | None = None,
    author: str | None = None,
    limit: int = 20,
    deadline: float | None = None,
) -> SearchResult:
    """One provider's normalized answer (no merge). Raises ProviderUnavailable when it is disabled."""
    source = provider_get(provider)
    if not source.enabled():
        raise ProviderUnavailable(f"{provider} is not configured.", details={"provider": provider})
    limit = min(max(int(limit), 1), 40)
    isbn13 = isbn_normalize(isbn) if operation == "isbn" else None
    # Validated here, before any cache or upstream: the same length rule as every other route.
    query = _clean_query(query) or None
    title = _clean_query(title, name="title") or None
    author = _clean_query(author, name="author") or None

    def load(end: float) -> SearchResult:
        if operation == "isbn":
            page = source.search_isbn(isbn13=isbn13, deadline=end)
        elif operation == "title":
            page = source.search_title(query=query or "", limit=limit, offset=0, deadline=end)
        elif operation == "author":
            page = source.author_books(name=author or "", limit=limit, deadline=end)
        else:
            page = source.search_advanced(title=title, author=author, limit=limit, deadline=end)
        hits = rank_hits(list(page.hits), query=query or title, isbn=isbn13, author=author)[:limit]
        return SearchResult(
            hits=tuple(hits), total_results=page.total if hits else 0, provider=provider if hits else "none"
        )

    return cached_fetch(
        kind="isbn" if operation == "isbn" else "title",
        key=cache_key(
            "provider", provider, operation, isbn13, query_key(query), query_key(title), query_key(author), limit
        ),
        loader=load,
        deadline=_deadline(deadline),
    )


@dataclass(frozen=True)
class TitlesAnswer:
    """The books matching any of many (title, author) pairs; `complete` when no page cut them off."""

    hits: tuple[SearchHit, ...]
    complete: bool


def titles_search_many(
    *, pairs: Sequence[tuple[str, str | None]], provider: str = "openlibrary", limit: int = 100, deadline: float
) -> TitlesAnswer:
    """Many title + author lookups in ONE upstream call (bulk work such as CSV imports): the caller
    scores the hits against each pair. Not cached (each import's rows differ); the budget applies.
    Raises ProviderUnavailable when the provider is disabled or cannot search many titles at once."""
    source = provider_get(provider)
    if not source.enabled() or not source.supports("search_titles"):
        raise ProviderUnavailable(f"{provider} cannot search many titles at once.", details={"provider": provider})
    page = source.search_titles(pairs=pairs, limit=limit, deadline=deadline)
    return TitlesAnswer(hits=page.hits, complete=page.total <= len(page.hits))


# --- many ISBNs at once (v3 enrich) --------------------------------------------------------------------


def _batch_capable(provider: Provider) -> bool:
    return provider.supports("search_isbns") and bool(provider.batch_size)


def _isbn_providers(*, batch_only: bool) -> tuple[Provider, ...]:
    providers = providers_enabled("search_isbn")
    return tuple(p for p in providers if _batch_capable(p)) if batch_only else providers


def _isbns_from_providers(isbns13: list[str], deadline: float, *, batch_only: bool = False) -> dict[str, SearchResult]:
    """Answers for many ISBNs: ONE call per batch-capable provider (chunked by its `batch_size`:
    OpenLibrary `/api/books?bibkeys=`, ISBNdb `POST /books`), per-ISBN calls in parallel for the others
    (Google Books has no batch endpoint), all under `deadline`; merged per ISBN as a single lookup is.
    `batch_only` asks only the batch-capable providers (bulk work must not spend Google's daily quota).

    A provider is "degraded" only for the ISBNs it did not answer (its chunk failed, or the deadline
    came first), so one failing chunk or slow Google call never marks the rest of the batch.
    """
    providers = _isbn_providers(batch_only=batch_only)
    answered: dict[str, dict[str, ProviderPage]] = {p.name: {} for p in providers}

    def batched(provider: Provider) -> ProviderPage:
        error: Exception | None = None
        for start in range(0, len(isbns13), provider.batch_size):
            chunk = isbns13[start : start + provider.batch_size]
            try:
                page = provider.search_isbns(isbns13=chunk, deadline=deadline)
            except Exception as exc:  # this chunk is degraded; the next one may answer
                error = exc
                continue
            for isbn13 in chunk:  # an ISBN left out of the answer is "not found" from this provider
                answered[provider.name][isbn13] = page
        if error is not None:
            raise error  # the fan-out counts and logs the provider failure
        return ProviderPage(provider=provider.name)

    def one_by_one(provider: Provider) -> ProviderPage:
        def ask(isbn13: str) -> None:
            answered[provider.name][isbn13] = provider.search_isbn(isbn13=isbn13, deadline=deadline)

        # The lookup pool, not the fan-out pool this runs on (a pool must not wait on itself).
        futures = [_lookup_pool.submit(contextvars.copy_context().run, ask, i) for i in isbns13]
        wait(futures, timeout=max(0.0, deadline - time.monotonic() - 0.05))
        failures = [f for f in futures if f.done() and f.exception() is not None]
        if failures and len(failures) == len(futures):
            raise failures[0].exception()
        return ProviderPage(provider=provider.name)

    fanout_run(
        calls={
            p.name: (lambda p=p: batched(p)) if _batch_capable(p) else (lambda p=p: one_by_one(p)) for p in providers
        },
        deadline=deadline,
    )
    # A copy: a per-ISBN call still running past the deadline must not change the answer mid-merge.
    got = {name: dict(pages) for name, pages in answered.items()}
    out: dict[str, SearchResult] = {}
    for isbn13 in isbns13:
        pages = [got[p.name][isbn13] for p in providers if isbn13 in got[p.name]]
        failed = [p.name for p in providers if isbn13 not in got[p.name]]
        out[isbn13] = _isbn_answer(isbn13, pages, failed)
    out, due = _with_work_facts(out)
    found = [hit for result in out.values() for hit in result.hits]
    if found:
        catalog_schedule_upsert(hits=found, complete_works=due)
    return out


def _answered_by_someone(result: SearchResult, *, batch_only: bool = False) -> bool:
    """False when no provider answered for this ISBN: such an answer is served, never cached."""
    asked = {p.name for p in _isbn_providers(batch_only=batch_only)}
    return bool(result.hits) or not asked <= set(result.degraded)


def book_lookup_many(
    *, isbns: Sequence[str], deadline: float | None = None, batch_only: bool = False
) -> dict[str, SearchHit | None]:
    """ISBN-13 -> hit (or None) for many valid ISBNs at once.

    Each ISBN goes through the cache tiers (edge, KV in one read, catalog); the misses are asked
    together (`_isbns_from_providers`: one OpenLibrary call per 50, one ISBNdb call per 100, Google per
    ISBN in parallel) under one deadline, and each answer is cached under the single-ISBN key, so a
    later `book_search_by_isbn` for one of them is a cache hit. Raises ProviderUnavailable when none
    was found because no provider answered for any of them (never cached, like a single lookup).

    `batch_only` (bulk work such as a CSV import): only providers with a batch endpoint are asked, so
    thousands of ISBNs cost OpenLibrary one call per 50 and never a per-ISBN Google call.
    """
    end = _deadline(deadline)
    unique = list(dict.fromkeys(isbn_normalize(i) for i in isbns))

    results = cached_fetch_many(
        kind="isbn",
        keys={isbn13: cache_key("isbn", isbn13) for isbn13 in unique},
        loader=lambda missing, until: _isbns_from_providers(missing, until, batch_only=batch_only),
        deadline=end,
        catalog=_isbn_from_catalog,
        keep=lambda result: _answered_by_someone(result, batch_only=batch_only),
    )
    out: dict[str, SearchHit | None] = {
        isbn13: (results[isbn13].hits[0] if isbn13 in results and results[isbn13].hits else None) for isbn13 in unique
    }
    if unique and not any(out.values()):
        # Nothing found and no provider answered for any of them (a total outage, or the deadline
        # came first): that is not "not found" for all, so the caller hears 503 and retries.
        unanswered = [
            i for i in unique if i not in results or not _answered_by_someone(results[i], batch_only=batch_only)
        ]
        enabled = {p.name for p in _isbn_providers(batch_only=batch_only)}
        if enabled and len(unanswered) == len(unique):
            raise ProviderUnavailable(
                "Every book provider failed; try again shortly.", details={"providers": sorted(enabled)}
            )
    # One decoration for the whole batch (one cache read for all its authors), not one per ISBN.
    found = [(isbn13, hit) for isbn13, hit in out.items() if hit is not None]
    decorated = decorate_result(SearchResult(hits=tuple(hit for _, hit in found), total_results=len(found)))
    if len(decorated.hits) == len(found):
        out.update({isbn13: hit for (isbn13, _), hit in zip(found, decorated.hits, strict=True)})
    return out
