from __future__ import annotations

import time

import pytest
import requests
import responses
from django.conf import settings
from responses import matchers

from enrichment.authors import (
    AuthorFacts,
    AuthorQuery,
    author_facts_cached,
    author_facts_lookup,
    author_facts_lookup_many,
)
from tests.enrichment.conftest import load_wikidata


def _base() -> str:
    return settings.WIKIDATA_BASE_URL.rstrip("/")


def _search(rsps, term: str, fixture: str, status: int = 200):
    return rsps.get(
        f"{_base()}/w/api.php",
        json=load_wikidata(fixture),
        status=status,
        match=[matchers.query_param_matcher({"action": "wbsearchentities", "search": term}, strict_match=False)],
    )


def _entity(rsps, qid: str, fixture: str):
    return rsps.get(f"{_base()}/wiki/Special:EntityData/{qid}.json", json=load_wikidata(fixture))


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_author_facts_lookup_skips_non_human_first_hit_and_reads_roald_dahl(rsps):
    _search(rsps, "Roald Dahl", "search_roald_dahl.json")
    _entity(rsps, "Q17985544", "entity_Q17985544_ship.json")
    _entity(rsps, "Q25161", "entity_Q25161_roald_dahl.json")

    facts = author_facts_lookup(name="Roald Dahl")

    assert facts == AuthorFacts(
        name="Roald Dahl",
        wikidata_id="Q25161",
        gender="Male",
        nationality="British",  # born in Wales, citizen of the United Kingdom
        cultural_region="Europe",
        birth_year=1916,
        death_year=1990,
    )
    # The museum hit does not match the name, so its entity is never fetched.
    assert not any("Q7359012" in call.request.url for call in rsps.calls)


def test_author_facts_lookup_rejects_a_namesake_who_is_not_a_writer(rsps):
    _search(rsps, "Michael Jackson", "search_michael_jackson_singer_only.json")
    _entity(rsps, "Q2831", "entity_Q2831_michael_jackson_singer.json")

    assert author_facts_lookup(name="Michael Jackson") is None


def test_author_facts_lookup_finds_the_writer_behind_a_famous_namesake(rsps):
    _search(rsps, "Michael Jackson", "search_michael_jackson.json")
    _entity(rsps, "Q2831", "entity_Q2831_michael_jackson_singer.json")
    _entity(rsps, "Q1383336", "entity_Q1383336_michael_jackson_writer.json")

    facts = author_facts_lookup(name="Michael Jackson", known_titles=["The World Guide to Beer"])

    assert facts.wikidata_id == "Q1383336"
    assert (facts.nationality, facts.birth_year) == ("British", 1942)


@pytest.mark.parametrize(
    ("name", "search_fixture", "qid", "entity_fixture", "nationality", "region"),
    [
        ("Marlon James", "search_marlon_james.json", "Q6772953", "entity_Q6772953_marlon_james.json",
         "Jamaican", "Caribbean"),
        ("Chinghiz Aitmatov", "search_chinghiz_aitmatov.json", "Q184642",
         "entity_Q184642_chinghiz_aitmatov.json", "Kyrgyz", "Central Asia"),
        ("Vincent Eri", "search_vincent_eri.json", "Q7932187", "entity_Q7932187_vincent_eri.json",
         "Papua New Guinean", "Oceania"),
    ],
)  # fmt: skip
def test_author_facts_lookup_regions(rsps, name, search_fixture, qid, entity_fixture, nationality, region):
    _search(rsps, name, search_fixture)
    _entity(rsps, qid, entity_fixture)

    facts = author_facts_lookup(name=name)

    assert (facts.nationality, facts.cultural_region) == (nationality, region)


def test_author_facts_lookup_missing_data_stays_unknown(rsps):
    _search(rsps, "Ada Quill", "search_sparse_writer.json")
    _entity(rsps, "Q1000001", "entity_Q1000001_sparse_writer.json")

    facts = author_facts_lookup(name="Ada Quill")

    assert facts.gender == "Unknown"
    assert (facts.nationality, facts.cultural_region, facts.birth_year, facts.death_year) == (None,) * 4


