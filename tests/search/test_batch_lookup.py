"""Many ISBNs at once (`book_lookup_many`, `POST /v3/books/enrich`) through the local upstream fakes."""

from __future__ import annotations

import threading
import time
import types

import pytest

from booktrack.core.exceptions import ProviderUnavailable
from search.cache import tiers
from search.isbn import isbn_normalize
from search.services import book_lookup_many, book_search_by_isbn
from tests.fakes.catalog import CATALOG

pytestmark = pytest.mark.django_db

OL_BOOKS = "GET /openlibrary/api/books"
ISBNDB_BATCH = "POST /isbndb/books"
SEARCH_UPSTREAMS = ("google", "openlibrary", "isbndb")


def unknown_isbns(count: int) -> list[str]:
    """Valid ISBN-13s that no fake upstream knows."""
    out = []
    body = 979000000000
    while len(out) < count:
        digits = str(body)
        check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
        isbn = f"{digits}{check}"
        if CATALOG.find_isbn(isbn) is None:
            out.append(isbn)
        body += 1
    return out


KNOWN = sorted({e["isbn13"] for w in CATALOG.works for e in w["editions"]})  # 43 editions, every source
FIFTY = KNOWN + unknown_isbns(50 - len(KNOWN))


@pytest.fixture
def stored(monkeypatch):
    """(key, value, ttl) of every write to the shared tier (a provisional answer is added, not set)."""
    written: list[tuple[str, object, int]] = []

    def spy(original):
        def write(key, value, ttl):
            written.append((key, value, ttl))
            original(key, value, ttl)

        return write

    monkeypatch.setattr(tiers, "kv_set", spy(tiers.kv_set))
    monkeypatch.setattr(tiers, "kv_add", spy(tiers.kv_add))
    return written


@pytest.fixture
def google_in_flight(monkeypatch):
    """How many Google requests were in flight at once, at the most (`.peak`)."""
    from booktrack.core.http import UpstreamClient

    tally = types.SimpleNamespace(now=0, peak=0)
    lock = threading.Lock()
    original = UpstreamClient.request

    def request(self, *args, **kwargs):
        if self.name != "google-books":
            return original(self, *args, **kwargs)
        with lock:
            tally.now += 1
            tally.peak = max(tally.peak, tally.now)
        try:
            return original(self, *args, **kwargs)
        finally:
            with lock:
                tally.now -= 1

    monkeypatch.setattr(UpstreamClient, "request", request)
    return tally


def test_enrich_50_isbns_one_openlibrary_call_all_found_within_deadline(client, fake, google_in_flight):
    for upstream in SEARCH_UPSTREAMS:
        fake.configure(upstream, latency_ms=80)  # every upstream answer takes 80 ms
    response = client.post("/v3/books/enrich", {"isbns": FIFTY}, content_type="application/json")
    body = response.json()
    assert response.status_code == 200
    assert body["data"]["requested"] == 50
    assert body["data"]["found"] == len(KNOWN) == 43
    assert sorted(b["isbn"] for b in body["data"]["books"]) == KNOWN
    assert sorted(body["data"]["notFound"]) == sorted(FIFTY[len(KNOWN) :])
    assert fake.count(OL_BOOKS) == 1
    assert fake.count("isbndb") == fake.count(ISBNDB_BATCH) == 1
    assert fake.count("GET /google") == 50  # no batch endpoint: one per ISBN, in parallel
    assert google_in_flight.peak >= 3  # asked side by side: 50 serial Google calls alone would take 4 s


def test_batch_answers_are_cached_per_isbn_for_single_lookups(client, fake, stored):
    book_lookup_many(isbns=FIFTY)
    before = sum(fake.counts().values())
    one = client.get("/v1/search/isbn", {"isbn": KNOWN[7]}).json()
    assert one["metadata"]["cached"] is True and one["data"]["editions"][0]["isbn"] == KNOWN[7]
    assert book_search_by_isbn(isbn=FIFTY[-1]).cached is True  # "not found" is cached too (5 min)
    again = book_lookup_many(isbns=FIFTY)
    assert sum(fake.counts().values()) == before  # nothing asked upstream again
    assert {k for k, v in again.items() if v} == set(KNOWN)
    assert len({key for key, _, _ in stored}) == 50


def test_batch_isbn10_and_duplicates_collapse(fake):
    work, edition = next((w, e) for w in CATALOG.works for e in w["editions"] if e["isbn10"])
    found = book_lookup_many(isbns=[edition["isbn10"], edition["isbn13"], edition["isbn13"]])
    assert list(found) == [edition["isbn13"]] and found[edition["isbn13"]].work.title
    assert fake.count(OL_BOOKS) == 1


