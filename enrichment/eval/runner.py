"""Enrichment evaluation: genre normalisation and author facts against hand-checked answers.

Offline (default) everything is pure: genres run through `normalize_genres`; authors run through
the same acceptance decision and fact extraction the live lookup uses (`candidate_score`,
`author_facts_from_entity`, the country table), fed with the shipped real-shaped entity payloads.
`live=True` asks Wikidata (settings.WIKIDATA_BASE_URL) through `author_facts_lookup` instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enrichment.genres import normalize_genres

EVAL_DIR = Path(__file__).resolve().parent
AUTHOR_FIELDS = ("accepted", "gender", "nationality", "culturalRegion", "birthYear", "deathYear")


@dataclass(frozen=True, slots=True)
class FieldScore:
    correct: int
    predicted: int  # non-empty predictions
    expected: int  # non-empty expected values

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 0.0


@dataclass(frozen=True, slots=True)
class GenreReport:
    cases: int
    exact: int
    score: FieldScore
    misses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorReport:
    mode: str
    authors: int
    fields: Mapping[str, FieldScore]
    misses: tuple[str, ...] = field(default=())


def load(name: str) -> Any:
    return json.loads((EVAL_DIR / name).read_text(encoding="utf-8"))


def genre_eval(cases: Sequence[Mapping[str, Any]] | None = None) -> GenreReport:
    cases = load("genres.json")["cases"] if cases is None else cases
    correct = predicted = expected = exact = 0
    misses = []
    for case in cases:
        got = set(normalize_genres(case["raw"], provider=case.get("provider")))
        want = set(case["expected"])
        correct += len(got & want)
        predicted += len(got)
        expected += len(want)
        if got == want:
            exact += 1
        else:
            misses.append(f"{case['raw'][:3]}: got {sorted(got)}, expected {sorted(want)}")
    return GenreReport(len(cases), exact, FieldScore(correct, predicted, expected), tuple(misses))


def _offline_facts(entities: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], dict | None]:
    from enrichment.authors import author_facts_from_entity
    from enrichment.wikidata import candidate_score, parse_entity

    def decide(author: Mapping[str, Any]) -> dict | None:
        entity = parse_entity(entities.get(author["name"]))
        if entity is None:
            return None
        score = candidate_score(entity, name=author["name"], known_titles=(author.get("title", ""),))
        if score.score == 0:
            return None
        return author_facts_from_entity(entity, fallback_name=author["name"]).to_wire()

    return decide


def _live_facts(author: Mapping[str, Any]) -> dict | None:
    from enrichment.authors import author_facts_lookup

    facts = author_facts_lookup(name=author["name"], known_titles=(author.get("title", ""),))
    return facts.to_wire() if facts else None


def author_eval(
    authors: Sequence[Mapping[str, Any]] | None = None,
    *,
    entities: Mapping[str, Any] | None = None,
    live: bool = False,
) -> AuthorReport:
    authors = load("authors.json")["authors"] if authors is None else authors
    if live:
        decide = _live_facts
    else:
        entities = load("wikidata_entities.json")["entities"] if entities is None else entities
        decide = _offline_facts(entities)
    tally = {f: [0, 0, 0] for f in AUTHOR_FIELDS}
    misses = []
    for author in authors:
        facts = decide(author)
        predicted: dict[str, Any] = {"accepted": facts is not None, **(facts or {})}
        for name in AUTHOR_FIELDS:
            got, want = predicted.get(name), author.get(name)
            if name == "accepted":
                # precision of "this is the author": accepted hits that should have been accepted
                tally[name][1] += bool(got)
                tally[name][2] += bool(want)
                tally[name][0] += bool(got and want)
                if bool(got) != bool(want):
                    misses.append(f"{author['name']}: accepted={got}, expected {want}")
                continue
            if not author.get("accepted"):
                continue
            has_got = got not in (None, "", "Unknown")
            tally[name][1] += has_got
            tally[name][2] += want is not None
            if has_got and got == want:
                tally[name][0] += 1
            elif has_got or want is not None:
                misses.append(f"{author['name']}: {name}={got!r}, expected {want!r}")
    fields = {name: FieldScore(*tally[name]) for name in AUTHOR_FIELDS}
    return AuthorReport("live" if live else "offline", len(authors), fields, tuple(misses))


def report_markdown(genres: GenreReport, authors: AuthorReport, *, command: str) -> str:
    lines = [
        "## Latest figures",
        "",
        f"Produced by `{command}` ({authors.mode} authors).",
        "",
        f"Genres: {genres.cases} subject lists, exact match {genres.exact}/{genres.cases}; "
        f"precision {genres.score.precision:.3f} ({genres.score.correct}/{genres.score.predicted}), "
        f"recall {genres.score.recall:.3f} ({genres.score.correct}/{genres.score.expected}).",
        "",
        f"Authors: {authors.authors} names.",
        "",
        "| field | precision | recall |",
        "|---|---|---|",
    ]
    for name, score in authors.fields.items():
        lines.append(
            f"| {name} | {score.precision:.3f} ({score.correct}/{score.predicted}) "
            f"| {score.recall:.3f} ({score.correct}/{score.expected}) |"
        )
    if genres.misses or authors.misses:
        lines += ["", "Misses:", ""] + [f"- {m}" for m in (*genres.misses, *authors.misses)]
    return "\n".join(lines) + "\n"


MARK_START = "<!-- enrichment-eval:start -->"
MARK_END = "<!-- enrichment-eval:end -->"


def write_report_section(path: Path, section: str) -> None:
    """Replace the figures between the markers in `path` (append them if the markers are absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Enrichment evaluation\n"
    block = f"{MARK_START}\n{section}{MARK_END}\n"
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        tail = rest.split(MARK_END, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")
