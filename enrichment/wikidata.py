"""Pure Wikidata parsing and the author-acceptance decision. No network, no Django.

Shapes parsed (as Wikidata serves them):

- `w/api.php?action=wbsearchentities&format=json...` -> `{"search": [{"id", "label", "description",
  "match": {"type", "language", "text"}, "aliases": [...]}, ...], "success": 1}`
- `wiki/Special:EntityData/{QID}.json` -> `{"entities": {QID: {"id", "labels": {lang: {"value"}},
  "aliases": {lang: [{"value"}]}, "claims": {P: [statement, ...]}}}}` where a statement is
  `{"mainsnak": {"snaktype": "value", "datavalue": {"value": ..., "type": ...}}, "rank": ...,
  "qualifiers": {...}}`. A redirected QID answers with the target id as the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from enrichment.countries import Country, country_by_name, country_by_qid
from search.text import name_key, similarity, title_key

HUMAN: Final = "Q5"

# P106 occupations that make a human "plausibly the author of a book".
WRITER_OCCUPATIONS: Final = frozenset(
    {
        "Q36180",  # writer
        "Q482980",  # author
        "Q6625963",  # novelist
        "Q49757",  # poet
        "Q4853732",  # children's writer
        "Q18844224",  # science fiction writer
        "Q15949613",  # short story writer
        "Q28389",  # screenwriter
        "Q214917",  # playwright
        "Q11774202",  # essayist
        "Q1930187",  # journalist
        "Q1086863",  # columnist
        "Q15980158",  # non-fiction writer
        "Q12144794",  # prosaist
        "Q333634",  # translator
        "Q1607826",  # editor
        "Q4263842",  # literary critic
        "Q864380",  # biographer
        "Q18814623",  # autobiographer
        "Q201788",  # historian
        "Q3745071",  # science writer
        "Q4964182",  # philosopher
        "Q715301",  # comics artist (graphic novels)
    }
)

GENDER_UNKNOWN: Final = "Unknown"
# P21 values -> the contract's gender enum (`search.dto.GENDERS`). Identities under the non-binary
# umbrella map to Non-binary; any other stated value is "Other"; no statement is "Unknown".
GENDER_BY_QID: Final[Mapping[str, str]] = {
    "Q6581097": "Male",
    "Q6581072": "Female",
    "Q2449503": "Male",  # trans man
    "Q1052281": "Female",  # trans woman
    "Q48270": "Non-binary",
    "Q12964198": "Non-binary",  # genderqueer
    "Q18116794": "Non-binary",  # genderfluid
    "Q505371": "Non-binary",  # agender
    "Q1097630": "Other",  # intersex
}

P_INSTANCE_OF: Final = "P31"
P_GENDER: Final = "P21"
P_CITIZENSHIP: Final = "P27"
P_OCCUPATION: Final = "P106"
P_NOTABLE_WORK: Final = "P800"
P_OPENLIBRARY_ID: Final = "P648"
P_BIRTH: Final = "P569"
P_DEATH: Final = "P570"
P_END_TIME: Final = "P582"

# Wikidata time precision: 9 = year, 10 = month, 11 = day. Coarser (decade, century) is not a year.
YEAR_PRECISION: Final = 9
# `search.text.similarity` of two name keys / title keys at or above which they are the same.
NAME_SIMILARITY: Final = 0.85
TITLE_SIMILARITY: Final = 0.9


@dataclass(frozen=True, slots=True)
class WikidataCandidate:
    """One wbsearchentities hit: an entity that may be the author, before its claims are read."""

    qid: str
    label: str
    description: str
    names: tuple[str, ...]  # label, matched text and aliases: what the search matched on


@dataclass(frozen=True, slots=True)
class Statement:
    value: Any  # an item id ("Q5"), a string, or a time mapping; None for somevalue/novalue
    rank: str
    ended: bool  # has an end-time qualifier


@dataclass(frozen=True, slots=True)
class Entity:
    qid: str
    label: str | None
    names: tuple[str, ...]  # English label and aliases
    claims: Mapping[str, tuple[Statement, ...]]

    def values(self, prop: str) -> list[Any]:
        """Non-deprecated statement values for `prop`, in listed order."""
        return [s.value for s in self.claims.get(prop, ()) if s.rank != "deprecated" and s.value is not None]

    def item_ids(self, prop: str) -> list[str]:
        return [v for v in self.values(prop) if isinstance(v, str)]


@dataclass(frozen=True, slots=True)
class CandidateScore:
    """Why a search hit is (not) accepted as the author. `score` 0 means rejected."""

    qid: str
    human: bool
    name_match: bool
    writer: bool
    openlibrary_match: bool
    title_match: bool

    @property
    def score(self) -> int:
        if not (self.human and self.name_match):
            return 0
        if not (self.writer or self.openlibrary_match or self.title_match):
            return 0
        return 4 * self.openlibrary_match + 2 * self.title_match + 1 * self.writer


@dataclass(frozen=True, slots=True)
class AuthorClaims:
    """The author facts read off one entity, before country lookup."""

    qid: str
    label: str | None
    gender: str
    citizenship_qid: str | None
    birth_year: int | None
    death_year: int | None


# --- matching ------------------------------------------------------------------------------------


def names_match(name: str, candidates: Iterable[str]) -> bool:
    """True when `name` equals or nearly equals (`NAME_SIMILARITY`) one of the candidate names,
    compared as `search.text.name_key` ("Rowling, J.K." == "J. K. Rowling")."""
    key = name_key(name)
    if not key:
        return False
    for candidate in candidates:
        other = name_key(candidate)
        if other and (other == key or similarity(key, other) >= NAME_SIMILARITY):
            return True
    return False


def titles_match(known_titles: Iterable[str], work_labels: Iterable[str]) -> bool:
    """A known title equals (or nearly, `TITLE_SIMILARITY`) a notable work's label, compared as
    `search.text.title_key` (case, accents, leading articles and subtitles ignored)."""
    known = {title_key(t) for t in known_titles if t and t.strip()}
    known.discard("")
    if not known:
        return False
    for label in work_labels:
        norm = title_key(label)
        if norm and (norm in known or any(similarity(norm, k) >= TITLE_SIMILARITY for k in known)):
            return True
    return False


# --- payload parsing ------------------------------------------------------------------------------


def parse_search_hits(payload: Any) -> list[WikidataCandidate]:
    """wbsearchentities JSON -> candidates in Wikidata's order (malformed entries skipped)."""
    if not isinstance(payload, Mapping):
        return []
    hits: list[WikidataCandidate] = []
    for raw in payload.get("search") or ():
        if not isinstance(raw, Mapping):
            continue
        qid = raw.get("id")
        if not isinstance(qid, str) or not qid.startswith("Q"):
            continue
        label = _str(raw.get("label")) or _str(_get(raw, "display", "label", "value"))
        description = _str(raw.get("description")) or _str(_get(raw, "display", "description", "value"))
        names = [label, _str(_get(raw, "match", "text"))]
        names += [a for a in raw.get("aliases") or () if isinstance(a, str)]
        hits.append(WikidataCandidate(qid, label, description, tuple(n for n in dict.fromkeys(names) if n)))
    return hits


