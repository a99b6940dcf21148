"""Complete ISBN answers: the edition's language from OpenLibrary's `/api/books` (`jscmd=details`), and
the work's facts (description, first year, subjects) filled into the catalog in the background by
`search.complete_work`, so the same lookup answers with them (eager Celery here: the whole chain runs
inside the first request; tests/integration/test_isbn_completion_e2e.py runs it with a real worker)."""

from __future__ import annotations

import pytest

from search.answers import CachedAnswer
from search.cache.edge import EdgeCache
from search.cache.tiers import cache_reset_local
from search.cache.ttl import PROVISIONAL_EDGE_FRESH_SECONDS, cache_ttl
from search.dto import SearchResult
from search.normalize import normalize_language
from search.providers.openlibrary import normalize_api_books
from tests.samples import sample_json

FOX = "9780140328721"  # Google: no description, no language; OpenLibrary: both (work OL45804W)
FOX_DESCRIPTION = "The main character of Fantastic Mr. Fox is an extremely clever anthropomorphized fox"
DUNE_ES = "9788497596824"  # Spanish edition, OpenLibrary and ISBNdb only
BELOVED = "9781400033416"  # no description anywhere, not even on the work (OL2671587W, first year 1987)
WORKS_JSON = "GET /openlibrary/works/{work_id}.json"


def _details(bibkey: str, edition: dict) -> dict:
    """A `jscmd=details` answer around a real edition record (authors expanded as OpenLibrary does)."""
    details = {**edition, "authors": [{"key": "/authors/OL34184A", "name": "Roald Dahl"}]}
    return {bibkey: {"bib_key": bibkey, "info_url": "https://openlibrary.org/books/OL7353617M", "details": details}}


# --- the normalizer ---------------------------------------------------------------------------------


def test_api_books_details_carries_language_work_key_and_authors():
    edition = sample_json("openlibrary/isbn_9780140328721_edition.json")
    (hit,) = normalize_api_books(_details(f"ISBN:{FOX}", edition)).hits
    assert hit.edition.isbn == FOX and set(hit.edition.isbns) == {FOX, "0140328726"}
    assert hit.edition.language == "en" and hit.edition.provenance["language"] == "openlibrary"
    assert hit.work.open_library_work_id == "OL45804W"
    assert hit.author_names == ("Roald Dahl",) and hit.authors[0].open_library_id == "OL34184A"
    assert hit.edition.publisher == "Puffin" and hit.edition.page_count == 96
    assert hit.edition.cover_image_url.endswith("/b/id/8739161-L.jpg")
    assert hit.work.first_publication_year == 1988 and hit.work.year_from_edition  # the edition's date only


def test_api_books_details_keeps_only_the_asked_editions_isbns():
    """OL22951843M (a real record) lists three ISBN-10s, two of other editions: kept, they would glue
    editions together in the merge."""
    edition = sample_json("openlibrary/edition_OL22951843M_sabriel.json")
    (hit,) = normalize_api_books(_details("ISBN:9780060273224", edition)).hits
    assert hit.edition.isbn == "9780060273224" and hit.edition.isbns == ("9780060273224", "0060273224")


def test_api_books_still_reads_jscmd_data_records():
    (hit,) = normalize_api_books(sample_json("openlibrary/api_books_jscmd_data_ISBN_9780316030571.json")).hits
    assert hit.edition.isbn == "9780316030571" and hit.work.title


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"key": "/languages/eng"}, "en"),
        ({"key": "/languages/spa"}, "es"),
        ({"key": "/languages/fre"}, "fr"),  # MARC bibliographic codes
        ({"key": "/languages/ger"}, "de"),
        ({"key": "/languages/jpn"}, "ja"),
        ("fra", "fr"),  # ISO 639-2/T
        ("deu", "de"),
        ("en-GB", "en"),
        ({"key": "/languages/und"}, None),
    ],
)
def test_edition_languages_are_iso_639_1(raw, code):
    assert normalize_language(raw) == code


# --- provisional answers in the cache tiers ------------------------------------------------------------