def test_author_facts_lookup_maps_an_unknown_state_by_its_label(rsps):
    _search(rsps, "Branko Pero", "search_historical_citizen.json")
    _entity(rsps, "Q1000002", "entity_Q1000002_historical_citizen.json")
    label = _entity(rsps, "Q1000099", "entity_Q1000099_yugoslavia_label.json")

    facts = author_facts_lookup(name="Branko Pero")

    assert (facts.nationality, facts.cultural_region, facts.birth_year) == ("Yugoslav", "Europe", 1901)
    assert label.call_count == 1


def test_author_facts_lookup_does_not_fetch_labels_of_known_countries(rsps):
    _search(rsps, "Roald Dahl", "search_roald_dahl.json")
    _entity(rsps, "Q17985544", "entity_Q17985544_ship.json")
    _entity(rsps, "Q25161", "entity_Q25161_roald_dahl.json")

    author_facts_lookup(name="Roald Dahl")

    assert not any("Q145" in call.request.url for call in rsps.calls)


def test_author_facts_lookup_openlibrary_id_picks_the_right_namesake(rsps):
    _search(rsps, "John Smith", "search_john_smith.json")
    _entity(rsps, "Q1000010", "entity_Q1000010_john_smith_writer.json")
    _entity(rsps, "Q1000011", "entity_Q1000011_john_smith_politician.json")

    assert author_facts_lookup(name="John Smith").wikidata_id == "Q1000010"
    assert author_facts_lookup(name="John Smith", openlibrary_id="OL222A").wikidata_id == "Q1000011"


def test_author_facts_lookup_notable_work_beats_occupation(rsps):
    _search(rsps, "John Smith", "search_john_smith.json")
    _entity(rsps, "Q1000010", "entity_Q1000010_john_smith_writer.json")
    _entity(rsps, "Q1000011", "entity_Q1000011_john_smith_politician.json")
    _entity(rsps, "Q1000012", "entity_Q1000012_work.json")

    facts = author_facts_lookup(name="John Smith", known_titles=["The Highland Ledger"])

    assert (facts.wikidata_id, facts.nationality) == ("Q1000011", "Scottish")


def test_author_facts_lookup_caches_negative_results(rsps):
    search = _search(rsps, "Zzyzx Qwerty", "search_empty.json")

    assert author_facts_lookup(name="Zzyzx Qwerty") is None
    assert author_facts_lookup(name="zzyzx  qwerty") is None

    assert search.call_count == 1
    assert author_facts_cached(name="Zzyzx Qwerty").facts is None


def test_author_facts_lookup_caches_positive_results_and_cached_only_reads_them(rsps):
    assert author_facts_cached(name="Roald Dahl") is None  # not looked up yet: enqueue
    search = _search(rsps, "Roald Dahl", "search_roald_dahl.json")
    _entity(rsps, "Q17985544", "entity_Q17985544_ship.json")
    _entity(rsps, "Q25161", "entity_Q25161_roald_dahl.json")

    first = author_facts_lookup(name="Roald Dahl", known_titles=["Matilda"])
    calls = len(rsps.calls)
    again = author_facts_lookup(name="Roald Dahl", known_titles=["Matilda"])

    assert again == first and len(rsps.calls) == calls and search.call_count == 1
    # A hinted hit also answers the bare name from the cache.
    assert author_facts_cached(name="Dahl, Roald").facts == first


