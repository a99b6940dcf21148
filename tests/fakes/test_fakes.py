"""The fake upstreams speak the real wire shapes, and their knobs and counters work.

Needs no Django: ``.venv/bin/pytest -p no:django tests/fakes`` works before settings exist.
"""

import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from tests.fakes.server import FakeUpstreams
from tests.samples import UPSTREAM_FIXTURES, sample_json

pytestmark = []


@pytest.fixture(scope="module")
def server():
    fake = FakeUpstreams(port=0)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.reset()
    yield server
    server.reset()


def fetch(url, *, headers=None, data=None, method=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def fetch_json(url, **kwargs):
    status, headers, body = fetch(url, **kwargs)
    return status, headers, json.loads(body)


def test_server_base_urls_use_the_contract_env_names(fake):
    assert set(fake.base_urls) == {
        "GOOGLE_BOOKS_BASE_URL",
        "OPENLIBRARY_BASE_URL",
        "OPENLIBRARY_COVERS_BASE_URL",
        "ISBNDB_BASE_URL",
        "WIKIDATA_BASE_URL",
        "GEMINI_BASE_URL",
    }
    assert fake.base_urls["GOOGLE_BOOKS_BASE_URL"].endswith("/google/books/v1")


def test_google_books_isbn_search_returns_volume_shape(fake):
    url = fake.base_urls["GOOGLE_BOOKS_BASE_URL"] + "/volumes?q=isbn:9780441172719"
    status, _, body = fetch_json(url)
    assert status == 200
    assert body["kind"] == "books#volumes" and body["totalItems"] == 1
    info = body["items"][0]["volumeInfo"]
    assert info["title"] == "Dune" and info["authors"] == ["Frank Herbert"]
    assert {"type": "ISBN_13", "identifier": "9780441172719"} in info["industryIdentifiers"]
    assert set(info["imageLinks"]) == {"smallThumbnail", "thumbnail"}
    assert info["categories"] == ["Fiction / Science Fiction / Space Opera"]
    assert "description" in info


def test_google_books_recorded_fixture_is_served_verbatim(fake):
    recorded = UPSTREAM_FIXTURES / "google_books/volumes_q_isbn_9780374104092.json"
    url = fake.base_urls["GOOGLE_BOOKS_BASE_URL"] + "/volumes?q=isbn:9780374104092"
    assert fetch(url)[2] == recorded.read_bytes()


def test_google_books_intitle_inauthor_and_paging(fake):
    base = fake.base_urls["GOOGLE_BOOKS_BASE_URL"]
    _, _, body = fetch_json(base + "/volumes?q=intitle:dune+inauthor:herbert&maxResults=2")
    assert body["totalItems"] >= 3 and len(body["items"]) == 2
    _, _, page2 = fetch_json(base + "/volumes?q=intitle:dune+inauthor:herbert&startIndex=2")
    assert {i["id"] for i in page2["items"]}.isdisjoint({i["id"] for i in body["items"]})
    _, _, none = fetch_json(base + "/volumes?q=intitle:nonexistentzzz")
    assert none == {"kind": "books#volumes", "totalItems": 0}


def test_google_books_free_text_is_accent_insensitive(fake):
    _, _, body = fetch_json(fake.base_urls["GOOGLE_BOOKS_BASE_URL"] + "/volumes?q=cien+anos+soledad")
    assert body["items"][0]["volumeInfo"]["title"] == "Cien años de soledad"


def test_google_books_volume_by_id_has_large_images_and_unknown_is_404(fake):
    base = fake.base_urls["GOOGLE_BOOKS_BASE_URL"]
    status, _, body = fetch_json(base + "/volumes/FakeDuneGB3")
    assert status == 200 and "extraLarge" in body["volumeInfo"]["imageLinks"]
    status, _, body = fetch_json(base + "/volumes/doesNotExist")
    assert status == 404 and body["error"]["code"] == 404


def test_openlibrary_search_default_fields_have_no_isbn(fake):
    url = fake.base_urls["OPENLIBRARY_BASE_URL"] + "/search.json?q=the+great+gatsby"
    status, _, body = fetch_json(url)
    assert status == 200 and body["numFound"] == body["num_found"] == 1
    doc = body["docs"][0]
    assert doc["key"] == "/works/OL468431W" and doc["first_publish_year"] == 1925
    assert "isbn" not in doc


def test_openlibrary_search_honours_fields_limit_offset(fake):
    base = fake.base_urls["OPENLIBRARY_BASE_URL"]
    _, _, body = fetch_json(base + "/search.json?title=dune&fields=key,title,isbn")
    assert set(body["docs"][0]) == {"key", "title", "isbn"}
    assert "9788497596824" in body["docs"][0]["isbn"]
    _, _, body = fetch_json(base + "/search.json?q=fiction&limit=2&offset=1")
    assert len(body["docs"]) == 2 and body["start"] == 1 and body["numFound"] > 3


def test_openlibrary_isbn_redirects_to_edition_and_unknown_is_404(fake):
    base = fake.base_urls["OPENLIBRARY_BASE_URL"]
    status, _, body = fetch_json(base + "/isbn/9780441172719.json")  # urllib follows the 302
    assert status == 200 and body["key"] == "/books/OL26242482M"
    assert body["works"] == [{"key": "/works/OL893415W"}] and body["isbn_13"] == ["9780441172719"]
    assert fetch(base + "/isbn/9780000000002.json")[0] == 404


def test_openlibrary_work_editions_and_author_works_paginate(fake):
    base = fake.base_urls["OPENLIBRARY_BASE_URL"]
    _, _, body = fetch_json(base + "/works/OL893415W/editions.json?limit=2")
    assert body["size"] == 5 and len(body["entries"]) == 2 and "next" in body["links"]
    formats = {e["physical_format"] for e in fetch_json(base + "/works/OL893415W/editions.json")[2]["entries"]}
    assert {"Hardcover", "Paperback", "Audio CD"} <= formats
    _, _, works = fetch_json(base + "/authors/OL79034A/works.json")
    assert works["size"] == 1 and works["entries"][0]["key"] == "/works/OL893415W"
    _, _, author = fetch_json(base + "/authors/OL79034A.json")
    assert author["remote_ids"]["wikidata"] == "Q7934"


def test_openlibrary_books_api_answers_many_isbns_per_call(fake):
    url = (
        fake.base_urls["OPENLIBRARY_BASE_URL"]
        + "/api/books?bibkeys=ISBN:9780441172719,ISBN:9780743273565,ISBN:9780000000002"
        "&jscmd=data&format=json"
    )
    _, _, body = fetch_json(url)
    assert set(body) == {"ISBN:9780441172719", "ISBN:9780743273565"}
    dune = body["ISBN:9780441172719"]
    assert dune["authors"][0]["name"] == "Frank Herbert" and dune["publishers"] == [{"name": "Ace"}]
    assert dune["cover"]["medium"].startswith(fake.base_urls["OPENLIBRARY_COVERS_BASE_URL"])


def test_openlibrary_books_api_details_is_the_edition_record_with_languages_and_work(fake):
    url = (
        fake.base_urls["OPENLIBRARY_BASE_URL"]
        + "/api/books?bibkeys=ISBN:9780140328721,ISBN:9788497596824,ISBN:9782070360024,ISBN:9780000000002"
        "&jscmd=details&format=json"
    )
    _, _, body = fetch_json(url)
    assert set(body) == {"ISBN:9780140328721", "ISBN:9788497596824", "ISBN:9782070360024"}
    fox = body["ISBN:9780140328721"]
    assert fox["bib_key"] == "ISBN:9780140328721" and fox["info_url"] and fox["preview"]
    assert fox["thumbnail_url"].endswith("/b/id/8739161-S.jpg")
    recorded = sample_json("openlibrary/isbn_9780140328721_edition.json")
    # The recorded edition, authors expanded to {key, name} as OpenLibrary's dynlinks does.
    assert {k: v for k, v in fox["details"].items() if k != "authors"} == {
        k: v for k, v in recorded.items() if k != "authors"
    }
    assert fox["details"]["authors"] == [{"key": "/authors/OL34184A", "name": "Roald Dahl"}]
    languages = {k: v["details"]["languages"] for k, v in body.items()}
    assert languages == {
        "ISBN:9780140328721": [{"key": "/languages/eng"}],
        "ISBN:9788497596824": [{"key": "/languages/spa"}],
        "ISBN:9782070360024": [{"key": "/languages/fre"}],
    }
    assert body["ISBN:9788497596824"]["details"]["works"] == [{"key": "/works/OL893415W"}]


def test_openlibrary_search_authors_returns_docs(fake):
    _, _, body = fetch_json(fake.base_urls["OPENLIBRARY_BASE_URL"] + "/search/authors.json?q=murakami")
    assert body["docs"][0]["key"] == "OL1390923A" and body["docs"][0]["work_count"] == 1


def test_covers_are_real_jpegs_at_openlibrary_sizes(fake):
    base = fake.base_urls["OPENLIBRARY_COVERS_BASE_URL"]
    for size, expected in {"S": (45, 68), "M": (180, 270), "L": (400, 600)}.items():
        status, headers, body = fetch(f"{base}/b/isbn/9780441172719-{size}.jpg")
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(body)).size == expected
    assert fetch(f"{base}/b/id/11481354-M.jpg")[0] == 200
    assert fetch(f"{base}/a/olid/OL79034A-M.jpg")[0] == 200