def test_provisional_answer_is_fresh_on_the_edge_for_seconds_and_expires_soon():
    now = [1000.0]
    edge = EdgeCache(10, clock=lambda: now[0])
    edge.set("done", CachedAnswer(SearchResult(total_results=1)), 3600)
    edge.set("provisional", CachedAnswer(SearchResult(total_results=1, provisional=True)), 3600)
    assert edge.get("provisional")[1] == edge.get("done")[1] == "EDGE_FRESH"
    now[0] += PROVISIONAL_EDGE_FRESH_SECONDS
    assert edge.get("provisional")[1] == "EDGE_STALE"  # still served, while revalidated from the shared tier
    assert edge.get("done")[1] == "EDGE_FRESH"
    assert cache_ttl(kind="isbn", result=SearchResult(total_results=1, provisional=True)) <= 330


def test_provisional_answer_never_replaces_the_completed_one_in_the_shared_tier():
    from django.core.cache import cache

    from search.cache.keys import cache_key
    from search.cache.tiers import _store

    key = cache_key("isbn", FOX)
    cache.set(key, SearchResult(total_results=1, provider="openlibrary"), 60)  # the task's write, first
    _store("isbn", key, SearchResult(total_results=1, provider="google-books", provisional=True))
    assert cache.get(key).provider == "openlibrary"


# --- through the routes and the local fakes ----------------------------------------------------------


def _next_process() -> None:
    """What another server process sees (or this one once the provisional answer's few seconds of edge
    freshness have passed): the shared tier, not this process's edge."""
    cache_reset_local()


@pytest.fixture
def fake(fake, settings):
    """The local fakes without ISBNdb (a provider that needs a key and often has none): the books'
    descriptions can then come only from Google (none for these) or OpenLibrary's work record."""
    settings.ISBNDB_API_KEY = ""
    return fake


@pytest.mark.django_db(transaction=True)
def test_isbn_lookup_gets_openlibrary_language_and_work_description(client, fake):
    first = client.get("/v1/search/isbn", {"isbn": FOX}).json()["data"]
    assert "description" not in first["works"][0]  # Google has none; OpenLibrary's is the work's
    assert first["editions"][0]["language"] == "en"
    assert first["editions"][0]["provenance"]["language"] == "openlibrary"
    assert fake.count(WORKS_JSON) == 1  # completed in the background (eager here)

    _next_process()
    again = client.get("/v1/search/isbn", {"isbn": FOX}).json()
    work, edition = again["data"]["works"][0], again["data"]["editions"][0]
    assert work["description"].startswith(FOX_DESCRIPTION)
    assert work["provenance"]["description"] == "openlibrary"
    assert "openlibrary" in work["contributors"]
    assert edition["language"] == "en" and edition["provenance"]["language"] == "openlibrary"
    assert again["metadata"]["cached"] is True

    # The other ISBN routes answer from the same completed entry; the work is not asked again.
    v3 = client.get(f"/v3/books/{FOX}").json()["data"]
    assert v3["description"].startswith(FOX_DESCRIPTION) and v3["language"] == "en"
    legacy = client.get("/search/isbn", {"isbn": "0140328726"}).json()["items"][0]["volumeInfo"]
    assert legacy["description"].startswith(FOX_DESCRIPTION) and legacy["language"] == "en"
    assert fake.count(WORKS_JSON) == 1


@pytest.mark.django_db(transaction=True)
def test_completion_is_stored_in_the_catalog_with_provenance(client, fake):
    from django.core.cache import cache

    from search.models import Edition

    client.get("/v1/search/isbn", {"isbn": FOX})
    stored = Edition.objects.select_related("work").get(isbn13=FOX)
    assert stored.work.description.startswith(FOX_DESCRIPTION)
    assert stored.work.provenance["description"] == "openlibrary"
    assert stored.language == "en" and stored.provenance["language"] == "openlibrary"

    cache.clear()  # a new process with an empty cache: the catalog tier answers, complete
    cache_reset_local()
    fake.reset()
    body = client.get("/v1/search/isbn", {"isbn": FOX}).json()
    assert body["metadata"]["cacheSource"] == "CATALOG"
    assert body["data"]["works"][0]["description"].startswith(FOX_DESCRIPTION)
    assert fake.count("google") == fake.count("openlibrary") == 0  # no provider asked


