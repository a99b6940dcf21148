"""Wikidata fake: ``/w/api.php`` (wbsearchentities, wbgetentities) and
``/wiki/Special:EntityData/{QID}.json``.

Entities live in tests/fakes/data/wikidata.json (format documented in its ``_comment``) and are
expanded here into the real JSON shapes (labels/descriptions/aliases objects, statements with
mainsnak/datavalue, time values with precision and calendar model).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from tests.fakes.catalog import fold
from tests.fakes.routing import Request, Response, json_response, text_response

NAME = "wikidata"
PREFIX = "/wikidata"
DATA_FILE = Path(__file__).resolve().parent / "data" / "wikidata.json"
GREGORIAN = "http://www.wikidata.org/entity/Q1985727"
# Properties whose string values are external identifiers rather than plain strings.
STRING_PROPERTIES = {"P1476", "P1813"}


@lru_cache(maxsize=1)
def entities() -> dict[str, dict]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))["entities"]


def error_response(status: int) -> Response:
    if status == 404:
        return text_response("Invalid ID", 404, "text/html; charset=utf-8")
    if status == 429:
        return text_response(
            "Too many requests. Please comply with the User-Agent policy.", 429, "text/html; charset=utf-8"
        )
    return json_response(
        {
            "error": {
                "code": "internal_api_error_DBQueryError",
                "info": "A database query error has occurred.",
                "*": "",
            },
            "servedby": "mw-api-ext.fake",
        },
        status,
    )


def _numeric(qid: str) -> int:
    return int(qid[1:])


def _snak(prop: str, value) -> dict:
    if isinstance(value, dict) and "time" in value:
        datavalue = {
            "value": {
                "time": value["time"],
                "timezone": 0,
                "before": 0,
                "after": 0,
                "precision": value.get("precision", 11),
                "calendarmodel": GREGORIAN,
            },
            "type": "time",
        }
        datatype = "time"
    elif isinstance(value, str) and value[:1] in "+-" and "T" in value:
        datavalue = {
            "value": {
                "time": value,
                "timezone": 0,
                "before": 0,
                "after": 0,
                "precision": 11,
                "calendarmodel": GREGORIAN,
            },
            "type": "time",
        }
        datatype = "time"
    elif isinstance(value, str) and value[:1] == "Q" and value[1:].isdigit():
        datavalue = {
            "value": {"entity-type": "item", "numeric-id": _numeric(value), "id": value},
            "type": "wikibase-entityid",
        }
        datatype = "wikibase-item"
    else:
        datavalue = {"value": value, "type": "string"}
        datatype = "string" if prop in STRING_PROPERTIES else "external-id"
    snak_hash = hashlib.sha1(f"{prop}{value}".encode()).hexdigest()
    return {"snaktype": "value", "property": prop, "hash": snak_hash, "datavalue": datavalue, "datatype": datatype}


def entity_json(qid: str) -> dict:
    raw = entities()[qid]
    labels = {"en": raw["label"], **raw.get("labels", {})}
    claims = {}
    for prop, values in raw.get("claims", {}).items():
        claims[prop] = [
            {
                "mainsnak": _snak(prop, value),
                "type": "statement",
                "id": f"{qid}${hashlib.md5(f'{prop}{i}'.encode()).hexdigest()}",
                "rank": "normal",
            }
            for i, value in enumerate(values)
        ]
    aliases = raw.get("aliases", [])
    return {
        "pageid": 100000 + _numeric(qid) % 10_000_000,
        "ns": 0,
        "title": qid,
        "lastrevid": 2_200_000_000 + _numeric(qid) % 1000,
        "modified": "2024-11-02T10:11:12Z",
        "type": "item",
        "id": qid,
        "labels": {lang: {"language": lang, "value": v} for lang, v in labels.items()},
        "descriptions": {"en": {"language": "en", "value": raw["description"]}} if raw.get("description") else {},
        "aliases": {"en": [{"language": "en", "value": a} for a in aliases]} if aliases else {},
        "claims": claims,
        "sitelinks": {},
    }


def entity_data(request: Request) -> Response:
    qid = request.params["qid"].upper()
    if qid not in entities():
        return error_response(404)
    return json_response({"entities": {qid: entity_json(qid)}})


def _search(request: Request) -> Response:
    search = request.arg("search", "") or ""
    wanted = fold(search)
    limit = max(1, min(50, request.int_arg("limit", 7)))
    hits = []
    for qid, raw in entities().items():
        names = [raw["label"], *raw.get("aliases", []), *raw.get("labels", {}).values()]
        best = None
        for name in names:
            folded = fold(name)
            quality = (
                0
                if folded == wanted
                else 1
                if folded.startswith(wanted)
                else 2
                if wanted and wanted in folded
                else None
            )
            if quality is not None and (best is None or quality < best[0]):
                best = (quality, name)
        if best is not None and wanted:
            hits.append((raw.get("search_rank", 100), best[0], qid, best[1]))
    hits.sort(key=lambda hit: (hit[0], hit[1], _numeric(hit[2])))
    offset = request.int_arg("continue", 0)
    results = []
    for _, _, qid, matched in hits[offset : offset + limit]:
        raw = entities()[qid]
        matched_alias = matched != raw["label"]
        item = {
            "id": qid,
            "title": qid,
            "pageid": 100000 + _numeric(qid) % 10_000_000,
            "display": {"label": {"value": raw["label"], "language": "en"}},
            "repository": "wikidata",
            "url": f"//www.wikidata.org/wiki/{qid}",
            "concepturi": f"http://www.wikidata.org/entity/{qid}",
            "label": raw["label"],
            "match": {"type": "alias" if matched_alias else "label", "language": "en", "text": matched},
        }
        if raw.get("description"):
            item["description"] = raw["description"]
            item["display"]["description"] = {"value": raw["description"], "language": "en"}
        if matched_alias:
            item["aliases"] = [matched]
        results.append(item)
    body: dict = {"searchinfo": {"search": search}, "search": results}
    if offset + limit < len(hits):
        body["search-continue"] = offset + limit
    body["success"] = 1
    return json_response(body)


def _get_entities(request: Request) -> Response:
    ids = [i.strip().upper() for i in (request.arg("ids") or "").split("|") if i.strip()]
    props = set((request.arg("props") or "info|sitelinks|aliases|labels|descriptions|claims|datatype").split("|"))
    languages = set((request.arg("languages") or "").split("|")) - {""}
    out = {}
    for qid in ids:
        if qid not in entities():
            out[qid] = {"id": qid, "missing": ""}
            continue
        full = entity_json(qid)
        keep = {"type", "id"} | {p for p in ("labels", "descriptions", "aliases", "claims", "sitelinks") if p in props}
        if "info" in props:
            keep |= {"pageid", "ns", "title", "lastrevid", "modified"}
        entity = {k: v for k, v in full.items() if k in keep}
        if languages:
            for key in ("labels", "descriptions", "aliases"):
                if key in entity:
                    entity[key] = {lang: v for lang, v in entity[key].items() if lang in languages}
        out[qid] = entity
    return json_response({"entities": out, "success": 1})


def api(request: Request) -> Response:
    action = request.arg("action")
    if action == "wbsearchentities":
        if not request.arg("search"):
            return json_response(
                {
                    "error": {"code": "missingparam", "info": 'The "search" parameter must be set.'},
                    "servedby": "mw-api-ext.fake",
                }
            )
        return _search(request)
    if action == "wbgetentities":
        return _get_entities(request)
    return json_response(
        {
            "error": {"code": "badvalue", "info": f'Unrecognized value for parameter "action": {action}.'},
            "servedby": "mw-api-ext.fake",
        }
    )


ROUTES = [
    ("GET", "/w/api.php", api),
    ("GET", "/wiki/Special:EntityData/{qid}.json", entity_data),
]
