"""Regression tests for the reviewer's contract defects (one block per item)."""

from __future__ import annotations

import time

import pytest

from booktrack.core.exceptions import ProviderUnavailable
from search import services

pytestmark = pytest.mark.django_db(transaction=True)


def _recover(fake) -> None:
    from booktrack.core.http import reset_clients

    fake.reset()
    reset_clients()  # close the circuit breakers the outage opened


# --- 1. a total outage is never cached as "not found" ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/search/title", {"q": "Dune"}),
        ("/v1/search/isbn", {"isbn": "9780441172719"}),
        ("/v3/books/9780441172719", {}),
        ("/search/title", {"q": "Dune"}),
    ],
)
def test_total_outage_is_503_and_not_cached(client, fake, path, params):
    fake.configure("all", status=503)
    response = client.get(path, params)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "PROVIDER_UNAVAILABLE"

    _recover(fake)
    response = client.get(path, params)
    assert response.status_code == 200
    body = response.json()
    if path.startswith("/v1/"):
        assert body["data"]["works"] and body["metadata"]["provider"] != "none"
        assert body["metadata"]["cached"] is False
    elif path.startswith("/v3/"):
        assert body["data"]["isbn"] == "9780441172719"
    else:
        assert body["items"]


def test_total_outage_service_raises_and_partial_outage_still_answers(fake):
    fake.configure("all", status=500)
    with pytest.raises(ProviderUnavailable):
        services.book_search_by_title(query="Dune", deadline=time.monotonic() + 3)
    _recover(fake)
    fake.configure("openlibrary", status=500)
    result = services.book_search_by_title(query="Dune", deadline=time.monotonic() + 3)
    assert result.hits and "openlibrary" in result.degraded


# --- 2. paging: offset selects the window, not page 1 again -------------------------------------------


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


# --- 3. provenance keys are wire names --------------------------------------------------------------


def test_provenance_keys_are_camel_case_on_the_wire_and_round_trip():
    from search.dto import EditionDTO, SearchHit, WorkDTO, hit_from_record, hit_to_record

    work = WorkDTO(
        title="Dune",
        subject_tags=("Science fiction",),
        cover_image_url="https://covers.example/dune.jpg",
        provenance={"title": "openlibrary", "subject_tags": "openlibrary", "cover_image_url": "google-books"},
    )
    edition = EditionDTO(isbns=("9780441172719",), isbn="9780441172719", provenance={"page_count": "isbndb"})
    wire = work.to_wire()
    assert wire["provenance"] == {"title": "openlibrary", "subjectTags": "openlibrary", "coverImageURL": "google-books"}
    assert set(wire["provenance"]) <= set(wire)
    assert edition.to_wire()["provenance"] == {"pageCount": "isbndb"}
    # The DTO side keeps field names (enrichment reads provenance["subject_tags"]).
    back = hit_from_record(hit_to_record(SearchHit(work=work, edition=edition)))
    assert back.work.provenance == work.provenance and back.edition.provenance == edition.provenance


# --- 4. "Last, First" author names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Herbert, Frank", "Frank Herbert"),
        ("Tolkien, J. R. R.", "J. R. R. Tolkien"),
        ("King, Martin Luther, Jr.", "Martin Luther King Jr."),
        ("Martin Luther King, Jr.", "Martin Luther King, Jr."),
        ("Frank Herbert", "Frank Herbert"),
        ("Smith, John, 1950-", "Smith, John, 1950-"),
        ("Herbert, Frank ~autofilled~", "Frank Herbert"),
        ("García Márquez, Gabriel", "Gabriel García Márquez"),
    ],
)
def test_clean_author_name_uninverts_catalogue_form(raw, expected):
    from search.normalize import clean_author_name

    assert clean_author_name(raw) == expected


def test_isbndb_authors_uninverted_and_deduplicated():
    from search.providers.isbndb import normalize_book

    hit = normalize_book(
        {"isbn13": "9780441172719", "title": "Dune", "authors": ["Herbert, Frank", "Frank Herbert", "FRANK  HERBERT"]}
    )
    assert hit.author_names == ("Frank Herbert",)


def test_merge_deduplicates_authors_on_folded_key():
    from search.dto import AuthorDTO, EditionDTO, ProviderPage, SearchHit, WorkDTO
    from search.merge import merge_pages

    def hit(provider, *names):
        return SearchHit(
            work=WorkDTO(title="Dune", primary_provider=provider),
            edition=EditionDTO(isbns=("9780441172719",), isbn="9780441172719", primary_provider=provider),
            authors=tuple(AuthorDTO(name=n) for n in names),
        )

    pages = [
        ProviderPage(provider="google-books", hits=(hit("google-books", "Frank Herbert", "Frank Herbert"),)),
        ProviderPage(provider="isbndb", hits=(hit("isbndb", "Frank Herbert"),)),
    ]
    merged = merge_pages(pages, priority={"google-books": 0, "isbndb": 1})
    assert [a.name for a in merged[0].authors] == ["Frank Herbert"]


