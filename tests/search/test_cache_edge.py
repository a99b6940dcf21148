"""search.cache.edge: the in-process LRU is bounded by entries and by hits held in all."""

from __future__ import annotations

from search.answers import CachedAnswer
from search.cache.edge import EdgeCache
from search.dto import EditionDTO, SearchHit, SearchResult, WorkDTO


def answer(n: int) -> CachedAnswer:
    hit = SearchHit(work=WorkDTO(title="Dune"), edition=EditionDTO(isbns=("9780441172719",)))
    return CachedAnswer(SearchResult(hits=(hit,) * n, total_results=n))


def test_edge_tier_is_bounded_by_hits_held():
    """A large answer (a title window) weighs its hits; the LRU evicts until the total fits."""
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


def test_edge_tier_is_bounded_by_entries():
    edge = EdgeCache(2)
    for key in "abc":
        edge.set(key, answer(1), 60)
    assert len(edge) == 2 and edge.get("a") == (None, None) and edge.get("c")[0] is not None