def test_author_facts_wire_names_and_cache_entries_of_the_earlier_shape():
    from django.core.cache import cache

    from enrichment import authors as authors_module

    facts = AuthorFacts(name="Roald Dahl", wikidata_id="Q25161", gender="Male", birth_year=1916)
    wire = facts.to_wire()
    assert wire == {"name": "Roald Dahl", "wikidataID": "Q25161", "gender": "Male", "birthYear": 1916}
    assert AuthorFacts.from_wire(wire) == facts
    # Entries cached before the fields were snake_case hold the same wire names (and explicit Nones).
    earlier = {**wire, "nationality": "British", "culturalRegion": "Europe", "deathYear": None}
    cache.set(authors_module._cache_key("Roald Dahl", (), None), {"facts": earlier}, 60)
    cached = author_facts_cached(name="Roald Dahl").facts
    assert (cached.wikidata_id, cached.cultural_region, cached.death_year) == ("Q25161", "Europe", None)
    cache.set(authors_module._cache_key("Roald Dahl", (), None), {"facts": {"name": "x"}}, 60)
    assert author_facts_cached(name="Roald Dahl") is None  # not an answer: looked up again


@pytest.mark.parametrize("failure", [500, requests.exceptions.ReadTimeout("slow")])
def test_author_facts_lookup_upstream_failure_returns_none_and_is_not_cached(rsps, failure):
    url = f"{_base()}/w/api.php"
    if isinstance(failure, int):
        rsps.get(url, json={"error": "boom"}, status=failure)
    else:
        rsps.get(url, body=failure)

    assert author_facts_lookup(name="Roald Dahl") is None
    assert author_facts_cached(name="Roald Dahl") is None


def test_author_facts_lookup_past_deadline_returns_none(rsps):
    assert author_facts_lookup(name="Roald Dahl", deadline=time.monotonic() - 1) is None
    assert len(rsps.calls) == 0


def test_author_facts_lookup_many_runs_each_name_once(rsps):
    _search(rsps, "Marlon James", "search_marlon_james.json")
    _entity(rsps, "Q6772953", "entity_Q6772953_marlon_james.json")
    _search(rsps, "Vincent Eri", "search_vincent_eri.json")
    _entity(rsps, "Q7932187", "entity_Q7932187_vincent_eri.json")
    _search(rsps, "Zzyzx Qwerty", "search_empty.json")

    results = author_facts_lookup_many(
        names=["Marlon James", AuthorQuery(name="Vincent Eri", known_titles=("The Crocodile",)),
               "Zzyzx Qwerty", "Marlon James"],
        max_workers=3,
        deadline=time.monotonic() + 10,
    )  # fmt: skip

    assert set(results) == {"Marlon James", "Vincent Eri", "Zzyzx Qwerty"}
    assert results["Marlon James"].cultural_region == "Caribbean"
    assert results["Vincent Eri"].cultural_region == "Oceania"
    assert results["Zzyzx Qwerty"] is None
    searches = [c for c in rsps.calls if "wbsearchentities" in c.request.url]
    assert len(searches) == 3


def test_author_facts_cached_many_one_read_answers_queued_and_unknown(monkeypatch):
    from django.core.cache import cache

    from enrichment import authors as authors_module
    from enrichment.authors import (
        AuthorFacts,
        author_facts_cached_many,
        author_facts_not_found_remember,
        author_facts_queue_claim,
    )

    facts = AuthorFacts(name="Ursula K. Le Guin", wikidata_id="Q181659", gender="Female")
    cache.set(authors_module._cache_key("Ursula K. Le Guin", (), None), {"facts": facts.to_wire()}, 60)
    author_facts_not_found_remember(name="Nobody Atall")
    assert author_facts_queue_claim(name="Queued Person", ttl=60) is True
    assert author_facts_queue_claim(name="Queued Person", ttl=60) is False  # already claimed
    reads = []
    real_get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(keys) or real_get_many(keys))
    got = author_facts_cached_many(
        names=["Ursula K. Le Guin", "Nobody Atall", "Queued Person", "Never Seen", "Nobody Atall"]
    )
    assert len(reads) == 1
    assert got["Ursula K. Le Guin"].facts == facts and got["Ursula K. Le Guin"].queued is False
    assert got["Nobody Atall"].facts is None and got["Nobody Atall"].queued is False
    assert got["Queued Person"].facts is None and got["Queued Person"].queued is True
    assert got["Never Seen"] is None
    assert author_facts_cached_many(names=[]) == {}
