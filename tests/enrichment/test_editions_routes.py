"""`GET /v1/editions/search` and `editions_discover_result` through the local upstream fakes."""

from __future__ import annotations

import pytest
from django.urls import resolve

from enrichment.editions import DEFAULT_FORMAT_ORDER, editions_discover_result
from enrichment.editions_views import EditionsSearchView

URL = "/v1/editions/search"
DUNE = {"workTitle": "Dune", "author": "Frank Herbert"}


def test_editions_route_is_served_by_enrichment():
    assert resolve(URL).func.view_class is EditionsSearchView
    assert EditionsSearchView.rate_limit_scope == "search"


def test_editions_contract_shape_dedupe_and_default_order(client, fake):
    response = client.get(URL, DUNE)
    assert response.status_code == 200
    body = response.json()
    data = body["data"]
    assert set(data) == {"editions", "totalResults", "workTitle"}
    assert data["workTitle"] == "Dune"
    editions = data["editions"]
    isbns = [e["isbn"] for e in editions]
    assert len(isbns) == len(set(isbns)) >= 5  # hardcover, paperback, mass market, audio, Spanish, e-book
    assert data["totalResults"] == len(editions)
    assert editions[0]["format"] == "Hardcover" and editions[0]["isbn"] == "9780593099322"
    ranks = [DEFAULT_FORMAT_ORDER.index(e["format"]) for e in editions]
    assert ranks == sorted(ranks)
    assert body["metadata"]["provider"].startswith("merged:")


@pytest.mark.parametrize(("fmt", "isbn"), [("Audiobook", "9781427201430"), ("Mass Market", "9780441172719")])
def test_editions_format_preference_first(client, fake, fmt, isbn):
    editions = client.get(URL, {**DUNE, "format": fmt}).json()["data"]["editions"]
    assert editions[0]["format"] == fmt and editions[0]["isbn"] == isbn


def test_editions_language_preference_first(client, fake):
    editions = client.get(URL, {**DUNE, "language": "ES"}).json()["data"]["editions"]
    assert editions[0]["isbn"] == "9788497596824" and editions[0]["language"] == "es"


def test_editions_limit_and_one_cached_answer_for_every_ranking(client, fake):
    first = client.get(URL, {**DUNE, "limit": 2}).json()
    assert len(first["data"]["editions"]) == 2 and first["data"]["totalResults"] >= 5
    calls = fake.count()
    again = client.get(URL, {**DUNE, "limit": 50, "format": "E-book", "language": "en"}).json()
    assert again["metadata"]["cached"] is True and fake.count() == calls


def test_editions_not_found_is_404(client, fake):
    response = client.get(URL, {"workTitle": "zzqxv nothing", "author": "nobody qq"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "MISSING_PARAMETER"),
        ({"workTitle": "  "}, "MISSING_PARAMETER"),
        ({"workTitle": "Dune", "limit": "0"}, "INVALID_QUERY"),
        ({"workTitle": "Dune", "limit": "101"}, "INVALID_QUERY"),
        ({"workTitle": "Dune", "limit": "ten"}, "INVALID_QUERY"),
        ({"workTitle": "Dune", "format": "Other"}, "INVALID_QUERY"),
        ({"workTitle": "Dune", "format": "hardcover"}, "INVALID_QUERY"),
        ({"workTitle": "Dune", "language": "english"}, "INVALID_QUERY"),
    ],
)
def test_editions_invalid_params_are_400(client, params, code):
    response = client.get(URL, params)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_editions_limit_bounds_accepted(client, fake):
    assert len(client.get(URL, {**DUNE, "limit": "1"}).json()["data"]["editions"]) == 1
    assert client.get(URL, {**DUNE, "limit": "100"}).status_code == 200


def test_editions_discover_best_first_with_a_format_preference(fake):
    (best,) = editions_discover_result(work_title="Dune", author="Frank Herbert", limit=1).editions
    assert best.edition.isbn == "9780593099322"
    (audio,) = editions_discover_result(
        work_title="Dune", author="Frank Herbert", format_preference="Audiobook", limit=1
    ).editions
    assert audio.edition.format == "Audiobook" and audio.score.format_preferred
    assert editions_discover_result(work_title="zzqxv nothing", author="nobody qq", limit=1).editions == ()
    ranked = editions_discover_result(work_title="Dune", author="Frank Herbert", limit=3).editions
    assert len(ranked) == 3 and all(r.score.quality > 0 for r in ranked)


def test_editions_route_in_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/v1/editions/search"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"workTitle", "author", "limit", "format", "language"} <= set(params)
    assert params["workTitle"]["required"] is True
    assert set(params["format"]["schema"]["enum"]) == set(DEFAULT_FORMAT_ORDER)
