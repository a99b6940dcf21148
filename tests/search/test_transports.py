"""Provider transports, faked at the HTTP layer with `responses`: the exact upstream requests we send.

Unit-test settings point every upstream at http://upstream.test/... (booktrack/settings/test.py).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
import responses

from search import services
from search.providers.google_books import GoogleBooksProvider
from search.providers.isbndb import IsbndbProvider
from search.providers.openlibrary import OpenLibraryProvider
from tests.factories import GOOGLE, ISBNDB, OL, calls_to, query_of
from tests.samples import sample_json, sample_lines

ANY_GOOGLE = re.compile(re.escape(GOOGLE) + r"/.*")
ANY_OL = re.compile(re.escape(OL) + r"/.*")
ANY_ISBNDB = re.compile(re.escape(ISBNDB) + r"/.*")

OL_EMPTY_SEARCH = {"numFound": 0, "docs": []}
GOOGLE_EMPTY = {"kind": "books#volumes", "totalItems": 0}


def path_of(call) -> str:
    return urlsplit(call.request.url).path


@pytest.fixture
def upstream():
    """Every outbound request is answered by a registered fake; unregistered URLs fail the provider.
    (Keys as settings have them, unlike tests/search/conftest.py's keyless `upstream`.)"""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def no_keys(settings):
    settings.GOOGLE_BOOKS_API_KEY = None
    settings.ISBNDB_API_KEY = None


# --- Google Books ---------------------------------------------------------------------------------


def test_google_isbn_search_sends_q_isbn_without_key(upstream, no_keys):
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_q_isbn_9780374104092.json"))
    page = GoogleBooksProvider().search_isbn(isbn13="9780374104092", deadline=None)
    assert [h.edition.isbn for h in page.hits] == ["9780374104092"]
    (call,) = upstream.calls
    assert path_of(call) == "/google/books/v1/volumes"
    params = query_of(call)
    assert params["q"] == ["isbn:9780374104092"]
    assert "key" not in params  # works without a key: no empty `key=` either


def test_google_sends_key_only_when_configured(upstream, settings):
    settings.GOOGLE_BOOKS_API_KEY = "g-key-123"
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_q_isbn_9780374104092.json"))
    upstream.get(f"{GOOGLE}/volumes/2cl7AgAAQBAJ", json=sample_json("google_books/volume_by_id_2cl7AgAAQBAJ.json"))
    provider = GoogleBooksProvider()
    provider.search_isbn(isbn13="9780374104092", deadline=None)
    provider.search_title(query="Annihilation", limit=5, offset=0, deadline=None)
    provider.search_advanced(title="Annihilation", author=None, limit=5, deadline=None)
    page = provider.volume_by_id(volume_id="2cl7AgAAQBAJ", deadline=None)
    assert page.hits[0].work.title == "Annihilation"
    assert len(upstream.calls) == 4
    assert all(query_of(c)["key"] == ["g-key-123"] for c in upstream.calls)


def test_google_advanced_uses_intitle_and_inauthor(upstream, no_keys):
    upstream.get(f"{GOOGLE}/volumes", json=GOOGLE_EMPTY)
    provider = GoogleBooksProvider()
    provider.search_advanced(title="Dune", author="Frank Herbert", limit=10, deadline=None)
    provider.search_advanced(title=None, author="Gabriel García Márquez", limit=60, deadline=None)
    first, second = (query_of(c) for c in upstream.calls)
    assert first["q"] == ['intitle:Dune inauthor:"Frank Herbert"']
    assert first["maxResults"] == ["10"]
    assert second["q"] == ['inauthor:"Gabriel García Márquez"']  # accents kept
    assert second["maxResults"] == ["40"]  # Google's own maximum


def test_google_title_search_pages_with_start_index(upstream, no_keys):
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_search_children_of_time.json"))
    page = GoogleBooksProvider().search_title(query="Children of Time", limit=20, offset=40, deadline=None)
    assert page.hits and page.total == 1499
    params = query_of(upstream.calls[0])
    assert params["q"] == ["Children of Time"]
    assert params["startIndex"] == ["40"] and params["maxResults"] == ["20"]


# --- OpenLibrary --------------------------------------------------------------------------------------


def test_openlibrary_search_asks_for_explicit_fields_including_isbn(upstream):
    upstream.get(f"{OL}/search.json", json=sample_json("openlibrary/search_title_lord_of_the_rings.json"))
    provider = OpenLibraryProvider()
    page = provider.search_title(query="The Lord of the Rings", limit=5, offset=10, deadline=None)
    provider.search_advanced(title="Dune", author="Frank Herbert", limit=5, deadline=None)
    assert page.hits and any(h.edition.isbn for h in page.hits)
    title_call, advanced_call = (query_of(c) for c in upstream.calls)
    for params in (title_call, advanced_call):
        (fields,) = params["fields"]
        assert {"isbn", "key", "title", "author_name", "cover_i", "first_publish_year"} <= set(fields.split(","))
    assert title_call["q"] == ["The Lord of the Rings"]
    assert title_call["offset"] == ["10"] and title_call["limit"] == ["5"]
    assert advanced_call["title"] == ["Dune"] and advanced_call["author"] == ["Frank Herbert"]


def test_openlibrary_many_isbns_in_one_api_books_call(upstream):
    body = {
        **sample_json("openlibrary/api_books_jscmd_data_ISBN_9780316030571.json"),
        **sample_json("openlibrary/api_books_jscmd_data_ISBN_9782070427796.json"),
    }
    upstream.get(f"{OL}/api/books", json=body)
    page = OpenLibraryProvider().books_by_isbns(isbns=["9780316030571", "9782070427796"], deadline=None)
    assert {h.edition.isbn for h in page.hits} == {"9780316030571", "9782070427796"}
    (call,) = upstream.calls
    assert path_of(call) == "/openlibrary/api/books"
    assert query_of(call) == {
        "bibkeys": ["ISBN:9780316030571,ISBN:9782070427796"],
        "jscmd": ["details"],
        "format": ["json"],
    }


def test_openlibrary_isbn_json_follows_the_redirect_to_the_edition(upstream, settings):
    upstream.get(
        f"{OL}/isbn/9780140328721.json",
        status=302,
        headers={"Location": f"{OL}/books/OL7353617M.json"},
    )
    upstream.get(f"{OL}/books/OL7353617M.json", json=sample_json("openlibrary/isbn_9780140328721_edition.json"))
    hit = OpenLibraryProvider().edition_by_isbn(isbn="9780140328721", deadline=None)
    assert hit is not None and hit.work.title == "Fantastic Mr. Fox"
    assert hit.edition.isbn == "9780140328721" and hit.edition.open_library_edition_id == "OL7353617M"
    assert [path_of(c) for c in upstream.calls] == [
        "/openlibrary/isbn/9780140328721.json",
        "/openlibrary/books/OL7353617M.json",
    ]
    # The redirected request is still ours (User-Agent with a contact, as OpenLibrary asks).
    assert upstream.calls[1].request.headers["User-Agent"] == settings.OUTBOUND_USER_AGENT


def test_openlibrary_unknown_isbn_404_is_not_found_not_an_error(upstream):
    upstream.get(f"{OL}/isbn/9780306406157.json", status=404, json={"error": "notfound"})
    assert OpenLibraryProvider().edition_by_isbn(isbn="9780306406157", deadline=None) is None


# --- ISBNdb -------------------------------------------------------------------------------------------


def test_isbndb_sends_raw_key_in_authorization_header(upstream, settings):
    settings.ISBNDB_API_KEY = "isbndb-secret"
    record = json.loads(sample_lines("isbndb/isbndb_dump_book_records.jsonl")[2])
    upstream.get(f"{ISBNDB}/book/9780000000101", json={"book": record})
    upstream.get(re.compile(re.escape(ISBNDB) + r"/books/.*"), json={"total": 0, "data": []})
    provider = IsbndbProvider()
    assert provider.enabled()
    page = provider.search_isbn(isbn13="9780000000101", deadline=None)
    provider.search_title(query="Cien años de soledad", limit=20, offset=40, deadline=None)
    assert page.hits[0].edition.isbn == "9780000000101"
    isbn_call, title_call = upstream.calls
    assert isbn_call.request.headers["Authorization"] == "isbndb-secret"  # no "Bearer"
    assert title_call.request.headers["Authorization"] == "isbndb-secret"
    # The query is one path segment, accents percent-encoded as UTF-8 (not stripped).
    assert path_of(title_call) == "/isbndb/books/Cien%20a%C3%B1os%20de%20soledad"
    assert query_of(title_call) == {"page": ["3"], "pageSize": ["20"], "column": ["title"]}


@pytest.mark.django_db
def test_isbndb_without_key_is_disabled_no_request_no_error(upstream, no_keys):
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_q_isbn_9780374104092.json"))
    upstream.get(f"{OL}/api/books", json={})
    upstream.get(ANY_ISBNDB, status=500)
    assert not IsbndbProvider().enabled()
    result = services.book_search_by_isbn(isbn="9780374104092")
    assert result.hits and result.hits[0].edition.isbn == "9780374104092"
    assert result.degraded == ()  # disabled is not failed
    assert calls_to(upstream, ISBNDB) == []


# --- every call ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_upstream_call_names_the_app_and_a_contact(upstream, settings):
    settings.ISBNDB_API_KEY = "isbndb-secret"
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_search_children_of_time.json"))
    upstream.get(f"{OL}/search.json", json=sample_json("openlibrary/search_time_war_2020_format.json"))
    upstream.get(ANY_ISBNDB, json={"total": 0, "data": []})
    result = services.book_search_by_title(query="Children of Time")
    assert result.hits and result.degraded == ()
    hosts = {path_of(c).split("/")[1] for c in upstream.calls}
    assert hosts == {"google", "openlibrary", "isbndb"}
    user_agent = settings.OUTBOUND_USER_AGENT
    assert "BooksTrack" in user_agent and re.search(r"[\w.+-]+@[\w-]+\.\w+|https?://", user_agent)
    assert all(c.request.headers["User-Agent"] == user_agent for c in upstream.calls)


# --- Google failures degrade the answer ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "retry_after",
    ["30", "Wed, 21 Oct 2099 07:28:00 GMT"],
    ids=["delta-seconds", "http-date"],
)
def test_google_429_retry_after_beyond_our_wait_degrades_to_openlibrary(client, upstream, no_keys, sleeps, retry_after):
    upstream.get(f"{GOOGLE}/volumes", status=429, headers={"Retry-After": retry_after}, json={"error": {}})
    upstream.get(f"{OL}/search.json", json=sample_json("openlibrary/search_title_lord_of_the_rings.json"))
    response = client.get("/v1/search/title", {"q": "The Lord of the Rings"})
    assert sleeps == []  # did not sleep for the Retry-After
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"]["works"]
    assert body["metadata"]["provider"] == "openlibrary"
    assert len(calls_to(upstream, GOOGLE)) == 1  # a Retry-After we cannot honour in time is not hammered


