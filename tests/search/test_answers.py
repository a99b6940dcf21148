"""search.answers: a cached answer holds its labelled, decorated and rendered forms; DTOs stay plain."""

from __future__ import annotations

import pickle
from dataclasses import fields, replace

import pytest

from search import answers, hooks, wire
from search.answers import MAX_DERIVED_HELD, CachedAnswer
from search.cache.tiers import edge, kv_get
from search.dto import SearchResult
from tests.factories import search_hit, search_result


def _result(title: str = "Dune") -> SearchResult:
    hit = search_hit(title, isbn="9780441172719", authors=("Frank Herbert",))
    return search_result(hit, provider="google-books")


@pytest.fixture
def no_decorators(monkeypatch):
    monkeypatch.setattr(hooks, "_decorators", ())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(answers.time, "monotonic", clock)
    return clock


def test_served_answer_is_labelled_and_held_with_its_payload(no_decorators):
    cached = CachedAnswer(_result())
    served = cached.served(cached=True, cache_source="EDGE_FRESH")
    assert served.result.cached is True and served.result.cache_source == "EDGE_FRESH"
    assert cached.result.cached is False and cached.result.cache_source is None  # the held answer is unlabelled
    again = cached.served(cached=True, cache_source="EDGE_FRESH")
    assert again is served and again.payload is served.payload
    assert served.payload.raw == wire.v1_payload(served.result).raw
    stale = cached.served(cached=True, cache_source="EDGE_STALE")
    assert stale is not served and stale.result.cache_source == "EDGE_STALE"


def test_decoration_is_held_until_the_decorator_says_then_redone(no_decorators, clock):
    calls: list[str | None] = []

    def suffix(result: SearchResult) -> hooks.Decoration:
        calls.append(result.cache_source)
        hits = tuple(replace(h, work=replace(h.work, title=h.work.title + "!")) for h in result.hits)
        return hooks.Decoration(replace(result, hits=hits), valid_until=clock.now + 60)

    hooks.register_result_decorator(suffix)
    cached = CachedAnswer(_result())
    first = cached.served(cached=True, cache_source="EDGE_FRESH")
    assert first.result.hits[0].work.title == "Dune!" and b"Dune!" in first.payload.raw
    clock.now += 59
    assert cached.served(cached=True, cache_source="EDGE_FRESH") is first
    assert calls == ["EDGE_FRESH"]
    clock.now += 2  # past valid_until
    second = cached.served(cached=True, cache_source="EDGE_FRESH")
    assert second is not first and second.result.hits[0].work.title == "Dune!"  # decorated once, not twice
    assert calls == ["EDGE_FRESH", "EDGE_FRESH"]
    hooks.decorations_expire()  # a decorator's memo was dropped: held decorations go with it
    assert cached.served(cached=True, cache_source="EDGE_FRESH") is not second
    assert len(calls) == 3


def test_plain_result_decorators_run_on_every_read(no_decorators):
    calls: list[int] = []
    hooks.register_result_decorator(lambda result: calls.append(1) or result)
    cached = CachedAnswer(_result())
    cached.served(cached=True, cache_source="EDGE_FRESH")
    cached.served(cached=True, cache_source="EDGE_FRESH")
    assert calls == [1, 1]


def test_derived_answers_are_held_up_to_a_bound():
    cached = CachedAnswer(_result())
    made: list[int] = []

    def cut(n: int):
        return lambda result: made.append(n) or replace(result, total_results=n)

    page = cached.derived(("page", 1), cut(1))
    assert cached.derived(("page", 1), cut(1)) is page and page.result.total_results == 1 and made == [1]
    for n in range(2, MAX_DERIVED_HELD + 3):
        cached.derived(("page", n), cut(n))
    last = ("page", MAX_DERIVED_HELD + 2)
    assert cached.derived(last, cut(-1)) is not cached.derived(last, cut(-1))  # past the bound: not held


def test_dtos_carry_nothing_but_their_fields(no_decorators):
    """No hidden memo attributes: what the shared tier pickles is the fields, before and after serving."""
    result = _result()
    cached = CachedAnswer(result)
    cached.served(cached=True, cache_source="EDGE_FRESH").payload
    for obj in (result, result.hits[0], result.hits[0].work, result.hits[0].edition, result.hits[0].authors[0]):
        assert set(vars(obj)) == {f.name for f in fields(obj)}
    restored = pickle.loads(pickle.dumps(result))
    assert restored == result and restored.to_wire() == result.to_wire()


@pytest.mark.django_db
def test_hot_cached_isbn_answer_is_rendered_once(client, fake):
    """A hot cached answer reuses its rendered payload: no JSON encoding of the books per request."""

    url, params = "/v1/search/isbn", {"isbn": "9780441172719"}
    cold = client.get(url, params).json()
    warm = client.get(url, params).json()  # first edge hit: its served answer renders once
    rendered: list[object] = []

    class Counting(wire.PrerenderedJSON):
        def __init__(self, value):
            rendered.append(value)
            super().__init__(value)

    mp = pytest.MonkeyPatch()
    mp.setattr(wire, "PrerenderedJSON", Counting)
    try:
        hot = [client.get(url, params).json() for _ in range(3)]
    finally:
        mp.undo()
    assert rendered == []
    assert warm["metadata"]["cached"] is True and warm["metadata"]["cacheSource"] == "EDGE_FRESH"
    assert all(body["data"] == warm["data"] == cold["data"] for body in hot)
    assert len({body["metadata"]["requestId"] for body in hot}) == 3  # metadata stays per request


@pytest.mark.django_db
def test_edge_holds_answer_objects_and_the_shared_tier_plain_results(client, fake):
    client.get("/v1/search/isbn", {"isbn": "9780441172719"})
    (key,) = list(edge._data)
    answer, state = edge.get(key)
    assert isinstance(answer, CachedAnswer) and state == "EDGE_FRESH"
    stored = kv_get(key)
    assert type(stored) is SearchResult and stored == answer.result and stored.cached is False