def test_batch_openlibrary_chunks_of_50(fake):
    many = KNOWN + unknown_isbns(60 - len(KNOWN))
    found = book_lookup_many(isbns=many)
    assert fake.count(OL_BOOKS) == 2
    assert {k for k, v in found.items() if v} == set(KNOWN)
    keys = [r["query"] for r in fake.requests("openlibrary") if r["path"].endswith("/api/books")]
    assert sorted(len(str(k).split("ISBN:")) - 1 for k in keys) == [10, 50]


def test_batch_openlibrary_failure_is_degraded_not_not_found(fake, stored, settings):
    settings.SEARCH_TTL_DEGRADED = 120
    settings.SEARCH_TTL_NOT_FOUND = 300
    fake.configure("openlibrary", status=500)
    found = book_lookup_many(isbns=FIFTY)
    assert {k for k, v in found.items() if v} == set(KNOWN)  # Google and ISBNdb still answer
    ttls = {key: ttl for key, _, ttl in stored}
    assert len(ttls) == 50 and all(108 <= t <= 132 for t in ttls.values())  # SEARCH_TTL_DEGRADED, +-10 %
    assert all(value.degraded == ("openlibrary",) for _, value, _ in stored)


def test_batch_nothing_answered_is_unavailable_and_never_cached(fake, stored):
    for upstream in SEARCH_UPSTREAMS:
        fake.configure(upstream, status=500)
    with pytest.raises(ProviderUnavailable):
        book_lookup_many(isbns=KNOWN[:5])
    assert stored == []
    fake.reset()
    assert all(book_lookup_many(isbns=KNOWN[:5]).values())  # asked again, answered


def test_v3_enrich_total_outage_is_503_not_all_not_found(client, fake):
    for upstream in SEARCH_UPSTREAMS:
        fake.configure(upstream, status=500)
    response = client.post("/v3/books/enrich", {"isbns": KNOWN[:3]}, content_type="application/json")
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "PROVIDER_UNAVAILABLE"
    fake.reset()
    again = client.post("/v3/books/enrich", {"isbns": KNOWN[:3]}, content_type="application/json").json()
    assert again["data"]["found"] == 3 and again["data"]["notFound"] == []


def test_v3_enrich_partial_outage_serves_what_is_cached(client, fake):
    """With one book already cached, an outage still answers 200: it, plus the rest as not found
    (not cached, so they are found once the providers are back)."""
    book_search_by_isbn(isbn=KNOWN[0])
    for upstream in SEARCH_UPSTREAMS:
        fake.configure(upstream, status=500)
    body = client.post("/v3/books/enrich", {"isbns": KNOWN[:3]}, content_type="application/json").json()
    assert body["data"]["found"] == 1 and body["data"]["notFound"] == KNOWN[1:3]
    fake.reset()
    again = client.post("/v3/books/enrich", {"isbns": KNOWN[:3]}, content_type="application/json").json()
    assert again["data"]["found"] == 3


def test_batch_deadline_keeps_what_answered(fake, stored, upstream_outcomes):
    fake.configure("google", latency_ms=3000)  # Google misses the deadline; the batch calls do not
    found = book_lookup_many(isbns=KNOWN[:10], deadline=time.monotonic() + 1.0)
    google = {status for upstream, status in upstream_outcomes if upstream == "google-books"}
    assert google <= {"deadline"}  # cut at our deadline, not awaited (or still in flight); not a Google failure
    answered = {k for k, v in found.items() if v}
    assert answered == {i for i in KNOWN[:10] if set(CATALOG.find_isbn(i)[1]["sources"]) & {"o", "i"}}
    assert all(value.degraded == ("google-books",) for _, value, _ in stored)


def test_batch_concurrent_single_lookup_is_not_asked_twice(fake):
    from concurrent.futures import ThreadPoolExecutor

    for upstream in SEARCH_UPSTREAMS:
        fake.configure(upstream, latency_ms=200)
    isbn = isbn_normalize(KNOWN[0])
    with ThreadPoolExecutor(2) as pool:
        batch = pool.submit(book_lookup_many, isbns=KNOWN[:3])
        time.sleep(0.05)
        single = pool.submit(book_search_by_isbn, isbn=isbn)
        assert batch.result()[isbn] is not None and single.result().hits
    assert fake.count(OL_BOOKS) == 1
