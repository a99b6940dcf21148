from __future__ import annotations

import pytest

from enrichment.wikidata import (
    author_claims,
    candidate_score,
    names_match,
    parse_entity,
    parse_search_hits,
    parse_year,
    titles_match,
)


def test_parse_search_hits_keeps_order_and_names(wikidata_fixture):
    hits = parse_search_hits(wikidata_fixture("search_roald_dahl.json"))
    assert [h.qid for h in hits] == ["Q17985544", "Q25161", "Q7359012"]
    assert hits[1].label == "Roald Dahl"
    assert "British novelist" in hits[1].description


def test_parse_search_hits_tolerates_garbage():
    assert parse_search_hits(None) == []
    assert parse_search_hits({"search": [{"id": 5}, "x", {"id": "P31"}]}) == []
    assert parse_search_hits({"error": {"code": "badvalue"}}) == []


def test_parse_entity_reads_roald_dahl(wikidata_fixture):
    entity = parse_entity(wikidata_fixture("entity_Q25161_roald_dahl.json"), "Q25161")
    claims = author_claims(entity)
    assert (claims.qid, claims.label, claims.gender) == ("Q25161", "Roald Dahl", "Male")
    assert claims.citizenship_qid == "Q145"  # citizen of the UK, though born in Wales
    assert (claims.birth_year, claims.death_year) == (1916, 1990)


def test_parse_entity_follows_a_redirect(wikidata_fixture):
    # Special:EntityData for a merged item answers keyed by the target id.
    entity = parse_entity(wikidata_fixture("entity_Q25161_roald_dahl.json"), "Q99999999")
    assert entity.qid == "Q25161"


def test_parse_entity_missing_is_none():
    assert parse_entity({"entities": {"Q1": {"id": "Q1", "missing": ""}}}, "Q1") is None
    assert parse_entity(None) is None


def test_author_claims_prefers_preferred_rank_and_reads_bce_years(wikidata_fixture):
    claims = author_claims(parse_entity(wikidata_fixture("entity_Q1000020_ranks_and_dates.json")))
    assert claims.citizenship_qid == "Q142"  # preferred beats the later normal and the deprecated
    assert claims.gender == "Female"  # trans woman
    assert claims.birth_year == -43
    assert claims.death_year is None  # century precision is not a year


def test_author_claims_skips_ended_citizenship(wikidata_fixture):
    claims = author_claims(parse_entity(wikidata_fixture("entity_Q1000021_ended_citizenship.json")))
    assert claims.citizenship_qid == "Q813"


def test_author_claims_missing_data_stays_unknown(wikidata_fixture):
    claims = author_claims(parse_entity(wikidata_fixture("entity_Q1000001_sparse_writer.json")))
    assert claims.gender == "Unknown"
    assert (claims.citizenship_qid, claims.birth_year, claims.death_year) == (None, None, None)


@pytest.mark.parametrize(
    ("gender_qid", "expected"),
    [
        ("Q6581097", "Male"),
        ("Q6581072", "Female"),
        ("Q1052281", "Female"),
        ("Q2449503", "Male"),
        ("Q48270", "Non-binary"),
        ("Q1097630", "Other"),
        ("Q123456789", "Other"),
    ],
)
def test_author_claims_gender_mapping(gender_qid, expected):
    payload = {
        "entities": {
            "Q1": {
                "id": "Q1",
                "claims": {
                    "P21": [
                        {
                            "mainsnak": {
                                "snaktype": "value",
                                "property": "P21",
                                "datavalue": {"value": {"id": gender_qid}, "type": "wikibase-entityid"},
                            },
                            "rank": "normal",
                        }
                    ]
                },
            }
        }
    }
    assert author_claims(parse_entity(payload)).gender == expected


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ("+1916-09-13T00:00:00Z", 1916),
        ({"time": "+1916-00-00T00:00:00Z", "precision": 9}, 1916),
        ({"time": "-0500-00-00T00:00:00Z", "precision": 9}, -500),
        ({"time": "+1950-00-00T00:00:00Z", "precision": 8}, None),
        ("garbage", None),
        (None, None),
    ],
)
def test_parse_year(value, year):
    assert parse_year(value) == year


def test_names_match_handles_order_initials_and_accents():
    assert names_match("Rowling, J.K.", ["J. K. Rowling"])
    assert names_match("Gabriel Garcia Marquez", ["Gabriel García Márquez"])
    assert not names_match("Roald Dahl", ["Roald Dahl Museum and Story Centre"])


def test_names_match_suffixed_catalogue_name_matches_the_label():
    # The catalogue form with a suffix used to keep its surname first here (another key than search's).
    assert names_match("King, Martin Luther, Jr.", ["Martin Luther King Jr."])
    assert names_match("Le Guin, Ursula K.", ["Ursula K. Le Guin"])
    assert not names_match("Brian Herbert", ["Frank Herbert"])


def test_titles_match_ignores_articles_and_subtitles():
    assert titles_match(["Hobbit"], ["The Hobbit: or There and Back Again"])
    assert not titles_match(["Matilda"], ["The BFG"])


def test_candidate_score_rejects_non_human_and_non_writer(wikidata_fixture):
    ship = parse_entity(wikidata_fixture("entity_Q17985544_ship.json"))
    singer = parse_entity(wikidata_fixture("entity_Q2831_michael_jackson_singer.json"))
    assert candidate_score(ship, name="Roald Dahl").score == 0
    assert candidate_score(singer, name="Michael Jackson").score == 0


def test_candidate_score_accepts_non_writer_by_notable_work_or_openlibrary(wikidata_fixture):
    politician = parse_entity(wikidata_fixture("entity_Q1000011_john_smith_politician.json"))
    by_title = candidate_score(
        politician, name="John Smith", known_titles=["Highland Ledger"], work_labels=["The Highland Ledger"]
    )
    by_ol = candidate_score(politician, name="John Smith", openlibrary_id="/authors/OL222A")
    assert by_title.score > 0 and by_title.title_match
    assert by_ol.score > by_title.score
