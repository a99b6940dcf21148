"""GET /search/author (CONTRACT 4): an author's works from OpenLibrary's `/authors/{id}/works.json`."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from tests.factories import OL, calls_to, query_of
from tests.samples import sample_json

pytestmark = pytest.mark.django_db

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
    assert calls_to(upstream, f"{OL}/authors/") == [] and calls_to(upstream, f"{OL}/search.json") == []


def test_author_keyless_namesake_skipped_for_one_with_a_key(client, upstream):
    docs = [{"name": "J. K. Rowling", "work_count": 9}, {"key": "OL23919A", "name": "J.K. Rowling", "work_count": 3}]
    upstream.get(f"{OL}/search/authors.json", json={"numFound": 2, "docs": docs})
    upstream.add_callback(responses.GET, WORKS_URL, callback=_works_callback)
    body = client.get("/search/author", {"q": "J. K. Rowling"}).json()
    assert body["success"] is True and body["author"]["openLibraryKey"] == "OL23919A"
    assert len(calls_to(upstream, WORKS_URL)) == 1 and calls_to(upstream, f"{OL}/search.json") == []


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
    (works_call,) = calls_to(author_upstream, WORKS_URL)
    sent = query_of(works_call)
    assert (sent["limit"][0], sent["offset"][0]) == upstream_window
    assert calls_to(author_upstream, f"{OL}/search.json") == []


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
    assert len(calls_to(author_upstream, WORKS_URL)) == 2
    again = client.get("/search/author", {"q": "J. K. Rowling", "limit": 2}).json()
    assert again["works"] == first["works"] and again["cached"] is True
    assert len(calls_to(author_upstream, WORKS_URL)) == 2


def test_author_popularity_pages_upstream_window(client, author_upstream):
    body = client.get("/search/author", {"q": "J. K. Rowling", "limit": 1, "offset": 1, "sortBy": "popularity"}).json()
    assert [w["title"] for w in body["works"]] == ["Alpha Book"]
    assert body["pagination"]["total"] == 3 and body["pagination"]["hasMore"] is True
    sent = query_of(calls_to(author_upstream, WORKS_URL)[0])
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


@pytest.mark.django_db(transaction=True)
def test_author_works_against_the_local_fakes(client, fake):
    body = client.get("/search/author", {"q": "Frank Herbert"}).json()
    assert body["success"] is True and body["works"], "works.json lists the author's works"
    years = [w["firstPublicationYear"] for w in body["works"] if w["firstPublicationYear"] is not None]
    assert years == sorted(years, reverse=True)  # sortBy=publicationYear: newest first
    assert fake.count("GET /openlibrary/authors/") >= 1
    external = client.get("/external/openlibrary-author", {"q": "Frank Herbert"}).json()
    assert external["success"] is True and external["works"] and external["provider"] == "openlibrary"
