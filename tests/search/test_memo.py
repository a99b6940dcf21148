"""Derived forms kept on immutable DTOs: reused while hot, never stored in the shared cache."""

from __future__ import annotations

import pickle

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