def test_covers_unknown_is_404_with_default_false_else_blank_pixel(fake):
    base = fake.base_urls["OPENLIBRARY_COVERS_BASE_URL"]
    assert fetch(f"{base}/b/isbn/9780000000002-M.jpg?default=false")[0] == 404
    status, _, body = fetch(f"{base}/b/isbn/9780000000002-M.jpg")
    assert status == 200 and Image.open(io.BytesIO(body)).size == (1, 1)


def test_isbndb_book_needs_authorization(fake):
    url = fake.base_urls["ISBNDB_BASE_URL"] + "/book/9780441172719"
    assert fetch_json(url)[0] == 401
    status, _, body = fetch_json(url, headers={"Authorization": "invalid-key"})
    assert status == 403 and "message" in body
    status, _, body = fetch_json(url, headers={"Authorization": "k"})
    assert status == 200
    book = body["book"]
    assert book["binding"] == "Mass Market Paperback" and book["pages"] == 535
    assert book["image"].startswith("https://images.isbndb.com/covers/")
    assert book["isbn13"] == "9780441172719" and "msrp" in book


def test_isbndb_unknown_isbn_is_404(fake):
    url = fake.base_urls["ISBNDB_BASE_URL"] + "/book/9780000000002"
    status, _, body = fetch_json(url, headers={"Authorization": "k"})
    assert status == 404 and body == {"errorMessage": "Not Found"}