def parse_entity(payload: Any, qid: str | None = None, *, language: str = "en") -> Entity | None:
    """Special:EntityData JSON -> Entity. Follows a redirect (the answer is keyed by the target)."""
    if not isinstance(payload, Mapping):
        return None
    entities = payload.get("entities")
    if not isinstance(entities, Mapping) or not entities:
        return None
    raw = entities.get(qid) if qid else None
    if raw is None:
        raw = next(iter(entities.values()))
    if not isinstance(raw, Mapping) or "missing" in raw:
        return None
    entity_id = _str(raw.get("id")) or (qid or "")
    label = _str(_get(raw, "labels", language, "value")) or None
    if label is None:
        # mul (multilingual default) then any language, so non-English-only items still have a label
        label = _str(_get(raw, "labels", "mul", "value")) or None
    aliases = [_str(a.get("value")) for a in _get(raw, "aliases", language) or () if isinstance(a, Mapping)]
    claims: dict[str, tuple[Statement, ...]] = {}
    for prop, statements in (raw.get("claims") or {}).items():
        if isinstance(statements, list):
            claims[prop] = tuple(_parse_statement(s) for s in statements if isinstance(s, Mapping))
    return Entity(entity_id, label, tuple(n for n in [label, *aliases] if n), claims)


def entity_label(payload: Any, qid: str | None = None, *, language: str = "en") -> str | None:
    entity = parse_entity(payload, qid, language=language)
    return entity.label if entity else None