@pytest.mark.django_db(transaction=True)
def test_spanish_edition_language_from_openlibrary(client, fake):
    edition = client.get("/v1/search/isbn", {"isbn": DUNE_ES}).json()["data"]["editions"][0]
    assert edition["language"] == "es" and edition["provenance"]["language"] == "openlibrary"
    _next_process()
    work = client.get("/v1/search/isbn", {"isbn": DUNE_ES}).json()["data"]["works"][0]
    assert work["firstPublicationYear"] == 1965 and work["provenance"]["firstPublicationYear"] == "openlibrary"


@pytest.mark.django_db(transaction=True)
def test_work_without_description_settles_after_one_completion(client, fake):
    """OpenLibrary's work has no description either: after the one completion the answer is final
    (held by the edge like any other), and the work is not asked again."""
    url, params = "/v1/search/isbn", {"isbn": BELOVED}
    client.get(url, params)
    assert fake.count(WORKS_JSON) == 1
    _next_process()
    second = client.get(url, params).json()
    third = client.get(url, params).json()
    assert "description" not in second["data"]["works"][0]
    work = second["data"]["works"][0]
    assert work["firstPublicationYear"] == 1987 and work["provenance"]["firstPublicationYear"] == "openlibrary"
    assert third["metadata"]["cacheSource"] == "EDGE_FRESH"
    assert fake.count(WORKS_JSON) == 1


@pytest.mark.django_db(transaction=True)
def test_completion_is_idempotent(client, fake):
    from search.services import work_facts_complete

    client.get("/v1/search/isbn", {"isbn": FOX})
    assert fake.count(WORKS_JSON) == 1
    assert work_facts_complete(open_library_work_id="OL45804W") == 0  # done: not asked again
    assert fake.count(WORKS_JSON) == 1


@pytest.mark.django_db(transaction=True)
def test_batch_lookup_completes_works_too(client, fake):
    body = client.post("/v3/books/enrich", {"isbns": [FOX, DUNE_ES]}, content_type="application/json").json()
    assert {b["isbn"]: b["language"] for b in body["data"]["books"]} == {FOX: "en", DUNE_ES: "es"}
    _next_process()
    one = client.get(f"/v3/books/{FOX}").json()["data"]
    assert one["description"].startswith(FOX_DESCRIPTION)


@pytest.mark.django_db(transaction=True)
def test_failed_completion_heals_on_a_later_lookup(client, fake):
    """The completion fails (retries exhausted): the lookup still answers, its answer is cached only
    briefly (provisional), and once it and the claim have lapsed, the catalog tier answers and queues
    the completion again."""
    from django.core.cache import cache

    from search import catalog
    from search.cache.keys import cache_key

    def failing(**kwargs):
        raise RuntimeError("database hiccup")

    from search.tasks import complete_work

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("search.services.catalog_fill_work_facts", failing)
        mp.setattr(complete_work, "max_retries", 0)  # retries exhausted at once (no backoff waits)
        first = client.get("/v1/search/isbn", {"isbn": FOX})
    assert first.status_code == 200 and "description" not in first.json()["data"]["works"][0]
    assert fake.count(WORKS_JSON) == 1
    held = cache.get(cache_key("isbn", FOX))
    assert held.provisional and cache_ttl(kind="isbn", result=held) <= 330

    cache.delete_many([cache_key("isbn", FOX), catalog._completion_key("OL45804W")])  # both lapse
    _next_process()
    healed = client.get("/v1/search/isbn", {"isbn": FOX}).json()
    assert healed["metadata"]["cacheSource"] == "CATALOG"  # queued the completion (eager: done)
    _next_process()
    done = client.get("/v1/search/isbn", {"isbn": FOX}).json()
    assert done["data"]["works"][0]["description"].startswith(FOX_DESCRIPTION)
    assert done["data"]["works"][0]["provenance"]["description"] == "openlibrary"