def test_isbndb_bulk_search_and_author(fake):
    base, auth = fake.base_urls["ISBNDB_BASE_URL"], {"Authorization": "k"}
    _, _, bulk = fetch_json(
        base + "/books",
        data=b"isbns=9780441172719,9780743273565,9780000000002",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert bulk["total"] == 2 and bulk["requested"] == 3 and len(bulk["data"]) == 2
    _, _, query = fetch_json(base + "/books/gatsby", headers=auth)
    assert {b["binding"] for b in query["data"]} >= {"Paperback", "Kindle Edition", "Audio CD"}
    _, _, search = fetch_json(base + "/search/books?author=herbert&pageSize=2", headers=auth)
    assert search["total"] >= 4 and search["page_size"] == 2 and len(search["data"]) == 2
    _, _, author = fetch_json(base + "/author/Frank%20Herbert", headers=auth)
    assert author["author"] == "Frank Herbert" and author["total"] == len(author["books"])


def _wikidata_search(fake, text):
    url = (
        fake.base_urls["WIKIDATA_BASE_URL"]
        + "/w/api.php?"
        + urllib.parse.urlencode(
            {
                "action": "wbsearchentities",
                "search": text,
                "language": "en",
                "format": "json",
                "type": "item",
                "limit": 5,
            }
        )
    )
    return fetch_json(url)[2]


def _entity(fake, qid):
    url = fake.base_urls["WIKIDATA_BASE_URL"] + f"/wiki/Special:EntityData/{qid}.json"
    return fetch_json(url)[2]["entities"][qid]


def test_wikidata_search_shape_and_namesake_first(fake):
    body = _wikidata_search(fake, "Andy Weir")
    assert body["success"] == 1 and body["searchinfo"] == {"search": "Andy Weir"}
    first, second = body["search"][:2]
    assert first["description"] == "Scottish footballer (born 1980)"
    assert second["id"] == "Q9990016"
    assert {"id", "title", "pageid", "concepturi", "label", "match"} <= set(first)


def test_wikidata_search_non_human_first_hit(fake):
    assert _wikidata_search(fake, "Dune")["search"][0]["id"] == "Q190192"
    hits = _wikidata_search(fake, "Toni Morrison")["search"]
    assert hits[0]["id"] == "Q9990102" and hits[1]["id"] == "Q72334"


def test_wikidata_entity_has_real_claim_shapes(fake):
    dahl = _entity(fake, "Q25161")
    assert dahl["labels"]["en"]["value"] == "Roald Dahl"
    p31 = dahl["claims"]["P31"][0]["mainsnak"]
    assert p31["datavalue"] == {
        "value": {"entity-type": "item", "numeric-id": 5, "id": "Q5"},
        "type": "wikibase-entityid",
    }
    assert dahl["claims"]["P27"][0]["mainsnak"]["datavalue"]["value"]["id"] == "Q145"
    birth = dahl["claims"]["P569"][0]["mainsnak"]["datavalue"]["value"]
    assert birth["time"] == "+1916-09-13T00:00:00Z" and birth["precision"] == 11
    assert dahl["claims"]["P648"][0]["mainsnak"]["datavalue"]["value"] == "OL34184A"
    assert _entity(fake, "Q145")["labels"]["en"]["value"] == "United Kingdom"


def test_wikidata_sparse_author_and_unknown_entity(fake):
    gladstone = _entity(fake, "Q9990015")
    assert "P21" not in gladstone["claims"] and "P27" not in gladstone["claims"]
    url = fake.base_urls["WIKIDATA_BASE_URL"] + "/wiki/Special:EntityData/Q1.json"
    assert fetch(url)[0] == 404


def _gemini_client(fake):
    genai = pytest.importorskip("google.genai")
    return genai.Client(
        api_key="fake-key",
        http_options=genai.types.HttpOptions(base_url=fake.base_urls["GEMINI_BASE_URL"]),
    )


def _shelf_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 80, 40)).save(out, "JPEG")
    return out.getvalue()


