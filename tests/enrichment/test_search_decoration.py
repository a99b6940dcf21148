"""Author facts and genres applied to search answers (enrichment.search_decoration via search.hooks),
through the author-facts memo (enrichment.author_facts_memo) and background lookups
(enrichment.author_facts_fill)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache

from enrichment import author_facts_fill, author_facts_memo
from enrichment import authors as authors_module
from enrichment.author_facts_fill import MAX_NAMES_PER_TASK
from enrichment.authors import AuthorFacts, author_facts_cached
from enrichment.authors import _cache_key as author_cache_key
from enrichment.search_decoration import search_result_decorate, search_result_decoration
from enrichment.tasks_authors import fill_author_facts
from search import answers
from search.answers import CachedAnswer
from search.dto import AuthorDTO
from tests.factories import search_hit, search_result

# Transactional: on_commit callbacks (catalog upserts, task sends) run as in production.
pytestmark = pytest.mark.django_db(transaction=True)

HERBERT = AuthorFacts(
    name="Frank Herbert",
    wikidata_id="Q7934",
    gender="Male",
    nationality="American",
    cultural_region="North America",
    birth_year=1920,
    death_year=1986,
)


def seed_facts(name: str, facts: AuthorFacts | None) -> None:
    cache.set(author_cache_key(name, (), None), {"facts": facts.to_wire() if facts else None}, 600)


def flush_sender() -> None:
    author_facts_fill._sender.submit(lambda: None).result(timeout=10)


@pytest.fixture
def queued(monkeypatch):
    """The payloads handed to the broker (nothing runs)."""
    sent: list[list[dict]] = []
    monkeypatch.setattr(fill_author_facts, "apply_async", lambda args, **kw: sent.append(args[0]))
    yield sent


def wire_author(body: dict, name: str) -> dict:
    return next(a for a in body["data"]["authors"] if a["name"] == name)


# --- pure-ish (local memory cache, no network) ----------------------------------------------------


def test_decorate_fills_facts_from_cache_and_keeps_provider_values(queued):
    seed_facts("Frank Herbert", HERBERT)
    result = search_result(
        search_hit("Dune", authors=(AuthorDTO(name="Herbert, Frank"),)),
        search_hit("Dune Messiah", authors=(AuthorDTO(name="Frank Herbert", gender="Female", nationality="Martian"),)),
    )
    decorated = search_result_decorate(result)
    first, second = decorated.hits[0].authors[0], decorated.hits[1].authors[0]
    assert (first.gender, first.cultural_region, first.nationality) == ("Male", "North America", "American")
    assert (first.birth_year, first.death_year, first.wikidata_id) == (1920, 1986, "Q7934")
    assert first.name == "Herbert, Frank"  # the provider's name is kept
    assert (second.gender, second.nationality) == ("Female", "Martian")  # already set: not overwritten
    assert second.cultural_region == "North America"
    flush_sender()
    assert queued == []


def test_decorate_normalizes_subject_tags():
    tags = ("Accessible book", "Protected DAISY", "In library", "Fiction / Science Fiction / General", "nyt:best")
    decorated = search_result_decorate(search_result(search_hit("Dune", tags=tags, provider="openlibrary")))
    assert decorated.hits[0].work.subject_tags == ("Fiction", "Science Fiction")
    again = search_result_decorate(decorated)  # idempotent: a re-decorated answer is unchanged
    assert again.hits[0].work.subject_tags == ("Fiction", "Science Fiction")


def test_unknown_and_not_found_authors_stay_unknown(queued):
    seed_facts("Nobody Known", None)  # looked up: Wikidata had nobody
    decorated = search_result_decorate(search_result(search_hit("X", authors=(AuthorDTO(name="Nobody Known"),))))
    author = decorated.hits[0].authors[0]
    assert author.gender == "Unknown" and author.cultural_region is None and author.wikidata_id is None
    flush_sender()
    assert queued == []  # "not found" is an answer: nothing to queue


def test_one_cache_read_per_answer(monkeypatch, queued):
    for name in ("A One", "B Two", "C Three"):
        seed_facts(name, AuthorFacts(name=name, wikidata_id="Q1", gender="Female"))
    calls = {"get": 0, "get_many": 0, "add": 0}
    real = authors_module.cache

    class Counting:
        def __getattr__(self, attr):
            if attr in calls:
                calls[attr] += 1
            return getattr(real, attr)

    monkeypatch.setattr(authors_module, "cache", Counting())  # every author-cache access goes through it
    hits = [
        search_hit(f"Book {i}", authors=(AuthorDTO(name=n),)) for i, n in enumerate(["A One", "B Two", "C Three"] * 4)
    ]
    decorated = search_result_decorate(search_result(*hits))
    assert all(a.gender == "Female" for h in decorated.hits for a in h.authors)
    assert calls == {"get": 0, "get_many": 1, "add": 0}


def test_uncached_authors_queue_one_bounded_task_deduplicated(queued):
    authors = [AuthorDTO(name=f"Author Number{i:02d}", open_library_id=f"OL{i}A") for i in range(15)]
    result = search_result(*(search_hit(f"Book {i}", authors=(a,)) for i, a in enumerate(authors)))
    search_result_decorate(result)
    search_result_decorate(result)  # a concurrent/next answer: nothing queued twice
    flush_sender()
    assert len(queued) == 2
    first, second = queued
    assert len(first) == MAX_NAMES_PER_TASK and len(second) == 15 - MAX_NAMES_PER_TASK
    assert first[0] == {"name": "Author Number00", "knownTitles": ["Book 0"], "openLibraryID": "OL0A"}
    assert {p["name"] for p in first}.isdisjoint(p["name"] for p in second)
    search_result_decorate(result)
    flush_sender()
    assert len(queued) == 2


# --- through the routes and the fakes -------------------------------------------------------------


def test_search_answer_carries_cached_author_facts(client, fake, queued):
    seed_facts("Frank Herbert", HERBERT)
    body = client.get("/v1/search/title", {"q": "Dune"}).json()
    herbert = wire_author(body, "Frank Herbert")
    assert herbert["gender"] == "Male" and herbert["culturalRegion"] == "North America"
    assert herbert["wikidataID"] == "Q7934" and herbert["birthYear"] == 1920
    assert fake.count("GET /wikidata") == 0
    tags = body["data"]["works"][0]["subjectTags"]
    assert "Science Fiction" in tags
    assert not {"Hugo Award Winner", "Nebula Award Winner", "Arrakis (Imaginary place)"} & set(tags)


def test_uncached_author_queues_one_task_and_the_answer_does_not_wait(client, fake, queued):
    fake.configure("wikidata", latency_ms=2000)
    body = client.get("/v1/search/title", {"q": "Dune"}).json()
    assert wire_author(body, "Frank Herbert")["gender"] == "Unknown"
    assert "culturalRegion" not in wire_author(body, "Frank Herbert")
    client.get("/v1/search/title", {"q": "Dune"})  # the cached answer: already queued, not again
    flush_sender()
    assert fake.count("GET /wikidata") == 0  # the answer never waited on Wikidata: the lookup is queued
    assert len(queued) == 1
    herbert = next(p for p in queued[0] if p["name"] == "Frank Herbert")
    assert "Dune" in herbert["knownTitles"]


def test_broker_down_never_fails_the_search(client, fake, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(fill_author_facts, "apply_async", down)
    response = client.get("/v1/search/title", {"q": "Dune"})
    flush_sender()
    assert response.status_code == 200 and response.json()["data"]["works"]
    assert "could not queue enrichment.fill_author_facts" in caplog.text


def test_background_fill_then_cached_answer_carries_facts(client, fake, monkeypatch):
    """End to end with an eager task: no Wikidata call in the request; the task fills the cache; the
    next (cached) answer is decorated with the facts."""
    gate = threading.Event()
    real_send = author_facts_fill._send
    monkeypatch.setattr(author_facts_fill, "_send", lambda payload: (gate.wait(10), real_send(payload)))
    first = client.get("/v1/search/advanced", {"title": "Dune", "author": "Frank Herbert"}).json()
    assert fake.count("GET /wikidata") == 0
    assert wire_author(first, "Frank Herbert")["gender"] == "Unknown"
    gate.set()
    flush_sender()
    assert fake.count("GET /wikidata") > 0
    second = client.get("/v1/search/advanced", {"title": "Dune", "author": "Frank Herbert"}).json()
    assert second["metadata"]["cached"] is True
    herbert = wire_author(second, "Frank Herbert")
    assert herbert["gender"] == "Male" and herbert["culturalRegion"] == "North America"
    assert herbert["wikidataID"] == "Q7934"


def test_fill_task_is_idempotent_and_caches_not_found(fake):
    payload = [
        {"name": "Frank Herbert", "knownTitles": ["Dune"], "openLibraryID": "OL79034A"},
        {"name": "Zzqxv Nobodyknown", "knownTitles": ["Nothing"], "openLibraryID": None},
    ]
    fill_author_facts.apply(args=[payload])
    calls = fake.count("GET /wikidata")
    assert calls > 0
    assert author_facts_cached(name="Frank Herbert").facts.wikidata_id == "Q7934"
    nobody = author_facts_cached(name="Zzqxv Nobodyknown")
    assert nobody is not None and nobody.facts is None  # the bare name is answered: not queued again
    fill_author_facts.apply(args=[payload])  # a redelivery
    assert fake.count("GET /wikidata") == calls


def test_fill_task_routing_and_options():
    from booktrack.celery import app

    assert fill_author_facts.name == "enrichment.fill_author_facts"
    assert fill_author_facts.name in app.tasks
    assert fill_author_facts.acks_late is True
    route = app.amqp.router.route({}, fill_author_facts.name)
    assert route["queue"].name == "providers"


def test_pending_author_is_claimed_once_per_process_not_on_every_answer(monkeypatch):
    """A hot answer whose author is still being looked up makes no shared-cache write per request."""
    from enrichment.authors import AuthorQuery

    claims: list[str] = []
    monkeypatch.setattr(author_facts_fill, "author_facts_queue_claim", lambda *, name, ttl: claims.append(name))
    query = AuthorQuery(name="Frank Herbert")
    for _ in range(20):
        author_facts_fill.author_facts_fill_schedule(queries=[query])
    assert claims == ["Frank Herbert"]


def test_hot_answer_is_decorated_once_while_its_facts_are_memoized(monkeypatch, queued):
    """A cached answer served again costs no cache read and gives the same decorated answer and
    rendered payload; facts that arrive later show once the memo expires."""
    seed_facts("Frank Herbert", None)  # looked up: nobody (yet)
    cached = CachedAnswer(
        search_result(search_hit("Dune", authors=(AuthorDTO(name="Frank Herbert"),), tags=("Science fiction",)))
    )
    first = cached.served(cached=True, cache_source="EDGE_FRESH")
    reads: list[list[str]] = []
    real_many = author_facts_memo.author_facts_cached_many
    monkeypatch.setattr(
        author_facts_memo, "author_facts_cached_many", lambda *, names: reads.append(names) or real_many(names=names)
    )
    again = cached.served(cached=True, cache_source="EDGE_FRESH")
    assert again is first and again.payload is first.payload
    assert first.result.hits[0].authors[0].gender == "Unknown" and reads == []

    seed_facts("Frank Herbert", HERBERT)  # a background lookup stored the facts
    later = time.monotonic() + author_facts_memo._MEMO_ANSWERED_SECONDS + 1
    monkeypatch.setattr(author_facts_memo.time, "monotonic", lambda: later)
    monkeypatch.setattr(answers.time, "monotonic", lambda: later)
    refreshed = cached.served(cached=True, cache_source="EDGE_FRESH")
    assert reads == [["Frank Herbert"]]
    assert refreshed is not first and refreshed.result.hits[0].authors[0].gender == "Male"
    assert b'"gender":"Male"' in refreshed.payload.raw
    assert cached.served(cached=True, cache_source="EDGE_FRESH") is refreshed


def test_memo_clear_drops_held_decorations(queued):
    seed_facts("Frank Herbert", None)
    cached = CachedAnswer(search_result(search_hit("Dune", authors=(AuthorDTO(name="Frank Herbert"),))))
    first = cached.served(cached=True, cache_source="EDGE_FRESH")
    seed_facts("Frank Herbert", HERBERT)
    author_facts_memo.memo_clear()
    assert cached.served(cached=True, cache_source="EDGE_FRESH").result.hits[0].authors[0].gender == "Male"
    assert first.result.hits[0].authors[0].gender == "Unknown"


def test_answer_with_unqueued_authors_is_not_held(queued):
    """An author nobody has looked up: the decoration is not held; once the lookup is queued, only
    for the short pending window, so facts the lookup stores show within seconds."""
    result = search_result(search_hit("Obscure", authors=(AuthorDTO(name="Someone Unheard"),)))
    assert search_result_decoration(result).valid_until == 0.0
    pending = search_result_decoration(result).valid_until - time.monotonic()
    assert 0 < pending <= author_facts_memo._MEMO_PENDING_SECONDS
    flush_sender()
    assert [entry["name"] for entry in queued[0]] == ["Someone Unheard"] and len(queued) == 1


def test_decorating_sets_no_attribute_on_the_dtos(queued):
    """DTOs are plain frozen dataclasses: decoration builds new ones and leaves the originals alone."""
    seed_facts("Frank Herbert", HERBERT)
    author = AuthorDTO(name="Frank Herbert")
    result = search_result(search_hit("Dune", authors=(author,), tags=("Science fiction", "Accessible book")))
    before = [dict(vars(obj)) for obj in (result, result.hits[0], result.hits[0].work, author)]
    decorated = search_result_decorate(result)
    assert decorated.hits[0].authors[0].gender == "Male"
    assert [dict(vars(obj)) for obj in (result, result.hits[0], result.hits[0].work, author)] == before
