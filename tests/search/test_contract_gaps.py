"""CONTRACT sections 4 and 7 through the routes, with upstreams faked by `responses`."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from search.cache import tiers
from tests.samples import sample_json

pytestmark = pytest.mark.django_db

GOOGLE = "http://upstream.test/google/books/v1"
OL = "http://upstream.test/openlibrary"
DAY = 86400


def query_of(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query, keep_blank_values=True)


def calls(upstream, prefix: str) -> list:
    return [c for c in upstream.calls if c.request.url.startswith(prefix)]


def volume(*, title: str, isbn13: str | None = None, cover: bool = False, description: str | None = None) -> dict:
    info: dict = {"title": title, "authors": ["Gabriel García Márquez"]}
    if isbn13:
        info["industryIdentifiers"] = [{"type": "ISBN_13", "identifier": isbn13}]
    if cover:
        info["imageLinks"] = {"thumbnail": "http://books.google.com/books/content?id=x&zoom=1"}
    if description:
        info["description"] = description
    return {"kind": "books#volume", "id": f"id-{isbn13 or title}", "volumeInfo": info}


def volumes(*items: dict) -> dict:
    return {"kind": "books#volumes", "totalItems": len(items), "items": list(items)}


@pytest.fixture
def upstream(settings):
    settings.ISBNDB_API_KEY = None
    settings.GOOGLE_BOOKS_API_KEY = None
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def ttls(monkeypatch):
    """The TTL of every write to the shared tier, in order."""
    written: list[int] = []
    original = tiers.kv_set

    def spy(key, value, ttl):
        written.append(ttl)
        original(key, value, ttl)

    monkeypatch.setattr(tiers, "kv_set", spy)
    return written


# --- /search/author -----------------------------------------------------------------------------------

# `/authors/{id}/works.json` entries (CONTRACT 4's upstream for an author's works), in upstream order.
AUTHOR_WORKS = [
    {"key": "/works/OL1W", "title": "Zeta Book", "first_publish_date": "2001", "type": {"key": "/type/work"}},
    {"key": "/works/OL2W", "title": "Alpha Book", "first_publish_date": "1997", "type": {"key": "/type/work"}},
    {"key": "/works/OL3W", "title": "Mid Book", "first_publish_date": "2010", "type": {"key": "/type/work"}},
]
WORKS_URL = f"{OL}/authors/OL23919A/works.json"


def _works_callback(request):
    params = parse_qs(urlsplit(request.url).query)
    offset = int(params.get("offset", ["0"])[0])
    limit = int(params.get("limit", ["50"])[0])
    body = {"size": len(AUTHOR_WORKS), "entries": AUTHOR_WORKS[offset : offset + limit]}
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


@pytest.fixture
def author_upstream(upstream):
    upstream.get(f"{OL}/search/authors.json", json=sample_json("openlibrary/search_authors_j_k_rowling.json"))
    upstream.add_callback(responses.GET, WORKS_URL, callback=_works_callback)
    return upstream


def test_author_without_openlibrary_key_is_unknown_author(client, upstream):
    upstream.get(
        f"{OL}/search/authors.json", json={"numFound": 1, "docs": [{"name": "J. K. Rowling", "work_count": 9}]}
    )
    body = client.get("/search/author", {"q": "J. K. Rowling"}).json()
    assert body["success"] is False and body["works"] == [] and body["pagination"] is None
    assert calls(upstream, f"{OL}/authors/") == [] and calls(upstream, f"{OL}/search.json") == []


def test_author_keyless_namesake_skipped_for_one_with_a_key(client, upstream):
    docs = [{"name": "J. K. Rowling", "work_count": 9}, {"key": "OL23919A", "name": "J.K. Rowling", "work_count": 3}]
    upstream.get(f"{OL}/search/authors.json", json={"numFound": 2, "docs": docs})
    upstream.add_callback(responses.GET, WORKS_URL, callback=_works_callback)
    body = client.get("/search/author", {"q": "J. K. Rowling"}).json()
    assert body["success"] is True and body["author"]["openLibraryKey"] == "OL23919A"
    assert len(calls(upstream, WORKS_URL)) == 1 and calls(upstream, f"{OL}/search.json") == []


def test_author_known_but_no_works_is_unknown_author_answer(client, upstream):
    upstream.get(f"{OL}/search/authors.json", json=sample_json("openlibrary/search_authors_j_k_rowling.json"))
    upstream.get(WORKS_URL, json={"size": 0, "entries": []})
    body = client.get("/search/author", {"q": "J. K. Rowling"}).json()
    assert body["success"] is False and body["works"] == [] and body["pagination"] is None


@pytest.mark.parametrize(
    ("sort_by", "titles", "upstream_window"),
    [
        (None, ["Mid Book", "Zeta Book", "Alpha Book"], ("1000", "0")),
        ("publicationYear", ["Mid Book", "Zeta Book", "Alpha Book"], ("1000", "0")),
        ("publicationYearAsc", ["Alpha Book", "Zeta Book", "Mid Book"], ("1000", "0")),
        ("title", ["Alpha Book", "Mid Book", "Zeta Book"], ("1000", "0")),
        ("popularity", ["Zeta Book", "Alpha Book", "Mid Book"], ("50", "0")),
    ],
)
def test_author_works_from_works_json_sorted_by_sort_by(client, author_upstream, sort_by, titles, upstream_window):
    params = {"q": "J. K. Rowling"} | ({"sortBy": sort_by} if sort_by else {})
    response = client.get("/search/author", params)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["author"]["openLibraryKey"] == "OL23919A"
    assert [w["title"] for w in body["works"]] == titles
    (works_call,) = calls(author_upstream, WORKS_URL)
    sent = query_of(works_call)
    assert (sent["limit"][0], sent["offset"][0]) == upstream_window
    assert calls(author_upstream, f"{OL}/search.json") == []


def test_author_pagination_has_more_and_next_offset(client, author_upstream):
    first = client.get("/search/author", {"q": "J. K. Rowling", "limit": 2}).json()
    assert [w["title"] for w in first["works"]] == ["Mid Book", "Zeta Book"]
    assert first["pagination"] == {"total": 3, "limit": 2, "offset": 0, "hasMore": True, "nextOffset": 2}
    last = client.get("/search/author", {"q": "J. K. Rowling", "maxResults": 2, "offset": 2}).json()
    assert [w["title"] for w in last["works"]] == ["Alpha Book"]
    assert last["pagination"] == {"total": 3, "limit": 2, "offset": 2, "hasMore": False, "nextOffset": None}
    work = last["works"][0]
    assert work == {"title": "Alpha Book", "openLibraryWorkKey": "OL2W", "firstPublicationYear": 1997, "editions": []}
    # offset is part of the cache key: each page went upstream once; repeating a page does not.
    assert len(calls(author_upstream, WORKS_URL)) == 2
    again = client.get("/search/author", {"q": "J. K. Rowling", "limit": 2}).json()
    assert again["works"] == first["works"] and again["cached"] is True
    assert len(calls(author_upstream, WORKS_URL)) == 2


def test_author_popularity_pages_upstream_window(client, author_upstream):
    body = client.get("/search/author", {"q": "J. K. Rowling", "limit": 1, "offset": 1, "sortBy": "popularity"}).json()
    assert [w["title"] for w in body["works"]] == ["Alpha Book"]
    assert body["pagination"]["total"] == 3 and body["pagination"]["hasMore"] is True
    sent = query_of(calls(author_upstream, WORKS_URL)[0])
    assert (sent["limit"], sent["offset"]) == (["1"], ["1"])


@pytest.mark.parametrize("params", [{"q": "x", "limit": 0}, {"q": "x", "limit": 101}, {"q": "x", "maxResults": 101}])
def test_author_limit_out_of_range_is_400(client, upstream, params):
    assert client.get("/search/author", params).status_code == 400
    assert len(upstream.calls) == 0


def test_author_unknown_is_200_success_false(client, upstream, ttls):
    upstream.get(f"{OL}/search/authors.json", json={"numFound": 0, "docs": []})
    response = client.get("/search/author", {"q": "Zzqxv Nobody"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False and body["works"] == [] and body["pagination"] is None
    assert ttls and 270 <= ttls[0] <= 330  # not found: cached 5 minutes
    client.get("/search/author", {"q": "Zzqxv Nobody"})
    assert len(upstream.calls) == 1


# --- /v3/books/{isbn} and enrich --------------------------------------------------------------------------


def test_v3_book_isbn10_and_isbn13_same_answer(client, upstream):
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_q_isbn_9780374104092.json"))
    upstream.get(f"{OL}/api/books", json={})
    by13 = client.get("/v3/books/9780374104092")
    by10 = client.get("/v3/books/0374104093")
    hyphenated = client.get("/v3/books/978-0-374-10409-2")
    assert by13.status_code == by10.status_code == hyphenated.status_code == 200
    assert by13.json()["data"] == by10.json()["data"] == hyphenated.json()["data"]
    assert by13.json()["data"]["isbn"] == "9780374104092" and by13.json()["data"]["isbn10"] == "0374104093"
    assert by13["ETag"] == by10["ETag"] == hyphenated["ETag"]
    assert len(calls(upstream, GOOGLE)) == 1  # one cache entry for both forms


@pytest.mark.parametrize("isbn", ["9780374104093", "0374104094", "97803741040", "notanisbn", "97803741040921"])
def test_v3_book_malformed_isbn_is_400_without_upstream_call(client, upstream, isbn):
    response = client.get(f"/v3/books/{isbn}")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "INVALID_ISBN" and body["error"]["message"]
    assert len(upstream.calls) == 0


def test_v3_enrich_over_50_is_400_without_upstream_call(client, upstream):
    isbns = [f"978000000{i:03d}" for i in range(51)]
    response = client.post("/v3/books/enrich", {"isbns": isbns}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "BATCH_TOO_LARGE"
    assert len(upstream.calls) == 0


@pytest.mark.django_db(transaction=True)
def test_v3_enrich_asks_openlibrary_for_many_isbns_in_one_call(client, upstream):
    upstream.get(f"{GOOGLE}/volumes", json={"kind": "books#volumes", "totalItems": 0})
    upstream.get(
        f"{OL}/api/books",
        json={
            **sample_json("openlibrary/api_books_jscmd_data_ISBN_9780316030571.json"),
            **sample_json("openlibrary/api_books_jscmd_data_ISBN_9782070427796.json"),
        },
    )
    body = client.post(
        "/v3/books/enrich", {"isbns": ["9780316030571", "9782070427796"]}, content_type="application/json"
    ).json()
    assert body["data"]["found"] == 2
    assert len(calls(upstream, f"{OL}/api/books")) == 1


# --- limits, accents ---------------------------------------------------------------------------------------


def test_v1_title_limit_40_ok_41_rejected(client, upstream):
    upstream.get(f"{GOOGLE}/volumes", json=volumes(volume(title="Dune", isbn13="9780441172719")))
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    assert client.get("/v1/search/title", {"q": "Dune", "limit": 40}).status_code == 200
    assert query_of(calls(upstream, GOOGLE)[0])["maxResults"] == ["40"]
    before = len(upstream.calls)
    rejected = client.get("/v1/search/title", {"q": "Dune", "limit": 41})
    assert rejected.status_code == 400 and rejected.json()["error"]["code"] == "INVALID_QUERY"
    assert len(upstream.calls) == before


@pytest.mark.parametrize(
    ("params", "status"), [({"limit": 100}, 200), ({"limit": 101}, 400), ({"page": 3, "limit": 5}, 200)]
)
def test_v3_search_limit_and_page(client, upstream, params, status):
    upstream.get(f"{GOOGLE}/volumes", json=volumes(volume(title="Dune", isbn13="9780441172719")))
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    response = client.get("/v3/books/search", {"q": "Dune", **params})
    assert response.status_code == status
    if params.get("page"):
        assert response.json()["data"]["query"]["offset"] == 10
        # Within the paging window, providers are asked once for the window's first results.
        assert query_of(calls(upstream, GOOGLE)[0])["startIndex"] == ["0"]
        assert query_of(calls(upstream, GOOGLE)[0])["maxResults"] == ["40"]


def test_accents_kept_in_upstream_queries_and_answers(client, upstream):
    upstream.get(f"{GOOGLE}/volumes", json=volumes(volume(title="Cien años de soledad", isbn13="9780307474728")))
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    body = client.get("/v1/search/title", {"q": "Cien años"}).json()
    assert body["data"]["works"][0]["title"] == "Cien años de soledad"
    assert body["data"]["authors"][0]["name"] == "Gabriel García Márquez"
    assert query_of(calls(upstream, GOOGLE)[0])["q"] == ["Cien años"]
    assert query_of(calls(upstream, f"{OL}/search.json")[0])["q"] == ["Cien años"]
    advanced = client.get("/v1/search/advanced", {"author": "García Márquez"})
    assert advanced.status_code == 200
    assert query_of(calls(upstream, GOOGLE)[1])["q"] == ['inauthor:"García Márquez"']
    assert query_of(calls(upstream, f"{OL}/search.json")[1])["author"] == ["García Márquez"]


# --- caching (CONTRACT 7) ------------------------------------------------------------------------------------


def test_isbn_not_found_cached_five_minutes_second_call_no_upstream(client, upstream, ttls):
    upstream.get(f"{GOOGLE}/volumes", json={"kind": "books#volumes", "totalItems": 0})
    upstream.get(f"{OL}/api/books", json={})
    first = client.get("/v1/search/isbn", {"isbn": "9780306406157"}).json()
    assert first["data"]["editions"] == [] and first["metadata"]["provider"] == "none"
    assert len(ttls) == 1 and 270 <= ttls[0] <= 330
    made = len(upstream.calls)
    second = client.get("/v1/search/isbn", {"isbn": "0306406152"}).json()  # same book as ISBN-10
    assert second["metadata"]["cached"] is True and second["data"]["editions"] == []
    assert len(upstream.calls) == made


def test_title_not_found_cached_five_minutes(client, upstream, ttls):
    upstream.get(re.compile(re.escape(GOOGLE) + r"/volumes.*"), json={"kind": "books#volumes", "totalItems": 0})
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    client.get("/v1/search/title", {"q": "Zzqxv"})
    made = len(upstream.calls)
    assert client.get("/v1/search/title", {"q": "Zzqxv"}).json()["metadata"]["cached"] is True
    assert len(upstream.calls) == made
    assert ttls and all(270 <= t <= 330 for t in ttls)


@pytest.mark.parametrize(
    ("book", "factor"),
    [
        ({"cover": True, "description": "A novel."}, 2.0),  # ISBN + cover + description
        ({"cover": True}, 1.0),  # two of three
        ({}, 0.5),  # ISBN only
    ],
    ids=["high", "normal", "low"],
)
def test_isbn_ttl_quality_multiplier(client, upstream, ttls, book, factor):
    upstream.get(f"{GOOGLE}/volumes", json=volumes(volume(title="Dune", isbn13="9780441172719", **book)))
    upstream.get(f"{OL}/api/books", json={})
    client.get("/v1/search/isbn", {"isbn": "9780441172719"})
    (ttl,) = ttls
    assert 0.9 * factor * 365 * DAY <= ttl <= 1.1 * factor * 365 * DAY


def test_title_ttl_seven_days_and_degraded_five_minutes(client, upstream, ttls):
    upstream.get(f"{GOOGLE}/volumes", json=volumes(volume(title="Dune", isbn13="9780441172719", cover=True)))
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    client.get("/v1/search/title", {"q": "Dune"})
    assert 0.9 * 7 * DAY <= ttls[-1] <= 1.1 * 7 * DAY
    upstream.remove(responses.GET, f"{OL}/search.json")
    upstream.get(f"{OL}/search.json", status=400)  # OpenLibrary now fails: a degraded answer heals soon
    client.get("/v1/search/title", {"q": "Dune Messiah"})
    assert 270 <= ttls[-1] <= 330


# --- paging through a merged answer ---------------------------------------------------------------------


def _isbn13(n: int) -> str:
    digits = f"978000{n:06d}"
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


def test_every_merged_book_is_reachable_by_paging_with_one_total(client, upstream):
    """Two providers with 30 different books each: 60 books, every one on exactly one page of 20,
    every page (and the page past the end) saying 60."""
    google = [volume(title=f"Sea Story {i:02d}", isbn13=_isbn13(i)) for i in range(30)]
    upstream.get(f"{GOOGLE}/volumes", json=volumes(*google))
    docs = [
        {"key": f"/works/OL{i}W", "title": f"Sea Story {i:02d}", "isbn": [_isbn13(i)], "author_name": ["A B"]}
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
    assert len(calls(upstream, GOOGLE)) == 1 and len(calls(upstream, OL)) == 1  # one window, then cuts
    past = client.get("/v1/search/title", {"q": "Sea Story", "limit": 20, "offset": 60}).json()
    assert past["data"]["works"] == [] and past["metadata"]["provider"] == "none"


def test_pages_past_an_incomplete_window_ask_each_provider_for_its_page(client, upstream):
    """Google says 500 results: the window holds its first 40; a page beyond asks Google at its offset."""
    many = volumes(*[volume(title=f"Sea Story {i:02d}", isbn13=_isbn13(i)) for i in range(40)])
    many["totalItems"] = 500
    upstream.get(f"{GOOGLE}/volumes", json=many)
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    first = client.get("/v1/search/title", {"q": "Sea Story", "limit": 20}).json()["data"]
    assert first["totalResults"] == 500
    client.get("/v1/search/title", {"q": "Sea Story", "limit": 20, "offset": 40})
    starts = [query_of(c)["startIndex"] for c in calls(upstream, GOOGLE)]
    assert starts == [["0"], ["40"]]
