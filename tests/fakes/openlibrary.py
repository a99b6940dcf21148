"""OpenLibrary fake: search, ISBN/edition/work/author documents and the Books API.

Shapes follow tests/fixtures/upstream/openlibrary/. Recorded samples are served verbatim where the
catalog agrees with them (edition OL7353617M, works OL45804W and OL15832982W and its editions,
edition OL22951843M, author OL34184A, J. K. Rowling's works and author search, two Books API keys).
Like the real service, ``/isbn/{isbn}.json`` answers 302 to ``/books/{olid}.json``, and
``search.json`` without ``fields`` returns the 2025 default field set (no ``isbn``).
"""

from __future__ import annotations

import json
import re

from tests.fakes.catalog import CATALOG, clean_isbn, fold, tokens_match
from tests.fakes.data.catalog import OL_FORMATS, OL_LANGUAGES
from tests.fakes.routing import Request, Response, json_response, raw_json_response, text_response
from tests.samples import sample_bytes, sample_json

NAME = "openlibrary"
PREFIX = "/openlibrary"
PUBLIC = "https://openlibrary.org"

RECORDED_EDITIONS = {
    "OL7353617M": "openlibrary/isbn_9780140328721_edition.json",
    "OL22951843M": "openlibrary/edition_OL22951843M_sabriel.json",
}
RECORDED_WORKS = {
    "OL45804W": "openlibrary/work_OL45804W.json",
    "OL15832982W": "openlibrary/work_OL15832982W_sabriel.json",
}
RECORDED_WORK_EDITIONS = {"OL15832982W": "openlibrary/work_OL15832982W_editions.json"}
RECORDED_AUTHORS = {"OL34184A": "openlibrary/author_OL34184A.json"}
RECORDED_AUTHOR_WORKS = {"OL23919A": "openlibrary/author_OL23919A_works.json"}
RECORDED_AUTHOR_SEARCHES = {"j k rowling": "openlibrary/search_authors_j_k_rowling.json"}
RECORDED_BIBKEYS = {
    "9780316030571": "openlibrary/api_books_jscmd_data_ISBN_9780316030571.json",
    "9782070427796": "openlibrary/api_books_jscmd_data_ISBN_9782070427796.json",
}

# The 2025 default field set of search.json (see search_q_isbn_..._2025.json): no isbn.
DEFAULT_FIELDS = [
    "author_key",
    "author_name",
    "cover_edition_key",
    "cover_i",
    "edition_count",
    "first_publish_year",
    "has_fulltext",
    "ia",
    "ia_collection_s",
    "key",
    "language",
    "public_scan_b",
    "title",
]
TIMESTAMP = {"type": "/type/datetime", "value": "2024-03-08T10:29:36.219022"}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def error_response(status: int) -> Response:
    if status == 404:
        return json_response({"error": "notfound"}, 404)
    if status in (500, 502, 503, 504):
        # The real service answers 5xx with an HTML page from its proxy.
        return text_response(
            f"<html><body><h1>{status}</h1>Internal error</body></html>", status, "text/html; charset=utf-8"
        )
    return json_response({"error": f"HTTP {status}"}, status)


def ol_date(iso: str) -> str:
    """OpenLibrary publish_date style: "October 1, 1988", "May 2020" or "1996"."""
    parts = iso.split("-")
    if len(parts) == 3:
        return f"{MONTHS[int(parts[1]) - 1]} {int(parts[2])}, {parts[0]}"
    if len(parts) == 2:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


def _recorded(table: dict, key: str):
    name = table.get(key)
    return sample_bytes(name) if name else None


def edition_doc(work: dict, edition: dict) -> dict:
    doc: dict = {
        "type": {"key": "/type/edition"},
        "title": CATALOG.edition_title(work, edition),
        "authors": [{"key": f"/authors/{key}"} for key in work["authors"]],
        "publishers": [edition["publisher"]],
        "publish_date": ol_date(edition["date"]),
        "works": [{"key": f"/works/{work['key']}"}],
        "languages": [{"key": f"/languages/{OL_LANGUAGES.get(edition['lang'], 'eng')}"}],
        "physical_format": OL_FORMATS.get(edition["format"], edition["format"]),
        "identifiers": {},
        "key": f"/books/{edition['ol_key']}",
        "latest_revision": 4,
        "revision": 4,
        "created": TIMESTAMP,
        "last_modified": TIMESTAMP,
    }
    if edition.get("subtitle"):
        doc["subtitle"] = edition["subtitle"]
    if edition["isbn10"]:
        doc["isbn_10"] = [edition["isbn10"]]
    doc["isbn_13"] = [edition["isbn13"]]
    if edition["pages"]:  # OpenLibrary often lacks page counts; 0 is never recorded
        doc["number_of_pages"] = edition["pages"]
    if edition.get("cover_id"):
        doc["covers"] = [edition["cover_id"]]
    return doc