def test_gemini_sdk_parses_image_detection(fake):
    from google.genai import types

    client = _gemini_client(fake)
    response = client.models.generate_content(
        model="gemini-2.5-flash",
        contents=[types.Part.from_bytes(data=_shelf_jpeg(), mime_type="image/jpeg"), "List books"],
        config=types.GenerateContentConfig(response_mime_type="application/json"),
    )
    books = json.loads(response.text)["books"]
    assert 3 <= len(books) <= 6
    assert all(0 <= b["boundingBox"]["x"] < 1 and 0 < b["confidence"] <= 1 for b in books)
    usage = response.usage_metadata
    assert usage.prompt_token_count > 0 and usage.total_token_count >= usage.candidates_token_count
    assert fake.count("POST /gemini") == 1


def test_gemini_sdk_parses_csv_column_mapping(fake):
    client = _gemini_client(fake)
    csv_text = "Title,Author,ISBN13,My Rating,Exclusive Shelf\nDune,Frank Herbert,9780441172719,5,read\n"
    response = client.models.generate_content(
        model="gemini-2.5-flash", contents=["Map these CSV columns:\n" + csv_text]
    )
    columns = json.loads(response.text)["columns"]
    assert columns["title"] == "Title" and columns["author"] == "Author"
    assert columns["isbn13"] == "ISBN13"


