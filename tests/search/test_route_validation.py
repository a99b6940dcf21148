"""Route parameter validation: limits, required ISBNs, query modes and lengths; accents reach upstreams."""

from __future__ import annotations

import pytest

from tests.factories import GOOGLE, OL, calls_to, google_volume, google_volumes, query_of

pytestmark = pytest.mark.django_db


def test_v1_title_limit_40_ok_41_rejected(client, upstream):
    upstream.get(f"{GOOGLE}/volumes", json=google_volumes(google_volume(title="Dune", isbn13="9780441172719")))
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    assert client.get("/v1/search/title", {"q": "Dune", "limit": 40}).status_code == 200
    assert query_of(calls_to(upstream, GOOGLE)[0])["maxResults"] == ["40"]
    before = len(upstream.calls)
    rejected = client.get("/v1/search/title", {"q": "Dune", "limit": 41})
    assert rejected.status_code == 400 and rejected.json()["error"]["code"] == "INVALID_QUERY"
    assert len(upstream.calls) == before


@pytest.mark.parametrize(
    ("params", "status"), [({"limit": 100}, 200), ({"limit": 101}, 400), ({"page": 3, "limit": 5}, 200)]
)
def test_v3_search_limit_and_page(client, upstream, params, status):
    upstream.get(f"{GOOGLE}/volumes", json=google_volumes(google_volume(title="Dune", isbn13="9780441172719")))
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    response = client.get("/v3/books/search", {"q": "Dune", **params})
    assert response.status_code == status
    if params.get("page"):
        assert response.json()["data"]["query"]["offset"] == 10
        # Within the paging window, providers are asked once for the window's first results.
        assert query_of(calls_to(upstream, GOOGLE)[0])["startIndex"] == ["0"]
        assert query_of(calls_to(upstream, GOOGLE)[0])["maxResults"] == ["40"]


def test_accents_kept_in_upstream_queries_and_answers(client, upstream):
    upstream.get(
        f"{GOOGLE}/volumes", json=google_volumes(google_volume(title="Cien años de soledad", isbn13="9780307474728"))
    )
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    body = client.get("/v1/search/title", {"q": "Cien años"}).json()
    assert body["data"]["works"][0]["title"] == "Cien años de soledad"
    assert body["data"]["authors"][0]["name"] == "Gabriel García Márquez"
    assert query_of(calls_to(upstream, GOOGLE)[0])["q"] == ["Cien años"]
    assert query_of(calls_to(upstream, f"{OL}/search.json")[0])["q"] == ["Cien años"]
    advanced = client.get("/v1/search/advanced", {"author": "García Márquez"})
    assert advanced.status_code == 200
    assert query_of(calls_to(upstream, GOOGLE)[1])["q"] == ['inauthor:"García Márquez"']
    assert query_of(calls_to(upstream, f"{OL}/search.json")[1])["author"] == ["García Márquez"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["semantic", "isbn", "TEXT"])
def test_v3_search_unknown_mode_is_invalid_query(client, mode):
    response = client.get("/v3/books/search", {"q": "Dune", "mode": mode})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path",
    ["/external/google-books", "/external/openlibrary", "/external/isbndb", "/external/openlibrary-author"],
)
@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "abc"}, {"limit": "1000"}, {"maxResults": "-1"}])
def test_external_routes_reject_bad_limit(client, fake, path, params):
    response = client.get(path, {"q": "Dune", **params})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"
    assert fake.count() == 0


@pytest.mark.django_db(transaction=True)
def test_external_routes_accept_limit_in_range(client, fake):
    body = client.get("/external/google-books", {"q": "Dune", "limit": "3"}).json()
    assert 1 <= len(body["works"]) <= 3 and body["provider"] == "google-books"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/v1/search/isbn", "/search/isbn"])
@pytest.mark.parametrize("params", [{}, {"isbn": ""}, {"isbn": "   "}])
def test_isbn_routes_missing_isbn_is_missing_parameter(client, path, params):
    response = client.get(path, params)
    assert response.status_code == 400 and response.json()["error"]["code"] == "MISSING_PARAMETER"


@pytest.mark.django_db(transaction=True)
def test_v1_isbn_bad_checksum_still_invalid_isbn(client):
    response = client.get("/v1/search/isbn", {"isbn": "9780441172710"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_ISBN"


@pytest.mark.django_db(transaction=True)
def test_v3_enrich_rejects_booleans_as_isbns(client):
    response = client.post("/v3/books/enrich", {"isbns": [True]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_REQUEST"


@pytest.mark.django_db(transaction=True)
def test_external_routes_apply_the_query_length_rule(client, fake):
    from search.services import MAX_QUERY_LENGTH

    long_title = "x" * (MAX_QUERY_LENGTH + 1)
    calls = fake.count()
    for path, param in (("/external/isbndb-editions", "title"), ("/external/openlibrary-author", "q")):
        response = client.get(path, {param: long_title})
        assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY", path
    assert fake.count() == calls