# --- 5. author works come from /authors/{id}/works.json ----------------------------------------------


def test_author_works_against_the_local_fakes(client, fake):
    body = client.get("/search/author", {"q": "Frank Herbert"}).json()
    assert body["success"] is True and body["works"], "works.json lists the author's works"
    years = [w["firstPublicationYear"] for w in body["works"] if w["firstPublicationYear"] is not None]
    assert years == sorted(years, reverse=True)  # sortBy=publicationYear: newest first
    assert fake.count("GET /openlibrary/authors/") >= 1
    external = client.get("/external/openlibrary-author", {"q": "Frank Herbert"}).json()
    assert external["success"] is True and external["works"] and external["provider"] == "openlibrary"


# --- 6. v3 search: totalCount counts only shown results; mode is validated --------------------------------


def _hit(title, isbn=None):
    from search.dto import EditionDTO, SearchHit, WorkDTO

    return SearchHit(
        work=WorkDTO(title=title), edition=EditionDTO(isbns=(isbn,) if isbn else (), isbn=isbn, title=title)
    )


def test_v3_search_total_count_leaves_out_hits_without_isbn13(client, monkeypatch):
    from search.dto import SearchResult
    from search.views import services as view_services

    hits = (_hit("Dune", "9780441172719"), _hit("Dune (no ISBN)"), _hit("Dune Messiah", "9780593098233"))
    monkeypatch.setattr(
        view_services,
        "book_search_by_title",
        lambda **kw: SearchResult(hits=hits, total_results=3, provider="openlibrary"),
    )
    data = client.get("/v3/books/search", {"q": "Dune"}).json()["data"]
    assert len(data["results"]) == 2 and data["totalCount"] == 2


def test_v3_total_count_full_page_subtracts_dropped():
    from search.wire import v3_total_count

    assert v3_total_count(total=100, hits=20, kept=18, limit=20, offset=0) == 98
    assert v3_total_count(total=100, hits=7, kept=6, limit=20, offset=40) == 46
    assert v3_total_count(total=5, hits=0, kept=0, limit=20, offset=0) == 0


@pytest.mark.parametrize("mode", ["semantic", "isbn", "TEXT"])
def test_v3_search_unknown_mode_is_invalid_query(client, mode):
    response = client.get("/v3/books/search", {"q": "Dune", "mode": mode})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"


# --- 7. /external/* validate limit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/external/google-books", "/external/openlibrary", "/external/isbndb", "/external/openlibrary-author"],
)
@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "abc"}, {"limit": "1000"}, {"maxResults": "-1"}])
def test_external_routes_reject_bad_limit(client, fake, path, params):
    response = client.get(path, {"q": "Dune", **params})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"
    assert fake.count() == 0


def test_external_routes_accept_limit_in_range(client, fake):
    body = client.get("/external/google-books", {"q": "Dune", "limit": "3"}).json()
    assert 1 <= len(body["works"]) <= 3 and body["provider"] == "google-books"


# --- 8. v1 ISBN without an isbn is MISSING_PARAMETER -------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/search/isbn", "/search/isbn"])
@pytest.mark.parametrize("params", [{}, {"isbn": ""}, {"isbn": "   "}])
def test_isbn_routes_missing_isbn_is_missing_parameter(client, path, params):
    response = client.get(path, params)
    assert response.status_code == 400 and response.json()["error"]["code"] == "MISSING_PARAMETER"


