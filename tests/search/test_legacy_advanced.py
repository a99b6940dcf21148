"""`/search/advanced` as the apps call it (CONTRACT 4 legacy row): both spellings, GET and POST."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/search/advanced"
CACHE_CONTROL = "public, max-age=21600"
SPELLINGS = [
    {"title": "Dune", "author": "Frank Herbert"},
    {"bookTitle": "Dune", "authorName": "Frank Herbert"},
    {"bookTitle": "Dune", "author": "Frank Herbert"},
    {"title": "Dune", "authorName": "Frank Herbert"},
    {"bookTitle": "Dune"},
    {"authorName": "Frank Herbert"},
]


def _get(client, params):
    return client.get(PATH, params)


def _post(client, params):
    return client.post(PATH, params, content_type="application/json")


def _assert_dune_volumes(body, *, by_author_only=False):
    assert body["success"] is True
    assert body["kind"] == "books#volumes" and body["totalItems"] >= 1
    assert body["provider"] != "none" and isinstance(body["cached"], bool)
    item = body["items"][0]
    assert item["kind"] == "books#volume" and item["id"]
    info = item["volumeInfo"]
    assert "Frank Herbert" in info["authors"]
    if not by_author_only:
        assert info["title"].startswith("Dune")
    assert {i["type"] for i in info["industryIdentifiers"]} <= {"ISBN_13", "ISBN_10"}
    assert info["industryIdentifiers"] and info["categories"] and info["imageLinks"]["thumbnail"]


@pytest.mark.parametrize("params", SPELLINGS, ids=lambda p: "+".join(p))
def test_legacy_advanced_get_takes_either_spelling(client, fake, params):
    response = _get(client, params)
    assert response.status_code == 200, response.content
    _assert_dune_volumes(response.json(), by_author_only="bookTitle" not in params and "title" not in params)
    assert response["Cache-Control"] == CACHE_CONTROL


@pytest.mark.parametrize("params", SPELLINGS, ids=lambda p: "+".join(p))
def test_legacy_advanced_post_json_body_takes_either_spelling(client, fake, params):
    response = _post(client, params)
    assert response.status_code == 200, response.content
    _assert_dune_volumes(response.json(), by_author_only="bookTitle" not in params and "title" not in params)


def test_legacy_advanced_get_and_post_answer_the_same_body(client, fake):
    got = _get(client, {"bookTitle": "Dune", "authorName": "Frank Herbert", "maxResults": 3}).json()
    posted = _post(client, {"bookTitle": "Dune", "authorName": "Frank Herbert", "maxResults": 3}).json()
    assert posted["cached"] is True  # the same query: the same cached answer
    assert {**got, "cached": None} == {**posted, "cached": None}


def test_legacy_advanced_post_is_not_publicly_cacheable(client, fake):
    response = _post(client, {"bookTitle": "Dune"})
    assert response.status_code == 200
    assert response.get("Cache-Control") != CACHE_CONTROL


def test_legacy_advanced_max_results_limits_items(client, fake):
    wide = _get(client, {"authorName": "Frank Herbert"}).json()
    assert len(wide["items"]) > 1
    assert len(_get(client, {"authorName": "Frank Herbert", "maxResults": 1}).json()["items"]) == 1
    assert len(_post(client, {"authorName": "Frank Herbert", "maxResults": 1}).json()["items"]) == 1
    assert len(_get(client, {"authorName": "Frank Herbert", "limit": 1}).json()["items"]) == 1


def test_legacy_advanced_json_number_title_is_text(client, fake):
    response = _post(client, {"bookTitle": 1984})
    assert response.status_code == 200 and response.json()["success"] is True


def test_legacy_advanced_form_body_works_too(client, fake):
    response = client.post(PATH, {"bookTitle": "Dune", "authorName": "Frank Herbert"})
    assert response.status_code == 200 and response.json()["items"]


@pytest.mark.parametrize(
    "send",
    [
        lambda c: _get(c, {}),
        lambda c: _get(c, {"bookTitle": "  ", "authorName": ""}),
        lambda c: _get(c, {"maxResults": 5}),
        lambda c: _post(c, {}),
        lambda c: _post(c, {"bookTitle": "", "authorName": None}),
        lambda c: _post(c, {"q": "Dune"}),
    ],
    ids=["get-empty", "get-blank", "get-only-max", "post-empty", "post-blank", "post-other-names"],
)
def test_legacy_advanced_without_title_or_author_is_invalid_query(client, send):
    response = send(client)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "INVALID_QUERY"
    assert "bookTitle" in body["error"]["message"] and "authorName" in body["error"]["message"]


@pytest.mark.parametrize("value", ["0", "41", "ten", "-1", "2.5"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_legacy_advanced_invalid_max_results_is_a_clear_400(client, method, value):
    params = {"bookTitle": "Dune", "maxResults": value}
    response = _get(client, params) if method == "get" else _post(client, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_QUERY" and "maxResults" in error["message"]


@pytest.mark.parametrize("value", [True, [1], {"n": 1}])
def test_legacy_advanced_post_non_text_values_are_refused(client, value):
    response = _post(client, {"bookTitle": value})
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_QUERY"


def test_legacy_advanced_json_max_results_boolean_is_refused(client):
    response = _post(client, {"bookTitle": "Dune", "maxResults": True})
    assert response.status_code == 400 and "maxResults" in response.json()["error"]["message"]
