"""The v3 routes: /v3/books/{isbn}, /v3/books/search (totalCount) and /v3/books/enrich."""

from __future__ import annotations

import pytest

from tests.factories import GOOGLE, OL, calls_to, search_hit, search_result
from tests.samples import sample_json

pytestmark = pytest.mark.django_db


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
    assert len(calls_to(upstream, GOOGLE)) == 1  # one cache entry for both forms


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
    assert len(calls_to(upstream, f"{OL}/api/books")) == 1


@pytest.mark.django_db(transaction=True)
def test_v3_search_total_count_leaves_out_hits_without_isbn13(client, monkeypatch):
    from search.views import services as view_services

    hits = (
        search_hit("Dune", isbn="9780441172719"),
        search_hit("Dune (no ISBN)"),
        search_hit("Dune Messiah", isbn="9780593098233"),
    )
    monkeypatch.setattr(
        view_services, "book_search_by_title", lambda **kw: search_result(*hits, provider="openlibrary")
    )
    data = client.get("/v3/books/search", {"q": "Dune"}).json()["data"]
    assert len(data["results"]) == 2 and data["totalCount"] == 2


def test_v3_total_count_full_page_subtracts_dropped():
    from search.wire import v3_total_count

    assert v3_total_count(total=100, hits=20, kept=18, limit=20, offset=0) == 98
    assert v3_total_count(total=100, hits=7, kept=6, limit=20, offset=40) == 46
    assert v3_total_count(total=5, hits=0, kept=0, limit=20, offset=0) == 0


def test_v3_total_count_full_page_without_isbn13_keeps_paging():
    from search.wire import v3_total_count

    # A full page whose hits all lack an ISBN-13 is not the end: more results exist upstream.
    assert v3_total_count(total=100, hits=20, kept=0, limit=20, offset=20) == 80
    assert v3_total_count(total=100, hits=0, kept=0, limit=20, offset=200) == 100


@pytest.mark.django_db(transaction=True)
def test_v3_enrich_isbn10_and_its_isbn13_counts_add_up(client, fake):
    from search.isbn import isbn_variants

    isbn10 = next(v for v in isbn_variants("9780441172719") if len(v) == 10)
    sent = [isbn10, "9780441172719", "9780441172719", "bad", "9780306406157"]
    data = client.post("/v3/books/enrich", {"isbns": sent}, content_type="application/json").json()["data"]
    assert data["requested"] == 5
    assert data["found"] + len(data["notFound"]) == data["requested"]
    assert data["found"] >= 3 and "bad" in data["notFound"]
    isbns = [b["isbn"] for b in data["books"]]
    assert isbns.count("9780441172719") == 1 and len(isbns) == len(set(isbns))
