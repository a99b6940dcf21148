from __future__ import annotations

import io
import re

from django.core.management import call_command

from enrichment import countries, genres, wikidata
from enrichment.countries import Country
from enrichment.eval.runner import author_eval, genre_eval, load


def test_eval_sets_are_large_and_diverse():
    authors = load("authors.json")["authors"]
    cases = load("genres.json")["cases"]
    entities = load("wikidata_entities.json")["entities"]
    assert len([a for a in authors if a["accepted"]]) >= 60
    assert len(cases) >= 60
    assert {c["provider"] for c in cases} == {"google-books", "openlibrary", "isbndb"}
    regions = {a.get("culturalRegion") for a in authors if a["accepted"]}
    assert {"Africa", "Asia", "Europe", "North America", "South America", "Oceania", "Middle East",
            "Caribbean", "Central Asia"} <= regions  # fmt: skip
    assert any(a.get("nationality") == "Papua New Guinean" for a in authors)
    assert all(a["name"] in entities for a in authors)


def test_genre_eval_scores_the_current_mapping():
    report = genre_eval()
    assert report.score.precision >= 0.95 and report.exact >= 0.9 * report.cases


def test_genre_eval_drops_when_a_mapping_is_wrong(monkeypatch):
    baseline = genre_eval().score.precision
    broken = dict(genres.SYNONYMS, **{"juvenile fiction": ("Horror",), "fiction": ("Poetry",)})
    monkeypatch.setattr(genres, "SYNONYMS", broken)
    assert genre_eval().score.precision < baseline


def test_author_eval_offline_scores_every_field():
    report = author_eval()
    assert report.mode == "offline"
    for name, score in report.fields.items():
        assert score.precision >= 0.95, (name, report.misses)


def test_author_eval_drops_when_a_country_mapping_is_wrong(monkeypatch):
    baseline = author_eval().fields["culturalRegion"].correct
    wrong_png = Country(("Q691",), "Papua New Guinea", "Papua New Guinean", "Africa")
    original = countries.country_by_qid
    monkeypatch.setattr("enrichment.authors.country_by_qid", lambda q: wrong_png if q == "Q691" else original(q))
    assert author_eval().fields["culturalRegion"].correct == baseline - 1


def test_author_eval_drops_when_gender_or_acceptance_is_wrong(monkeypatch):
    baseline = author_eval()
    monkeypatch.setattr(wikidata, "GENDER_BY_QID", {**wikidata.GENDER_BY_QID, "Q1052281": "Male"})
    monkeypatch.setattr(wikidata, "WRITER_OCCUPATIONS", frozenset({"Q6625963"}))
    report = author_eval()
    assert report.fields["gender"].correct < baseline.fields["gender"].correct
    assert report.fields["accepted"].correct < baseline.fields["accepted"].correct


def test_enrichment_eval_command_prints_and_writes_the_doc(tmp_path):
    doc = tmp_path / "enrichment-eval.md"
    doc.write_text("# Enrichment evaluation\n\nintro\n", encoding="utf-8")
    out = io.StringIO()

    call_command("enrichment_eval", doc=str(doc), stdout=out)
    call_command("enrichment_eval", doc=str(doc), stdout=io.StringIO())  # idempotent rewrite

    text = doc.read_text(encoding="utf-8")
    assert "| culturalRegion |" in out.getvalue()
    assert text.startswith("# Enrichment evaluation\n\nintro\n")
    assert text.count("<!-- enrichment-eval:start -->") == 1
    assert re.search(r"Genres: \d+ subject lists", text)
