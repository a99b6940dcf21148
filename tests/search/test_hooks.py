"""search.hooks: result decorators registered by dependent apps, applied after the cache tiers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from search import hooks
from search.cache.tiers import edge, kv_get
from search.dto import SearchResult
from search.services import book_lookup_many, book_search_by_title
from tests.factories import search_hit, search_result


@pytest.fixture
def no_decorators(monkeypatch):
    """Only the decorators a test registers (enrichment's is put back afterwards)."""
    monkeypatch.setattr(hooks, "_decorators", ())


def _result(title: str = "Dune") -> SearchResult:
    return search_result(search_hit(title))


def _suffix(text: str):
    def decorate(result: SearchResult) -> SearchResult:
        hits = tuple(replace(h, work=replace(h.work, title=h.work.title + text)) for h in result.hits)
        return replace(result, hits=hits)

    return decorate


def test_decorators_run_in_registration_order_once_each(no_decorators):
    a, b = _suffix("-a"), _suffix("-b")
    hooks.register_result_decorator(a)
    hooks.register_result_decorator(b)
    hooks.register_result_decorator(a)  # again: no-op
    assert hooks.result_decorators() == (a, b)
    assert hooks.decorate_result(_result()).hits[0].work.title == "Dune-a-b"
    hooks.unregister_result_decorator(a)
    assert hooks.decorate_result(_result()).hits[0].work.title == "Dune-b"


def test_failing_or_wrong_decorator_is_skipped(no_decorators, caplog):
    def broken(result):
        raise RuntimeError("boom")

    hooks.register_result_decorator(broken)
    hooks.register_result_decorator(lambda result: "not a result")
    hooks.register_result_decorator(_suffix("-ok"))
    assert hooks.decorate_result(_result()).hits[0].work.title == "Dune-ok"
    assert "boom" in caplog.text


def test_no_decorators_returns_the_same_result(no_decorators):
    result = _result()
    assert hooks.decorate_result(result) is result


def test_enrichment_registers_its_decorator_at_startup():
    from enrichment.search_decoration import search_result_decoration

    assert search_result_decoration in hooks.result_decorators()


@pytest.mark.django_db
def test_answers_are_decorated_on_every_read_and_cached_undecorated(no_decorators, fake):
    calls = []

    def mark(result: SearchResult) -> SearchResult:
        calls.append(result.cached)
        return _suffix(" (decorated)")(result)

    hooks.register_result_decorator(mark)
    first = book_search_by_title(query="Dune")
    second = book_search_by_title(query="Dune")
    assert calls == [False, True]
    assert first.hits[0].work.title.endswith(" (decorated)")
    assert second.hits[0].work.title.endswith(" (decorated)")
    assert not second.hits[0].work.title.endswith(" (decorated) (decorated)")
    stored = [kv_get(key) for key in list(edge._data)]
    assert stored and all(not h.work.title.endswith("(decorated)") for r in stored for h in r.hits)


@pytest.mark.django_db
def test_batch_lookup_is_decorated_once(no_decorators, fake):
    calls = []

    def count(result: SearchResult) -> SearchResult:
        calls.append(len(result.hits))
        return result

    hooks.register_result_decorator(count)
    found = book_lookup_many(isbns=["9780441172719", "9780743273565", "9780306406157"])
    assert found["9780306406157"] is None and found["9780441172719"] is not None
    assert calls == [2]
