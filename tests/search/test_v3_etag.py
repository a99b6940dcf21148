"""`GET /v3/books/{isbn}` conditional requests: an ETag per book, If-None-Match -> 304 (Django's rules)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

URL = "/v3/books/9780441172719"


@pytest.fixture
def etag(client, fake) -> str:
    response = client.get(URL)
    assert response.status_code == 200 and response["Cache-Control"] == "public, max-age=3600"
    tag = response["ETag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 34
    return tag


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
    ids=["strong", "weak", "in a list", "any"],
)
def test_matching_if_none_match_is_304_with_the_validators(client, etag, if_none_match):
    response = client.get(URL, HTTP_IF_NONE_MATCH=if_none_match.format(etag=etag))
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag and response["Cache-Control"] == "public, max-age=3600"


def test_other_tag_gets_the_book(client, etag):
    response = client.get(URL, HTTP_IF_NONE_MATCH='"not-this-one"')
    assert response.status_code == 200 and response.json()["data"]["isbn"] == "9780441172719"
    assert response["ETag"] == etag


def test_the_isbn_10_names_the_same_book_and_tag(client, etag):
    assert client.get("/v3/books/0441172717", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_failed_if_match_is_412_with_a_json_error(client, etag):
    response = client.get(URL, HTTP_IF_MATCH='"not-this-one"')
    assert response.status_code == 412 and response.json()["error"]["code"] == "INVALID_REQUEST"
    assert client.get(URL, HTTP_IF_MATCH=etag).status_code == 200


def test_unknown_book_is_404_whatever_the_validators(client, fake):
    response = client.get("/v3/books/9780306406157", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