def work_doc(work: dict) -> dict:
    doc: dict = {
        "title": work["title"],
        "key": f"/works/{work['key']}",
        "authors": [
            {"author": {"key": f"/authors/{key}"}, "type": {"key": "/type/author_role"}} for key in work["authors"]
        ],
        "type": {"key": "/type/work"},
        "first_publish_date": str(work["first_publish_year"]),
        "subjects": list(work["subjects"]),
        "latest_revision": 9,
        "revision": 9,
        "created": TIMESTAMP,
        "last_modified": TIMESTAMP,
    }
    if work["covers"]:
        doc["covers"] = list(work["covers"])
    if work.get("description"):
        # Both real shapes: a plain string, or a /type/text object (every other work).
        if len(work["title"]) % 2:
            doc["description"] = {"type": "/type/text", "value": work["description"]}
        else:
            doc["description"] = work["description"]
    return doc


def author_doc(key: str) -> dict:
    author = CATALOG.authors[key]
    doc: dict = {
        "key": f"/authors/{key}",
        "name": author["name"],
        "personal_name": author["name"],
        "type": {"key": "/type/author"},
        "remote_ids": {"wikidata": author["wikidata"]},
        "latest_revision": 12,
        "revision": 12,
        "created": TIMESTAMP,
        "last_modified": TIMESTAMP,
    }
    for field in ("birth_date", "death_date", "alternate_names"):
        if author.get(field):
            doc[field] = author[field]
    if author.get("photo"):
        doc["photos"] = [author["photo"]]
    return doc


def _ol_editions(work: dict) -> list[dict]:
    return [e for e in work["editions"] if "o" in e["sources"] and e["ol_key"]]


