from __future__ import annotations

from collections import Counter

import pytest

from enrichment.countries import (
    HISTORICAL_STATES,
    SOVEREIGN_STATES,
    UK_NATIONS,
    country_by_name,
    country_by_qid,
)
from search.dto import CULTURAL_REGIONS


def test_country_table_covers_every_sovereign_state():
    # 193 UN members + Vatican City and Palestine (observers) + Taiwan and Kosovo.
    assert len(SOVEREIGN_STATES) == 197
    assert len({c.name for c in SOVEREIGN_STATES}) == 197
    for name in ("Vatican City", "Palestine", "Taiwan", "Kosovo", "South Sudan", "Eswatini"):
        assert country_by_name(name) is not None, name


def test_country_regions_are_always_in_the_contract_enum():
    for country in (*SOVEREIGN_STATES, *UK_NATIONS, *HISTORICAL_STATES):
        assert country.cultural_region in CULTURAL_REGIONS
        assert country.nationality and country.qids


def test_country_qids_are_unique():
    qids = Counter(q for c in (*SOVEREIGN_STATES, *UK_NATIONS, *HISTORICAL_STATES) for q in c.qids)
    assert [q for q, n in qids.items() if n > 1] == []


def test_country_papua_new_guinea_is_oceania_not_africa():
    png = country_by_qid("Q691")
    assert (png.nationality, png.cultural_region) == ("Papua New Guinean", "Oceania")
    assert country_by_name("PNG") is png


@pytest.mark.parametrize(
    ("qid", "nationality", "region"),
    [
        ("Q145", "British", "Europe"),
        ("Q25", "Welsh", "Europe"),
        ("Q21", "English", "Europe"),
        ("Q22", "Scottish", "Europe"),
        ("Q26", "Northern Irish", "Europe"),
        ("Q766", "Jamaican", "Caribbean"),
        ("Q754", "Trinidadian", "Caribbean"),
        ("Q244", "Barbadian", "Caribbean"),
        ("Q781", "Antiguan", "Caribbean"),
        ("Q778", "Bahamian", "Caribbean"),
        ("Q241", "Cuban", "Caribbean"),
        ("Q784", "Dominican", "Caribbean"),
        ("Q786", "Dominican", "Caribbean"),
        ("Q769", "Grenadian", "Caribbean"),
        ("Q790", "Haitian", "Caribbean"),
        ("Q763", "Kittitian", "Caribbean"),
        ("Q760", "Saint Lucian", "Caribbean"),
        ("Q757", "Vincentian", "Caribbean"),
        ("Q813", "Kyrgyz", "Central Asia"),
        ("Q232", "Kazakh", "Central Asia"),
        ("Q863", "Tajik", "Central Asia"),
        ("Q874", "Turkmen", "Central Asia"),
        ("Q265", "Uzbek", "Central Asia"),
        ("Q889", "Afghan", "Central Asia"),
        ("Q711", "Mongolian", "Central Asia"),
        ("Q79", "Egyptian", "Middle East"),
        ("Q43", "Turkish", "Middle East"),
        ("Q801", "Israeli", "Middle East"),
        ("Q219060", "Palestinian", "Middle East"),
        ("Q794", "Iranian", "Middle East"),
        ("Q851", "Saudi", "Middle East"),
        ("Q1028", "Moroccan", "Africa"),
        ("Q1033", "Nigerian", "Africa"),
        ("Q664", "New Zealander", "Oceania"),
        ("Q30", "American", "North America"),
        ("Q96", "Mexican", "North America"),
        ("Q155", "Brazilian", "South America"),
        ("Q668", "Indian", "Asia"),
        ("Q865", "Taiwanese", "Asia"),
        ("Q29999", "Dutch", "Europe"),
        ("Q55", "Dutch", "Europe"),
        ("Q15180", "Soviet", "Europe"),
        ("Q34266", "Russian", "Europe"),
        ("Q83286", "Yugoslav", "Europe"),
        ("Q33946", "Czechoslovak", "Europe"),
        ("Q16957", "East German", "Europe"),
        ("Q12560", "Ottoman", "Middle East"),
        ("Q129286", "Indian", "Asia"),
    ],
)
def test_country_by_qid_maps_nationality_and_region(qid, nationality, region):
    country = country_by_qid(qid)
    assert (country.nationality, country.cultural_region) == (nationality, region)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("United Kingdom", "United Kingdom"),
        ("UK", "United Kingdom"),
        ("Great Britain", "United Kingdom"),
        ("United States of America", "United States"),
        ("USA", "United States"),
        ("U.S.", "United States"),
        ("Côte d'Ivoire", "Ivory Coast"),
        ("cote d ivoire", "Ivory Coast"),
        ("St. Lucia", "Saint Lucia"),
        ("Saint Vincent", "Saint Vincent and the Grenadines"),
        ("The Bahamas", "The Bahamas"),
        ("Bahamas", "The Bahamas"),
        ("Czechia", "Czech Republic"),
        ("Burma", "Myanmar"),
        ("Yugoslavia", "Socialist Federal Republic of Yugoslavia"),
        ("USSR", "Soviet Union"),
    ],
)
def test_country_by_name_accepts_aliases(name, expected):
    assert country_by_name(name).name == expected


@pytest.mark.parametrize("value", ["", None, "Atlantis", "Korea", "Q999999999", "America"])
def test_country_unknown_maps_to_nothing(value):
    assert country_by_name(value) is None
    assert country_by_qid(value) is None