def test_gemini_queued_429_and_safety_reach_the_sdk(fake):
    from google.genai import errors

    client = _gemini_client(fake)
    fake.queue(
        "gemini",
        [
            {"fixture": "gemini/error_429_resource_exhausted_retry_info.json", "status": 429},
            {"fixture": "gemini/generate_content_finish_reason_safety.json"},
        ],
    )
    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model="gemini-2.5-flash", contents=["hi"])
    assert raised.value.code == 429
    response = client.models.generate_content(model="gemini-2.5-flash", contents=["hi"])
    assert response.candidates[0].finish_reason.name == "SAFETY"


def test_knob_forced_500_for_next_n_requests(fake):
    url = fake.base_urls["OPENLIBRARY_BASE_URL"] + "/search.json?q=dune"
    fake.configure("openlibrary", status=500, times=2)
    assert [fetch(url)[0] for _ in range(3)] == [500, 500, 200]
    assert fake.counts()["GET /openlibrary/search.json"] == 3


def test_knob_429_with_retry_after(fake):
    fake.configure("isbndb", retry_after=7)
    status, headers, _ = fetch(
        fake.base_urls["ISBNDB_BASE_URL"] + "/book/9780441172719", headers={"Authorization": "k"}
    )
    assert status == 429 and headers["Retry-After"] == "7"


def test_knob_malformed_body_is_invalid_json(fake):
    fake.configure("google", malformed=True)
    status, _, body = fetch(fake.base_urls["GOOGLE_BOOKS_BASE_URL"] + "/volumes?q=dune")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)


def test_knob_latency_does_not_block_other_requests(fake):
    fake.configure("wikidata", latency_ms=400)
    slow = fake.base_urls["WIKIDATA_BASE_URL"] + "/wiki/Special:EntityData/Q145.json"
    fast = fake.base_urls["OPENLIBRARY_BASE_URL"] + "/authors/OL79034A.json"
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        slow_results = [pool.submit(fetch, slow) for _ in range(10)]
        assert fetch(fast)[0] == 200
        fast_elapsed = time.monotonic() - started
        assert all(f.result()[0] == 200 for f in slow_results)
    assert fast_elapsed < 0.3
    assert 0.4 <= time.monotonic() - started < 2.0  # ten slow calls ran in parallel


def test_server_handles_many_concurrent_connections(fake):
    url = fake.base_urls["GOOGLE_BOOKS_BASE_URL"] + "/volumes?q=isbn:9780743273565"
    fake.configure("google", latency_ms=100)
    with ThreadPoolExecutor(max_workers=120) as pool:
        statuses = list(pool.map(lambda _: fetch(url)[0], range(120)))
    assert statuses == [200] * 120
    assert fake.count("GET /google/books/v1/volumes") == 120


def test_control_endpoints_configure_count_and_reset(fake):
    control = fake.url + "/_control"
    payload = json.dumps({"upstream": "covers", "status": 503, "times": 1}).encode()
    assert fetch(control + "/configure", data=payload, method="POST")[0] == 200
    cover = fake.base_urls["OPENLIBRARY_COVERS_BASE_URL"] + "/b/id/11481354-S.jpg"
    assert fetch(cover)[0] == 503 and fetch(cover)[0] == 200
    _, _, counts = fetch_json(control + "/counts")
    assert counts == {"GET /covers/b/{kind}/{value}-{size}.jpg": 2}
    assert fetch(control + "/reset", data=b"{}", method="POST")[0] == 200
    assert fetch_json(control + "/counts")[2] == {}


def test_control_rejects_unknown_upstream(fake):
    payload = json.dumps({"upstream": "amazon", "status": 500}).encode()
    assert fetch(fake.url + "/_control/configure", data=payload, method="POST")[0] == 400