def search_doc(work: dict) -> dict:
    editions = _ol_editions(work)
    with_cover = [e for e in editions if e.get("cover_id")]
    pages = sorted(e["pages"] for e in editions if e["pages"])
    doc: dict = {
        "author_key": list(work["authors"]),
        "author_name": CATALOG.author_names(work),
        "cover_edition_key": with_cover[0]["ol_key"] if with_cover else None,
        "cover_i": work["covers"][0] if work["covers"] else None,
        "ebook_access": "no_ebook",
        "edition_count": len(editions),
        "edition_key": [e["ol_key"] for e in editions],
        "first_publish_year": work["first_publish_year"],
        "format": sorted({OL_FORMATS.get(e["format"], e["format"]) for e in editions}),
        "has_fulltext": False,
        "ia": [],
        "ia_collection_s": "",
        "isbn": [i for e in editions for i in (e["isbn13"], e["isbn10"]) if i],
        "key": f"/works/{work['key']}",
        "language": sorted({OL_LANGUAGES.get(e["lang"], "eng") for e in editions}),
        "number_of_pages_median": pages[len(pages) // 2] if pages else None,
        "public_scan_b": False,
        "publish_date": [ol_date(e["date"]) for e in editions],
        "publish_year": sorted({int(e["date"][:4]) for e in editions}),
        "publisher": sorted({e["publisher"] for e in editions}),
        "subject": list(work["subjects"]),
        "title": work["title"],
        "title_suggest": work["title"],
        "type": "work",
        "ratings_average": 4.1,
        "ratings_count": 120,
        "want_to_read_count": 300,
        "already_read_count": 80,
    }
    # Missing values are absent in real docs, never null.
    return {k: v for k, v in doc.items() if v not in (None, [], "")}


# Solr's fielded boolean form, as the CSV import sends it for many books at once:
# `(title:"Leviathan Wakes" AND author:"corey") OR title:"Dune"`.
_FIELDED_CLAUSE = re.compile(r'title:"([^"]*)"(?:\s+AND\s+author:"([^"]*)")?')


def _fielded_matches(work: dict, q: str) -> bool:
    """A work matches when any clause does: every word of the title phrase in its titles and, when
    the clause names one, the author word among its authors'."""
    for title, author in _FIELDED_CLAUSE.findall(q):
        if tokens_match(title, CATALOG.title_haystack(work)) and (
            not author or tokens_match(author, CATALOG.author_haystack(work))
        ):
            return True
    return False


def _search_matches(work: dict, request: Request) -> bool:
    editions = _ol_editions(work)
    if not editions:
        return False
    isbns = {i for e in editions for i in (e["isbn13"], e["isbn10"]) if i}
    q = request.arg("q")
    if q and 'title:"' in q:
        return _fielded_matches(work, q)
    if q:
        if q.lower().startswith("isbn:"):
            q = q[5:]
        compact = clean_isbn(q)
        if len(compact) in (10, 13) and compact.rstrip("X").isdigit() and len(q.strip()) <= 17:
            if compact not in isbns:
                return False
        else:
            haystack = " ".join(
                [CATALOG.title_haystack(work), CATALOG.author_haystack(work), " ".join(work["subjects"])]
            )
            if not tokens_match(q, haystack):
                return False
    title = request.arg("title")
    if title and not tokens_match(title, CATALOG.title_haystack(work)):
        return False
    author = request.arg("author")
    if author and not tokens_match(author, CATALOG.author_haystack(work)):
        return False
    isbn = request.arg("isbn")
    if isbn and clean_isbn(isbn) not in isbns:
        return False
    return bool(q or title or author or isbn)


def search(request: Request) -> Response:
    if not any(request.arg(k) for k in ("q", "title", "author", "isbn")):
        return json_response({"error": "No query provided"}, 400)
    hits = [w for w in CATALOG.works if _search_matches(w, request)]
    sort = request.arg("sort")
    if sort == "new":
        hits.sort(key=lambda w: -w["first_publish_year"])
    elif sort == "old":
        hits.sort(key=lambda w: w["first_publish_year"])
    elif sort == "title":
        hits.sort(key=lambda w: fold(w["title"]))
    else:  # exact title match first, like relevance ranking
        wanted = fold(request.arg("title") or request.arg("q"))
        hits.sort(key=lambda w: fold(w["title"]) != wanted)
    limit = request.int_arg("limit", 100)
    offset = request.int_arg("offset", (request.int_arg("page", 1) - 1) * limit)
    fields_arg = request.arg("fields")
    if fields_arg:
        fields = None if "*" in fields_arg else [f.strip() for f in fields_arg.split(",")]
    else:
        fields = DEFAULT_FIELDS
    docs = []
    for work in hits[offset : offset + limit]:
        doc = search_doc(work)
        docs.append(doc if fields is None else {k: doc[k] for k in fields if k in doc})
    return json_response(
        {
            "numFound": len(hits),
            "start": offset,
            "numFoundExact": True,
            "num_found": len(hits),
            "documentation_url": "https://openlibrary.org/dev/docs/api/search",
            "q": request.arg("q", ""),
            "offset": request.int_arg("offset", 0) if request.arg("offset") else None,
            "docs": docs,
        }
    )


def isbn(request: Request) -> Response:
    found = CATALOG.find_isbn(request.params["isbn"])
    if found is None or "o" not in found[1]["sources"] or not found[1]["ol_key"]:
        return json_response({"error": "notfound", "key": f"/isbn/{request.params['isbn']}"}, 404)
    location = f"{request.base_url}{PREFIX}/books/{found[1]['ol_key']}.json"
    return Response(302, b"", "text/html; charset=utf-8", {"Location": location})


def book(request: Request) -> Response:
    olid = request.params["olid"]
    if (recorded := _recorded(RECORDED_EDITIONS, olid)) is not None:
        return raw_json_response(recorded)
    found = CATALOG.by_ol_edition.get(olid)
    if found is None or "o" not in found[1]["sources"]:
        return json_response({"error": "notfound", "key": f"/books/{olid}"}, 404)
    return json_response(edition_doc(*found))


def work(request: Request) -> Response:
    work_id = request.params["work_id"]
    if (recorded := _recorded(RECORDED_WORKS, work_id)) is not None:
        return raw_json_response(recorded)
    found = CATALOG.by_work.get(work_id)
    if found is None:
        return json_response({"error": "notfound", "key": f"/works/{work_id}"}, 404)
    return json_response(work_doc(found))


def work_editions(request: Request) -> Response:
    work_id = request.params["work_id"]
    limit, offset = request.int_arg("limit", 50), request.int_arg("offset", 0)
    if offset == 0 and (recorded := _recorded(RECORDED_WORK_EDITIONS, work_id)) is not None:
        return raw_json_response(recorded)
    found = CATALOG.by_work.get(work_id)
    if found is None:
        return json_response({"error": "notfound", "key": f"/works/{work_id}"}, 404)
    editions = _ol_editions(found)
    links = {"self": f"/works/{work_id}/editions.json", "work": f"/works/{work_id}"}
    if offset + limit < len(editions):
        links["next"] = f"/works/{work_id}/editions.json?offset={offset + limit}"
    if offset:
        links["prev"] = f"/works/{work_id}/editions.json?offset={max(0, offset - limit)}"
    return json_response(
        {
            "links": links,
            "size": len(editions),
            "entries": [edition_doc(found, e) for e in editions[offset : offset + limit]],
        }
    )


def author(request: Request) -> Response:
    key = request.params["author_id"]
    if (recorded := _recorded(RECORDED_AUTHORS, key)) is not None:
        return raw_json_response(recorded)
    if key not in CATALOG.authors:
        return json_response({"error": "notfound", "key": f"/authors/{key}"}, 404)
    return json_response(author_doc(key))


def author_works(request: Request) -> Response:
    key = request.params["author_id"]
    limit, offset = request.int_arg("limit", 50), request.int_arg("offset", 0)
    if offset == 0 and limit == 50 and (recorded := _recorded(RECORDED_AUTHOR_WORKS, key)):
        return raw_json_response(recorded)
    if key not in CATALOG.authors:
        return json_response({"error": "notfound", "key": f"/authors/{key}"}, 404)
    works = [w for w in CATALOG.works if key in w["authors"]]
    links = {"self": f"/authors/{key}/works.json", "author": f"/authors/{key}"}
    if offset + limit < len(works):
        links["next"] = f"/authors/{key}/works.json?offset={offset + limit}"
    if offset:
        links["prev"] = f"/authors/{key}/works.json?offset={max(0, offset - limit)}"
    return json_response(
        {"links": links, "size": len(works), "entries": [work_doc(w) for w in works[offset : offset + limit]]}
    )


def search_authors(request: Request) -> Response:
    q = request.arg("q", "")
    if (recorded := _recorded(RECORDED_AUTHOR_SEARCHES, fold(q))) is not None:
        return raw_json_response(recorded)
    docs = []
    for key, author in CATALOG.authors.items():
        names = " | ".join([author["name"], *author.get("alternate_names", [])])
        if not tokens_match(q, names):
            continue
        works = [w for w in CATALOG.works if key in w["authors"]]
        doc = {
            "key": key,
            "type": "author",
            "name": author["name"],
            "alternate_names": author.get("alternate_names"),
            "birth_date": author.get("birth_date"),
            "death_date": author.get("death_date"),
            "top_work": works[0]["title"] if works else None,
            "work_count": len(works),
            "top_subjects": works[0]["subjects"][:5] if works else None,
            "_version_": 1.7e18 + len(docs),
        }
        docs.append({k: v for k, v in doc.items() if v is not None})
    limit, offset = request.int_arg("limit", 100), request.int_arg("offset", 0)
    return json_response(
        {"numFound": len(docs), "start": offset, "numFoundExact": True, "docs": docs[offset : offset + limit]}
    )


def books_api(request: Request) -> Response:
    """``/api/books?bibkeys=ISBN:a,ISBN:b&jscmd=data|details|viewapi&format=json`` (many keys per call)."""
    cmd = request.arg("jscmd", "viewapi")
    result: dict = {}
    for bibkey in filter(None, (k.strip() for k in (request.arg("bibkeys") or "").split(","))):
        kind, _, value = bibkey.partition(":")
        found = None
        if kind.upper() == "ISBN":
            recorded = None
            if cmd == "data" and clean_isbn(value) in RECORDED_BIBKEYS:
                recorded = sample_json(RECORDED_BIBKEYS[clean_isbn(value)])
            if recorded:
                result[bibkey] = next(iter(recorded.values()))
                continue
            found = CATALOG.find_isbn(value)
        elif kind.upper() == "OLID":
            found = CATALOG.by_ol_edition.get(value)
        if found is None or "o" not in found[1]["sources"] or not found[1]["ol_key"]:
            continue  # unknown keys are silently left out, like the real API
        if cmd == "data":
            result[bibkey] = _books_api_data(*found, request)
        elif cmd == "details":
            result[bibkey] = _books_api_details(bibkey, *found, request)
        else:
            result[bibkey] = _books_api_view(bibkey, *found, request)
    if request.arg("format") == "json":
        return json_response(result)
    callback = request.arg("callback")
    body = json.dumps(result, ensure_ascii=False)
    script = f"{callback}({body});" if callback else f"var _OLBookInfo = {body};"
    return text_response(script, content_type="application/javascript; charset=utf-8")


def _cover_urls(request: Request, cover_id: int) -> dict:
    base = f"{request.base_url}/covers/b/id/{cover_id}"
    return {"small": f"{base}-S.jpg", "medium": f"{base}-M.jpg", "large": f"{base}-L.jpg"}


def _books_api_data(work: dict, edition: dict, request: Request) -> dict:
    olid = edition["ol_key"]
    title = CATALOG.edition_title(work, edition)
    data: dict = {
        "url": f"{PUBLIC}/books/{olid}/{title.replace(' ', '_')}",
        "key": f"/books/{olid}",
        "title": title,
        "authors": [
            {
                "url": f"{PUBLIC}/authors/{key}/{CATALOG.authors[key]['name'].replace(' ', '_')}",
                "name": CATALOG.authors[key]["name"],
            }
            for key in work["authors"]
        ],
    }
    if edition.get("subtitle"):
        data["subtitle"] = edition["subtitle"]
    if edition["pages"]:
        data["number_of_pages"] = edition["pages"]
    identifiers = {"isbn_13": [edition["isbn13"]], "openlibrary": [olid]}
    if edition["isbn10"]:
        identifiers["isbn_10"] = [edition["isbn10"]]
    data["identifiers"] = identifiers
    data["publishers"] = [{"name": edition["publisher"]}]
    data["publish_date"] = ol_date(edition["date"])
    data["subjects"] = [{"name": s, "url": f"{PUBLIC}/subjects/{fold(s).replace(' ', '_')}"} for s in work["subjects"]]
    if edition.get("cover_id"):
        data["cover"] = _cover_urls(request, edition["cover_id"])
    return data


def _books_api_view(bibkey: str, work: dict, edition: dict, request: Request) -> dict:
    view = {
        "bib_key": bibkey,
        "info_url": f"{PUBLIC}/books/{edition['ol_key']}",
        "preview": "noview",
        "preview_url": f"{PUBLIC}/books/{edition['ol_key']}",
    }
    if edition.get("cover_id"):
        view["thumbnail_url"] = _cover_urls(request, edition["cover_id"])["small"]
    return view


def _books_api_details(bibkey: str, work: dict, edition: dict, request: Request) -> dict:
    """``jscmd=details``: the viewapi fields plus ``details``, the edition record itself (the recorded
    edition sample where there is one), with its authors expanded to ``{key, name}`` as OpenLibrary's
    dynlinks does. The record carries ``languages`` (MARC codes) and ``works``."""
    olid = edition["ol_key"]
    recorded = RECORDED_EDITIONS.get(olid)
    details = sample_json(recorded) if recorded else edition_doc(work, edition)
    authors = []
    for author in details.get("authors") or []:
        key = author.get("key", "").rsplit("/", 1)[-1]
        name = CATALOG.authors.get(key, {}).get("name")
        authors.append({"key": author["key"], "name": name} if name else {"key": author["key"]})
    if authors:
        details["authors"] = authors
    view = _books_api_view(bibkey, work, edition, request)
    if details.get("covers") and "thumbnail_url" not in view:
        view["thumbnail_url"] = _cover_urls(request, details["covers"][0])["small"]
    return {**view, "details": details}


ROUTES = [
    ("GET", "/search.json", search),
    ("GET", "/search/authors.json", search_authors),
    ("GET", "/isbn/{isbn}.json", isbn),
    ("GET", "/books/{olid}.json", book),
    ("GET", "/works/{work_id}.json", work),
    ("GET", "/works/{work_id}/editions.json", work_editions),
    ("GET", "/authors/{author_id}.json", author),
    ("GET", "/authors/{author_id}/works.json", author_works),
    ("GET", "/api/books", books_api),
]