def _parse_statement(raw: Mapping[str, Any]) -> Statement:
    snak = raw.get("mainsnak") or {}
    value: Any = None
    if snak.get("snaktype", "value") == "value":
        datavalue = (snak.get("datavalue") or {}).get("value")
        if isinstance(datavalue, Mapping) and "id" in datavalue:
            value = datavalue["id"]
        elif isinstance(datavalue, Mapping) and "numeric-id" in datavalue:
            value = f"Q{datavalue['numeric-id']}"
        elif isinstance(datavalue, Mapping) and "time" in datavalue:
            value = dict(datavalue)
        elif isinstance(datavalue, str):
            value = datavalue
    ended = bool((raw.get("qualifiers") or {}).get(P_END_TIME))
    return Statement(value=value, rank=_str(raw.get("rank")) or "normal", ended=ended)


def parse_year(time_value: Any) -> int | None:
    """A Wikidata time value -> year, or None when the precision is coarser than a year.

    "+1916-09-13T00:00:00Z" -> 1916; "-0043-00-00T00:00:00Z" -> -43 (43 BCE); "+1900-00-00..." with
    precision 7 (century) -> None: a century is not a birth year.
    """
    if isinstance(time_value, Mapping):
        precision = time_value.get("precision")
        if isinstance(precision, int) and precision < YEAR_PRECISION:
            return None
        time_value = time_value.get("time")
    if not isinstance(time_value, str):
        return None
    match = re.match(r"^([+-]?)(\d{1,16})-", time_value.strip())
    if not match:
        return None
    year = int(match.group(2))
    if year == 0:
        return None
    return -year if match.group(1) == "-" else year


def best_statement_value(statements: Sequence[Statement]) -> Any:
    """Wikidata's "best" value: preferred rank first, then current (no end time), then the last listed.

    Citizenship lists are usually chronological, so the last current statement is the present one.
    """
    usable = [s for s in statements if s.rank != "deprecated" and s.value is not None]
    if not usable:
        return None
    preferred = [s for s in usable if s.rank == "preferred"]
    pool = preferred or usable
    current = [s for s in pool if not s.ended]
    return (current or pool)[-1].value


def gender_from_entity(entity: Entity) -> str:
    value = best_statement_value(entity.claims.get(P_GENDER, ()))
    if value is None:
        return GENDER_UNKNOWN
    return GENDER_BY_QID.get(value, "Other")


def year_from_entity(entity: Entity, prop: str) -> int | None:
    value = best_statement_value(entity.claims.get(prop, ()))
    return parse_year(value)


def author_claims(entity: Entity) -> AuthorClaims:
    citizenship = best_statement_value(entity.claims.get(P_CITIZENSHIP, ()))
    return AuthorClaims(
        qid=entity.qid,
        label=entity.label,
        gender=gender_from_entity(entity),
        citizenship_qid=citizenship if isinstance(citizenship, str) else None,
        birth_year=year_from_entity(entity, P_BIRTH),
        death_year=year_from_entity(entity, P_DEATH),
    )


# --- decision -------------------------------------------------------------------------------------


def candidate_score(
    entity: Entity,
    *,
    name: str,
    hit_names: Sequence[str] = (),
    known_titles: Sequence[str] = (),
    openlibrary_id: str | None = None,
    work_labels: Sequence[str] = (),
) -> CandidateScore:
    """Is this entity plausibly the author called `name`? Human AND (writer OR OL id OR title)."""
    ol_ids = {v.strip().upper() for v in entity.values(P_OPENLIBRARY_ID) if isinstance(v, str)}
    return CandidateScore(
        qid=entity.qid,
        human=HUMAN in entity.item_ids(P_INSTANCE_OF),
        name_match=names_match(name, (*entity.names, *hit_names)),
        writer=bool(WRITER_OCCUPATIONS.intersection(entity.item_ids(P_OCCUPATION))),
        openlibrary_match=bool(openlibrary_id) and _ol_key(openlibrary_id) in ol_ids,
        title_match=titles_match(known_titles, work_labels),
    )


def country_for(qid: str | None, *, label: str | None = None) -> Country | None:
    """Country by QID first, then by the entity's label (only used when the QID is not in the table)."""
    return country_by_qid(qid) or country_by_name(label)


def _ol_key(value: str) -> str:
    # "/authors/OL34184A", "OL34184A", "ol34184a" -> "OL34184A"
    return value.strip().rstrip("/").rsplit("/", 1)[-1].upper()


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