@pytest.mark.django_db
def test_google_429_retry_after_within_our_wait_is_honoured(upstream, no_keys, sleeps):
    stamps: list[int] = []
    found = json.dumps(sample_json("google_books/volumes_q_isbn_9780374104092.json"))

    def google(request):
        stamps.append(len(sleeps))  # how many waits came before this attempt
        if len(stamps) == 1:
            return 429, {"Retry-After": "1"}, "{}"
        return 200, {"Content-Type": "application/json"}, found

    upstream.add_callback(responses.GET, f"{GOOGLE}/volumes", callback=google)
    upstream.get(f"{OL}/api/books", json={})
    result = services.book_search_by_isbn(isbn="9780374104092")
    assert result.hits and result.provider == "google-books" and result.degraded == ()
    assert stamps == [0, 1] and sleeps == [1.0]  # waited as told before trying again


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_google_5xx_retried_then_degraded(upstream, no_keys, settings, status):
    upstream.get(f"{GOOGLE}/volumes", status=status, body="<html>backend error</html>")
    upstream.get(f"{OL}/search.json", json=sample_json("openlibrary/search_title_lord_of_the_rings.json"))
    result = services.book_search_by_title(query="The Lord of the Rings")
    assert result.hits, "OpenLibrary still answers"
    assert result.degraded == ("google-books",)
    assert result.provider == "openlibrary"
    # One try plus the bounded retries, then give up.
    assert len(calls_to(upstream, GOOGLE)) == 1 + settings.OUTBOUND_HTTP["MAX_RETRIES"]


