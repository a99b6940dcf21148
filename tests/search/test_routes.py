"""Route contracts through the local upstream fakes (tests/fakes)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_v1_title_success_merged(client, fake):
    body = client.get("/v1/search/title", {"q": "Dune"}).json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"works", "editions", "authors", "totalResults"}
    assert data["works"] and len(data["works"]) == len(data["editions"])
    assert body["metadata"]["provider"].startswith(("merged:", "google-books", "openlibrary", "isbndb"))
    assert body["metadata"]["cached"] is False


def test_v1_title_typo_finds_great_gatsby(client, fake):
    data = client.get("/v1/search/title", {"q": "Grate Gatsby"}).json()["data"]
    assert data["works"] and "Gatsby" in data["works"][0]["title"]


def test_v1_title_second_call_is_cached(client, fake):
    client.get("/v1/search/title", {"q": "Dune"})
    meta = client.get("/v1/search/title", {"q": "Dune"}).json()["metadata"]
    assert meta["cached"] is True and meta["cacheSource"] == "EDGE_FRESH"


@pytest.mark.parametrize("params", [{}, {"q": "   "}, {"q": "Dune", "limit": "0"}, {"q": "Dune", "limit": "41"}])
def test_v1_title_invalid_query(client, params):
    response = client.get("/v1/search/title", params)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"


def test_v1_title_not_found_is_empty_200(client, fake):
    body = client.get("/v1/search/title", {"q": "zzqxv nonexistent title qqq"}).json()
    assert body["data"]["works"] == [] and body["data"]["totalResults"] == 0
    assert body["metadata"]["provider"] == "none"


def test_v1_isbn_10_and_13_same_book(client, fake):
    a = client.get("/v1/search/isbn", {"isbn": "978-0-441-17271-9"}).json()
    b = client.get("/v1/search/isbn", {"isbn": "0441172717"}).json()
    assert a["data"]["editions"][0]["isbn"] == "9780441172719"
    assert b["data"]["editions"][0]["isbn"] == "9780441172719"
    assert b["metadata"]["cached"] is True


@pytest.mark.parametrize("isbn", ["9780441172718", "abc"])  # empty: MISSING_PARAMETER
def test_v1_isbn_invalid(client, isbn):
    response = client.get("/v1/search/isbn", {"isbn": isbn})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_ISBN"


def test_v1_isbn_unknown_is_empty(client, fake):
    body = client.get("/v1/search/isbn", {"isbn": "9780306406157"}).json()
    assert body["data"]["editions"] == [] and body["metadata"]["provider"] == "none"


def test_v1_advanced(client, fake):
    body = client.get("/v1/search/advanced", {"title": "Dune", "author": "Frank Herbert"}).json()
    assert body["data"]["works"][0]["title"].startswith("Dune")
    response = client.get("/v1/search/advanced", {})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"


def test_legacy_title_get_and_post(client, fake):
    body = client.get("/search/title", {"q": "Dune"}).json()
    assert body["kind"] == "books#volumes" and body["items"][0]["kind"] == "books#volume"
    info = body["items"][0]["volumeInfo"]
    assert info["industryIdentifiers"] and "imageLinks" in info
    posted = client.post("/search/title", {"q": "Dune"}, content_type="application/json").json()
    assert posted["items"] and posted["cached"] is True


def test_legacy_isbn_and_advanced(client, fake):
    assert client.get("/search/isbn", {"isbn": "9780441172719"}).json()["totalItems"] >= 1
    assert client.get("/search/isbn", {"isbn": "bad"}).status_code == 400
    assert client.get("/search/advanced", {"author": "Frank Herbert"}).json()["items"]


def test_legacy_author_paged_offset_in_cache_key(client, fake):
    first = client.get("/search/author", {"q": "Frank Herbert", "limit": 1}).json()
    second = client.get("/search/author", {"q": "Frank Herbert", "limit": 1, "offset": 1}).json()
    assert first["success"] is True and first["author"]["openLibraryKey"]
    assert first["pagination"]["limit"] == 1 and second["pagination"]["offset"] == 1
    if second["works"]:
        assert second["works"][0]["title"] != first["works"][0]["title"]
    unknown = client.get("/search/author", {"q": "Zzqxv Nobody"}).json()
    assert unknown["success"] is False and unknown["works"] == [] and unknown["pagination"] is None
    assert client.get("/search/author", {}).status_code == 400
    assert client.get("/search/author", {"q": "x", "sortBy": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/external/google-books", {"q": "Dune"}),
        ("/external/google-books-isbn", {"isbn": "9780441172719"}),
        ("/external/openlibrary", {"q": "Dune"}),
        ("/external/openlibrary-author", {"q": "Frank Herbert"}),
        ("/external/isbndb", {"q": "Dune"}),
        ("/external/isbndb-editions", {"title": "Dune"}),
        ("/external/isbndb-isbn", {"isbn": "9780441172719"}),
    ],
)
def test_external_routes(client, fake, path, params):
    response = client.get(path, params)
    assert response.status_code == 200
    assert client.get(path, {}).status_code == 400


def test_v3_search_strict_client_parsing(client, fake):
    body = client.get("/v3/books/search", {"q": "Dune", "limit": 5}).json()
    assert body["success"] is True
    data = body["data"]
    assert isinstance(data["totalCount"], int)
    assert data["query"] == {"q": "Dune", "mode": "text", "limit": 5, "offset": 0}
    assert data["results"]
    for book in data["results"]:
        assert isinstance(book["isbn"], str) and len(book["isbn"]) == 13
        assert isinstance(book["title"], str)
        assert all(isinstance(a, str) for a in book["authors"])
        assert type(book["quality"]) is int and 0 <= book["quality"] <= 100
        assert book["provider"] in ("google_books", "open_library", "isbndb")
        if "pageCount" in book:
            assert type(book["pageCount"]) is int and book["pageCount"] >= 1
    empty = client.get("/v3/books/search", {"q": "zzqxv nothing qq"}).json()
    assert empty["data"]["results"] == []
    assert client.get("/v3/books/search", {"q": " "}).status_code == 400


def test_v3_book_etag_304_and_errors(client, fake):
    response = client.get("/v3/books/0441172717")
    assert response.status_code == 200 and response.json()["data"]["isbn"] == "9780441172719"
    etag = response["ETag"]
    assert client.get("/v3/books/9780441172719", HTTP_IF_NONE_MATCH=etag).status_code == 304
    missing = client.get("/v3/books/9780306406157")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert client.get("/v3/books/12345").status_code == 400


def test_v3_enrich(client, fake):
    body = client.post(
        "/v3/books/enrich", {"isbns": ["9780441172719", "9780306406157", "bad"]}, content_type="application/json"
    ).json()
    assert body["success"] is True
    data = body["data"]
    assert data["found"] == 1 and data["requested"] == 3
    assert set(data["notFound"]) == {"9780306406157", "bad"}
    assert client.post("/v3/books/enrich", {"isbns": []}, content_type="application/json").status_code == 400
    too_many = client.post("/v3/books/enrich", {"isbns": ["9780441172719"] * 51}, content_type="application/json")
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "BATCH_TOO_LARGE"


def test_v3_capabilities(client):
    body = client.get("/v3/capabilities").json()
    assert body["success"] is True
    assert body["features"] == body["data"]["features"] and body["version"]
    assert all(isinstance(v, bool) for v in body["features"].values())
    assert all(type(v) is int for v in body["limits"].values())


def test_cache_metrics_requires_ops_and_reports_tiers(client, fake, settings):
    assert client.get("/api/cache/metrics").status_code == 401
    settings.OPS_TOKEN = "ops-secret"
    client.get("/v1/search/title", {"q": "Dune"})
    client.get("/v1/search/title", {"q": "Dune"})
    body = client.get("/api/cache/metrics", HTTP_AUTHORIZATION="Bearer ops-secret").json()
    tiers = body["data"]["tiers"]
    assert tiers["edge"]["hits"] == 1 and tiers["edge"]["misses"] == 1 and tiers["edge"]["hitRate"] == 0.5
    assert body["data"]["budgets"]["openlibrary"]["limit"] == 3


def test_isbn_lookup_answers_from_catalog_without_providers(client, fake):
    from django.core.cache import cache

    from search.cache.tiers import cache_reset_local

    client.get("/v1/search/isbn", {"isbn": "9780441172719"})  # upserts the catalog (eager task)
    from search.models import Edition

    deadline = time.monotonic() + 5
    while not Edition.objects.filter(isbn13="9780441172719").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    cache.clear()
    cache_reset_local()
    fake.reset()
    body = client.get("/v1/search/isbn", {"isbn": "9780441172719"}).json()
    assert body["metadata"]["cacheSource"] == "CATALOG" and body["data"]["editions"][0]["isbn"] == "9780441172719"
    assert fake.count("openlibrary") == 0 and fake.count("google") == 0 and fake.count("isbndb") == 0


def test_catalog_merges_answers_instead_of_keeping_the_last(client, fake):
    """A title search (less complete) after an ISBN lookup (richer) must not thin the stored book: the
    catalog merges them field by field, so the CATALOG answer has what either answer had; authors
    keep their order and facts."""
    from django.core.cache import cache

    from search.cache.tiers import cache_reset_local
    from search.models import Edition

    isbn = "9780441013593"
    rich = client.get("/v1/search/isbn", {"isbn": isbn}).json()["data"]
    client.get("/v1/search/title", {"q": "Dune"})
    assert Edition.objects.filter(isbn13=isbn).exists()
    cache.clear()
    cache_reset_local()
    fake.reset()
    body = client.get("/v1/search/isbn", {"isbn": isbn}).json()
    assert body["metadata"]["cacheSource"] == "CATALOG"
    stored = body["data"]
    for field in ("openLibraryEditionID", "openLibraryID", "coverImageURL", "publisher"):
        if field in rich["editions"][0]:
            assert field in stored["editions"][0], field
    assert set(rich["editions"][0]["contributors"]) <= set(stored["editions"][0]["contributors"])
    assert set(rich["editions"][0]["isbns"]) <= set(stored["editions"][0]["isbns"])
    assert [a["name"] for a in stored["authors"]][: len(rich["authors"])] == [a["name"] for a in rich["authors"]]
    assert fake.count() == 0
