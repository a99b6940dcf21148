"""Paging: an offset selects its window, from one provider or through a merged answer."""

from __future__ import annotations

import time

import pytest

from tests.factories import GOOGLE, OL, calls_to, google_volume, google_volumes, isbn13, query_of

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", ["isbndb", "google-books", "openlibrary"])
def test_provider_title_offset_returns_the_requested_window(fake, provider):
    from search.providers import provider_get

    source = provider_get(provider)
    end = time.monotonic() + 5
    whole = source.search_title(query="the", limit=6, offset=0, deadline=end)
    window = source.search_title(query="the", limit=3, offset=2, deadline=end)
    assert len(whole.hits) == 6
    assert [h.work.title for h in window.hits] == [h.work.title for h in whole.hits[2:5]]


def test_isbndb_page_window_covers_offset_and_limit():
    from search.providers.isbndb import page_window

    for offset in range(0, 120):
        for limit in (1, 5, 20, 40):
            page, size = page_window(offset=offset, limit=limit)
            start = (page - 1) * size
            assert size >= limit and start <= offset and offset + limit <= start + size


@pytest.mark.django_db(transaction=True)
def test_pages_past_the_end_keep_a_stable_total(client, fake):
    first = client.get("/v3/books/search", {"q": "Dune", "limit": 2}).json()["data"]["totalCount"]
    assert first > 0
    past = [
        client.get("/v3/books/search", {"q": "Dune", "limit": 2, "offset": offset}).json()["data"]
        for offset in (40, 80, 400)
    ]
    assert all(page["results"] == [] for page in past)
    assert len({page["totalCount"] for page in past}) == 1 and 0 < past[0]["totalCount"] <= 40
    v1 = client.get("/v1/search/title", {"q": "Dune", "limit": 2, "offset": 40}).json()["data"]
    assert v1["works"] == [] and v1["totalResults"] > 0  # the query has results; this page is past them


@pytest.mark.django_db(transaction=True)
def test_page_cannot_reach_past_the_offset_cap(client):
    response = client.get("/v3/books/search", {"q": "Dune", "limit": 100, "page": 1000})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"


@pytest.mark.django_db(transaction=True)
def test_consecutive_pages_neither_repeat_nor_skip_a_book(client, fake):
    whole = client.get("/v1/search/title", {"q": "Dune", "limit": 10}).json()["data"]
    pages = [
        client.get("/v1/search/title", {"q": "Dune", "limit": 2, "offset": offset}).json()["data"]
        for offset in range(0, 10, 2)
    ]
    paged = [w["title"] + "|" + (e.get("isbn") or "") for p in pages for w, e in zip(p["works"], p["editions"])]
    expected = [w["title"] + "|" + (e.get("isbn") or "") for w, e in zip(whole["works"], whole["editions"])]
    assert paged == expected and len(set(paged)) == len(paged)
    assert {p["totalResults"] for p in pages} == {whole["totalResults"]}

    # Only search calls: background work (author facts, covers) may reach other upstreams meanwhile.
    def searches():
        return sum(fake.count(p) for p in ("GET /google/books/v1/volumes", "GET /openlibrary/search", "GET /isbndb"))

    calls = searches()
    client.get("/v1/search/title", {"q": "Dune", "limit": 5, "offset": 5})  # another page of the window
    assert searches() == calls  # served from the cached window


def test_every_merged_book_is_reachable_by_paging_with_one_total(client, upstream):
    """Two providers with 30 different books each: 60 books, every one on exactly one page of 20,
    every page (and the page past the end) saying 60."""
    google = [google_volume(title=f"Sea Story {i:02d}", isbn13=isbn13(i)) for i in range(30)]
    upstream.get(f"{GOOGLE}/volumes", json=google_volumes(*google))
    docs = [
        {"key": f"/works/OL{i}W", "title": f"Sea Story {i:02d}", "isbn": [isbn13(i)], "author_name": ["A B"]}
        for i in range(100, 130)
    ]
    upstream.get(f"{OL}/search.json", json={"numFound": 30, "docs": docs})
    pages = [
        client.get("/v1/search/title", {"q": "Sea Story", "limit": 20, "offset": offset}).json()["data"]
        for offset in (0, 20, 40, 60)
    ]
    isbns = [e["isbn"] for page in pages for e in page["editions"]]
    assert len(isbns) == len(set(isbns)) == 60
    assert [p["totalResults"] for p in pages] == [60, 60, 60, 60]
    assert len(calls_to(upstream, GOOGLE)) == 1 and len(calls_to(upstream, OL)) == 1  # one window, then cuts
    past = client.get("/v1/search/title", {"q": "Sea Story", "limit": 20, "offset": 60}).json()
    assert past["data"]["works"] == [] and past["metadata"]["provider"] == "none"


def test_pages_past_an_incomplete_window_ask_each_provider_for_its_page(client, upstream):
    """Google says 500 results: the window holds its first 40; a page beyond asks Google at its offset."""
    many = google_volumes(*[google_volume(title=f"Sea Story {i:02d}", isbn13=isbn13(i)) for i in range(40)])
    many["totalItems"] = 500
    upstream.get(f"{GOOGLE}/volumes", json=many)
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    first = client.get("/v1/search/title", {"q": "Sea Story", "limit": 20}).json()["data"]
    assert first["totalResults"] == 500
    client.get("/v1/search/title", {"q": "Sea Story", "limit": 20, "offset": 40})
    starts = [query_of(c)["startIndex"] for c in calls_to(upstream, GOOGLE)]
    assert starts == [["0"], ["40"]]
