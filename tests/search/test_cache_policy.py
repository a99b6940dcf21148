"""Cache policy (CONTRACT 7): what a cache key tells apart, and how long found, not-found,
degraded and thin answers are kept."""

from __future__ import annotations

import re

import pytest
import responses

from tests.factories import GOOGLE, OL, google_volume, google_volumes

pytestmark = pytest.mark.django_db

DAY = 86400


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
    upstream.get(f"{GOOGLE}/volumes", json=google_volumes(google_volume(title="Dune", isbn13="9780441172719", **book)))
    upstream.get(f"{OL}/api/books", json={})
    client.get("/v1/search/isbn", {"isbn": "9780441172719"})
    (ttl,) = ttls
    assert 0.9 * factor * 365 * DAY <= ttl <= 1.1 * factor * 365 * DAY


def test_title_ttl_seven_days_and_degraded_five_minutes(client, upstream, ttls):
    upstream.get(
        f"{GOOGLE}/volumes", json=google_volumes(google_volume(title="Dune", isbn13="9780441172719", cover=True))
    )
    upstream.get(f"{OL}/search.json", json={"numFound": 0, "docs": []})
    client.get("/v1/search/title", {"q": "Dune"})
    assert 0.9 * 7 * DAY <= ttls[-1] <= 1.1 * 7 * DAY
    upstream.remove(responses.GET, f"{OL}/search.json")
    upstream.get(f"{OL}/search.json", status=400)  # OpenLibrary now fails: a degraded answer heals soon
    client.get("/v1/search/title", {"q": "Dune Messiah"})
    assert 270 <= ttls[-1] <= 330


@pytest.mark.django_db(transaction=True)
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


@pytest.mark.django_db(transaction=True)
def test_case_and_spacing_share_a_cache_entry(client, fake):
    client.get("/v1/search/advanced", {"title": "Dune"})
    again = client.get("/v1/search/advanced", {"title": "  dUNE "}).json()
    assert again["metadata"]["cached"] is True
