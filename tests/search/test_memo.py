"""Derived forms kept on immutable DTOs: reused while hot, never stored in the shared cache."""

from __future__ import annotations

import pickle

import pytest

from search import wire
from search.dto import AuthorDTO, EditionDTO, SearchHit, SearchResult, WorkDTO


def _result() -> SearchResult:
    hit = SearchHit(
        work=WorkDTO(title="Dune"),
        edition=EditionDTO(isbns=("9780441172719",)),
        authors=(AuthorDTO(name="Frank Herbert"),),
    )
    return SearchResult(hits=(hit,), total_results=1)


def test_with_cache_returns_the_same_labelled_answer_and_wire_form():
    result = _result()
    first = result.with_cache(cached=True, cache_source="EDGE_FRESH")
    again = result.with_cache(cached=True, cache_source="EDGE_FRESH")
    assert first is again and first.to_wire() is again.to_wire()
    assert result.with_cache(cached=True, cache_source="KV").cache_source == "KV"


def test_memoized_forms_are_not_pickled():
    result = _result()
    result.with_cache(cached=True, cache_source="EDGE_FRESH").to_wire()
    result.to_wire()
    restored = pickle.loads(pickle.dumps(result))
    assert not [k for k in restored.__dict__ if k.startswith("_")]
    assert restored == result and restored.to_wire() == result.to_wire()


@pytest.mark.django_db
def test_hot_cached_isbn_answer_is_rendered_once(client, fake):
    """A hot cached answer reuses its rendered payload: no JSON encoding of the books per request."""

    url, params = "/v1/search/isbn", {"isbn": "9780441172719"}
    cold = client.get(url, params).json()
    warm = client.get(url, params).json()  # first edge hit: its labelled answer renders once
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


def test_edge_tier_is_bounded_by_hits_held():
    """A large answer (a title window) weighs its hits; the LRU evicts until the total fits."""
    from search.cache import EdgeCache

    def answer(n: int) -> SearchResult:
        hit = _result().hits[0]
        return SearchResult(hits=(hit,) * n, total_results=n)

    edge = EdgeCache(100, max_weight=150)
    edge.set("a", answer(60), 60)
    edge.set("b", answer(60), 60)
    assert edge.weight == 120 and len(edge) == 2
    edge.set("c", answer(60), 60)  # 180 > 150: the least recently used goes
    assert edge.get("a") == (None, None) and edge.weight == 120
    edge.set("c", answer(10), 60)  # replacing an entry replaces its weight
    assert edge.weight == 70
    edge.set("huge", answer(500), 60)  # heavier than the bound alone: kept, everything else evicted
    assert len(edge) == 1 and edge.weight == 500
    edge.clear()
    assert edge.weight == 0