def test_v1_isbn_bad_checksum_still_invalid_isbn(client):
    response = client.get("/v1/search/isbn", {"isbn": "9780441172710"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_ISBN"


# --- 9. an edition's date is not the work's first publication year -----------------------------------------


def _year_hit(provider, year, *, from_edition):
    from search.dto import EditionDTO, SearchHit, WorkDTO

    return SearchHit(
        work=WorkDTO(
            title="Dune",
            first_publication_year=year,
            primary_provider=provider,
            provenance={"title": provider, "first_publication_year": provider},
            year_from_edition=from_edition,
        ),
        edition=EditionDTO(isbns=("9780441172719",), isbn="9780441172719", primary_provider=provider),
    )


def test_merge_prefers_openlibrary_first_publish_year_over_edition_dates():
    from search.dto import ProviderPage
    from search.merge import merge_pages

    pages = [
        ProviderPage(provider="google-books", hits=(_year_hit("google-books", 2019, from_edition=True),)),
        ProviderPage(provider="isbndb", hits=(_year_hit("isbndb", 1990, from_edition=True),)),
        ProviderPage(provider="openlibrary", hits=(_year_hit("openlibrary", 1965, from_edition=False),)),
    ]
    (hit,) = merge_pages(pages, priority={"google-books": 0, "openlibrary": 1, "isbndb": 2})
    assert hit.work.first_publication_year == 1965
    assert hit.work.provenance["first_publication_year"] == "openlibrary"
    # Preferred even when an edition claims an earlier year.
    pages[2] = ProviderPage(provider="openlibrary", hits=(_year_hit("openlibrary", 2000, from_edition=False),))
    (hit,) = merge_pages(pages, priority={"google-books": 0, "openlibrary": 1, "isbndb": 2})
    assert hit.work.first_publication_year == 2000
    assert "yearFromEdition" not in hit.work.to_wire()


def test_merge_edition_dates_only_take_the_earliest():
    from search.dto import ProviderPage
    from search.merge import merge_pages

    pages = [
        ProviderPage(provider="google-books", hits=(_year_hit("google-books", 2019, from_edition=True),)),
        ProviderPage(provider="isbndb", hits=(_year_hit("isbndb", 1990, from_edition=True),)),
    ]
    (hit,) = merge_pages(pages, priority={"google-books": 0, "isbndb": 1})
    assert hit.work.first_publication_year == 1990 and hit.work.year_from_edition


def test_provider_normalizers_mark_edition_years():
    from search.providers.google_books import normalize_volume
    from search.providers.isbndb import normalize_book

    google = normalize_volume(
        {
            "id": "x",
            "volumeInfo": {
                "title": "Dune",
                "publishedDate": "2019-10-01",
                "industryIdentifiers": [{"type": "ISBN_13", "identifier": "9780593099322"}],
            },
        }
    )
    assert google.work.first_publication_year == 2019 and google.work.year_from_edition
    isbndb = normalize_book({"isbn13": "9780441172719", "title": "Dune", "date_published": "1990"})
    assert isbndb.work.year_from_edition


# --- 10. v3 enrich: each ISBN sent is found or in notFound ---------------------------------------------------


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


# --- second review: queries that differ only in punctuation or accents are different questions ---------


@pytest.mark.parametrize(
    ("path", "param", "first", "second"),
    [
        ("/v1/search/advanced", "title", "C++", "C#"),
        ("/v1/search/advanced", "author", "Brontë", "Bronte"),
        ("/v1/search/advanced", "title", "Straße", "Strasse"),
        ("/v1/search/title", "q", "C++", "C#"),
        ("/external/google-books", "q", "C++", "C#"),
        ("/v1/editions/search", "workTitle", "C++", "C#"),
        ("/search/author", "q", "Brontë", "Bronte"),
    ],
)
def test_punctuation_and_accents_are_part_of_the_cache_key(client, fake, path, param, first, second):
    client.get(path, {param: first})
    before = fake.count()
    second_body = client.get(path, {param: second}).json()
    after = fake.count()
    assert after > before, "the second query was answered from the first one's cache entry"
    assert second_body.get("metadata", {}).get("cached") is not True


def test_case_and_spacing_share_a_cache_entry(client, fake):
    client.get("/v1/search/advanced", {"title": "Dune"})
    again = client.get("/v1/search/advanced", {"title": "  dUNE "}).json()
    assert again["metadata"]["cached"] is True


# --- second review: pages past the end ------------------------------------------------------------------


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


def test_page_cannot_reach_past_the_offset_cap(client):
    response = client.get("/v3/books/search", {"q": "Dune", "limit": 100, "page": 1000})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"


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


def test_v3_enrich_rejects_booleans_as_isbns(client):
    response = client.post("/v3/books/enrich", {"isbns": [True]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_REQUEST"


def test_external_routes_apply_the_query_length_rule(client, fake):
    from search.services import MAX_QUERY_LENGTH

    long_title = "x" * (MAX_QUERY_LENGTH + 1)
    calls = fake.count()
    for path, param in (("/external/isbndb-editions", "title"), ("/external/openlibrary-author", "q")):
        response = client.get(path, {param: long_title})
        assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY", path
    assert fake.count() == calls


def test_v3_total_count_full_page_without_isbn13_keeps_paging():
    from search.wire import v3_total_count

    # A full page whose hits all lack an ISBN-13 is not the end: more results exist upstream.
    assert v3_total_count(total=100, hits=20, kept=0, limit=20, offset=20) == 80
    assert v3_total_count(total=100, hits=0, kept=0, limit=20, offset=200) == 100


def test_isbn_rules_take_any_value_from_upstreams():
    from search.isbn import isbn_clean, isbn_is_valid, isbn_to_13

    assert isbn_to_13(["9780441172719"]) is None and not isbn_is_valid({"x": 1})
    assert isbn_to_13(9780441172719) == "9780441172719" and isbn_clean(None) == ""
