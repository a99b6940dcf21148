"""Hostile input is a 4xx with the contract's error body, never a 500 (issue 13, item 2)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


def _post_json(client: Client, path: str, raw: bytes | str):
    return client.post(path, data=raw, content_type="application/json")


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    return body


def test_json_nested_5000_deep_is_a_400():
    raw = '{"isbns": ' + "[" * 5000 + "]" * 5000 + "}"
    _assert_error(_post_json(Client(), "/v3/books/enrich", raw), 400, "INVALID_REQUEST")


def test_json_nested_deeper_than_the_limit_is_a_400_even_where_python_would_parse_it(settings):
    settings.JSON_MAX_DEPTH = 8
    raw = '{"isbns": ["9780306406157"], "x": ' + "[" * 10 + "]" * 10 + "}"
    body = _assert_error(_post_json(Client(), "/v3/books/enrich", raw), 400, "INVALID_REQUEST")
    assert "deep" in body["error"]["message"]


def test_json_within_the_depth_limit_is_parsed():
    response = _post_json(Client(), "/v3/books/enrich", '{"isbns": []}')
    _assert_error(response, 400, "EMPTY_BATCH")


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_a_400(number):
    raw = '{"jobId": ' + number + ', "oldToken": "x"}'
    _assert_error(_post_json(Client(), "/api/token/refresh", raw), 400, "INVALID_REQUEST")


def test_a_form_with_2000_fields_is_a_400():
    form = "&".join(f"f{i}=v" for i in range(2000))
    response = Client().post("/v3/books/enrich", data=form, content_type="application/x-www-form-urlencoded")
    _assert_error(response, 400, "INVALID_REQUEST")


def test_a_query_string_with_2000_fields_is_a_400():
    query = "&".join(f"f{i}=v" for i in range(2000))
    response = Client().get(f"/v1/search/title?q=dune&{query}")
    _assert_error(response, 400, "INVALID_REQUEST")


def test_non_string_token_to_token_refresh_is_a_400(make_job):
    job, _token = make_job()
    for token in (5, 5.5, True, ["x"], {"a": 1}):
        response = _post_json(Client(), "/api/token/refresh", json.dumps({"jobId": str(job.id), "oldToken": token}))
        _assert_error(response, 400, "INVALID_REQUEST")


def test_invalid_utf8_json_body_is_a_400():
    _assert_error(_post_json(Client(), "/v3/books/enrich", b'{"isbns": ["\xff\xfe"]}'), 400, "INVALID_REQUEST")


def test_invalid_utf8_in_the_query_string_is_not_a_500():
    response = Client().get("/v1/search/isbn", QUERY_STRING="isbn=%ff%fe%fd")
    _assert_error(response, 400, "INVALID_ISBN")


def test_isbn_strings_longer_than_an_isbn_are_a_400_and_nothing_is_echoed():
    huge = ["9" * 20_000 for _ in range(50)]
    response = _post_json(Client(), "/v3/books/enrich", json.dumps({"isbns": huge}))
    _assert_error(response, 400, "INVALID_ISBN")
    assert len(response.content) < 2_000  # the 1 MB sent is not sent back


def test_a_long_isbn_query_parameter_is_a_400_and_not_echoed():
    response = Client().get("/v1/search/isbn", {"isbn": "9" * 20_000})
    _assert_error(response, 400, "INVALID_ISBN")
    assert len(response.content) < 2_000


def test_memo_caches_keyed_by_client_text_keep_no_long_keys():
    from enrichment import author_facts_memo
    from search import isbn
    from search.cache import keys

    memos = [isbn._clean, isbn._valid, isbn._to_13, isbn._to_10, keys._cache_key_memo, author_facts_memo._name_key]
    for memo in memos:
        memo.cache_clear()
    for n in range(50):
        long_text = f"{n}" + "9" * 20_000
        assert isbn.isbn_to_13(long_text) is None
        assert isbn.isbn_to_10(long_text) is None
        assert not isbn.isbn_is_valid(long_text)
        keys.cache_key("title", long_text, 20)
        author_facts_memo.name_key(long_text)
    assert [memo.cache_info().currsize for memo in memos] == [0] * len(memos)

    assert isbn.isbn_to_13("ISBN-13: 978-0-306-40615-7") == "9780306406157"  # short text is memoized
    assert isbn._clean.cache_info().currsize == 1