@pytest.mark.django_db
def test_google_single_5xx_recovers_on_retry(upstream, no_keys):
    upstream.get(f"{GOOGLE}/volumes", status=503)
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_q_isbn_9780374104092.json"))
    upstream.get(f"{OL}/api/books", json={})
    result = services.book_search_by_isbn(isbn="9780374104092")
    assert result.degraded == () and result.provider == "google-books"
    assert result.hits[0].work.title == "Annihilation"
    assert len(calls_to(upstream, GOOGLE)) == 2


@pytest.mark.django_db
def test_google_429_retry_after_pauses_google_for_later_searches(upstream, no_keys, monkeypatch):
    """Honouring Retry-After: until it passes, later searches skip Google instead of asking again."""
    from search import budgets

    now = [1_700_000_000.0]
    monkeypatch.setattr(budgets, "default_clock", budgets.Clock(wall=lambda: now[0]))
    upstream.get(f"{GOOGLE}/volumes", status=429, headers={"Retry-After": "30"}, json={})
    upstream.get(f"{OL}/search.json", json=sample_json("openlibrary/search_title_lord_of_the_rings.json"))
    first = services.book_search_by_title(query="The Lord of the Rings")
    assert first.degraded == ("google-books",) and first.hits
    now[0] += 29
    second = services.book_search_by_title(query="The Hobbit")
    assert second.degraded == ("google-books",) and second.hits  # OpenLibrary still answers
    assert len(calls_to(upstream, GOOGLE)) == 1  # not asked again inside its Retry-After

    now[0] += 2
    upstream.remove(responses.GET, f"{GOOGLE}/volumes")
    upstream.get(f"{GOOGLE}/volumes", json=sample_json("google_books/volumes_search_children_of_time.json"))
    third = services.book_search_by_title(query="Children of Time")
    assert third.degraded == () and "google-books" in third.provider
    assert len(calls_to(upstream, GOOGLE)) == 2


def test_budget_exhaustion_is_not_mistaken_for_an_upstream_retry_after(upstream, no_keys, settings):
    """Our own budget saying no (with its retryAfter) must not pause the upstream for everyone."""
    from booktrack.core.exceptions import ProviderUnavailable
    from search import budgets

    settings.SEARCH_GOOGLE_BOOKS_DAILY_QUOTA = 1
    upstream.get(f"{GOOGLE}/volumes", json=GOOGLE_EMPTY)
    provider = GoogleBooksProvider()
    provider.search_isbn(isbn13="9780374104092", deadline=None)
    with pytest.raises(ProviderUnavailable):
        provider.search_isbn(isbn13="9780374104092", deadline=None)
    assert budgets.budget_cooldown_remaining("google-books") == 0


def test_retry_after_pause_is_shared_across_processes_with_redis(settings):
    """Service mode: a pause recorded by one process is seen by another (empty local state)."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url).delete("search:cooldown:google-books")
    except Exception:
        pytest.skip("no Redis at 127.0.0.1:6379")
    from booktrack.core.redis import reset_redis
    from search import budgets

    settings.REDIS_URL = url
    reset_redis()
    try:
        budgets.budget_cooldown(upstream="google-books", seconds=30)
        budgets.budget_reset_local()  # "another process": nothing in memory
        assert 28 <= budgets.budget_cooldown_remaining("google-books") <= 30
        assert budgets.budget_cooldown_remaining("openlibrary") == 0
    finally:
        redis.Redis.from_url(url).delete("search:cooldown:google-books")
        reset_redis()
