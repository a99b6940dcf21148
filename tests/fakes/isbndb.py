"""ISBNdb API v2 fake: ``/book/{isbn}``, ``/books/{query}``, ``POST /books``, ``/search/books``,
``/author/{name}``, ``/authors/{query}``.

Book objects follow the Book schema of tests/fixtures/upstream/isbndb/isbndb_openapi_v2.7.0_spec.json and
the quirks of the dump records: ``date_published`` sometimes an int, ``msrp`` sometimes a string,
``isbn`` holding the ISBN-10. Every call needs an ``Authorization`` header: missing -> 401, a key
starting with ``invalid`` (or outside ``FakeUpstreams(isbndb_keys=...)``) -> 403.
"""

from __future__ import annotations

from tests.fakes.catalog import CATALOG, clean_isbn, tokens_match
from tests.fakes.routing import Request, Response, json_response

NAME = "isbndb"
PREFIX = "/isbndb"

# ISBNdb stores some author names inverted ("Last, First"); mirror that for a few.
INVERTED = {"OL26320A": "Tolkien, J. R. R.", "OL79034A": "Herbert, Frank"}


def error_response(status: int) -> Response:
    if status == 404:
        return json_response({"errorMessage": "Not Found"}, 404)
    messages = {
        401: "Unauthorized",
        403: "Forbidden",
        429: "Too Many Requests",
        400: "Bad Request",
        405: "Method Not Allowed",
        504: "Endpoint request timed out",
    }
    return json_response({"message": messages.get(status, "Internal server error")}, status)


def _authorised(request: Request) -> Response | None:
    key = (request.header("authorization") or "").strip()
    if not key:
        return json_response({"message": "Unauthorized"}, 401)
    allowed = request.server.isbndb_keys if request.server is not None else None
    if key.lower().startswith("invalid") or (allowed is not None and key not in allowed):
        return json_response({"message": "Forbidden"}, 403)
    return None


def book_record(work: dict, edition: dict) -> dict:
    isbn13 = edition["isbn13"]
    title = CATALOG.edition_title(work, edition)
    record: dict = {
        "publisher": edition["publisher"],
        "language": edition["lang"],
        "image": f"https://images.isbndb.com/covers/{isbn13[-4:-2]}/{isbn13[-2:]}/{isbn13}.jpg",
        "title_long": f"{title}: {edition['subtitle']}" if edition.get("subtitle") else title,
        "date_published": edition.get("isbndb_date", edition["date"]),
        "authors": [INVERTED.get(k, CATALOG.authors[k]["name"]) for k in work["authors"]],
        "title": title,
        "isbn13": isbn13,
        "binding": edition["format"],
        "isbn": edition["isbn10"] or isbn13,
    }
    if edition["isbn10"]:
        record["isbn10"] = edition["isbn10"]
    if edition["pages"]:
        record["pages"] = edition["pages"]
    if edition.get("msrp"):
        record["msrp"] = float(edition["msrp"]) if len(title) % 3 else edition["msrp"]
    if edition["format"] not in ("Kindle Edition", "Audio CD") and edition["pages"]:
        thickness = round(edition["pages"] * 0.0025, 2)
        record["dimensions"] = (
            f"Height: 8.25 Inches, Length: 5.5 Inches, "
            f"Weight: {round(edition['pages'] * 0.0022, 2)} Pounds, "
            f"Width: {thickness} Inches"
        )
    record["subjects"] = list(work["subjects"])
    if work.get("description") and len(work["editions"]) > 1:
        record["synopsis"] = work["description"]
    record["edition"] = "1" if edition["format"] == "Hardcover" else "Reprint"
    others = [
        {"isbn": e["isbn13"], "binding": e["format"]}
        for e in work["editions"]
        if e is not edition and "i" in e["sources"]
    ]
    if others:
        record["other_isbns"] = others
    return record


def _pairs():
    return list(CATALOG.editions("i"))


def _page(request: Request, items: list) -> tuple[list, int, int]:
    page = max(1, request.int_arg("page", 1))
    size = max(1, min(1000, request.int_arg("pageSize", 20)))
    return items[(page - 1) * size : page * size], page, size


def get_book(request: Request) -> Response:
    if (denied := _authorised(request)) is not None:
        return denied
    found = CATALOG.find_isbn(request.params["isbn"])
    if found is None or "i" not in found[1]["sources"]:
        return error_response(404)
    return json_response({"book": book_record(*found)})


def _query_match(work: dict, edition: dict, query: str, column: str | None) -> bool:
    columns = {
        "title": CATALOG.title_haystack(work, edition),
        "author": CATALOG.author_haystack(work),
        "subjects": " ".join(work["subjects"]),
        "date_published": edition["date"],
    }
    if column in columns:
        return tokens_match(query, columns[column])
    return tokens_match(query, " ".join(columns.values()))


def search_books_by_query(request: Request) -> Response:
    if (denied := _authorised(request)) is not None:
        return denied
    query = request.params["query"]
    column = request.arg("column")
    language = request.arg("language")
    hits = [
        (w, e) for w, e in _pairs() if _query_match(w, e, query, column) and (not language or e["lang"] == language)
    ]
    page, _, _ = _page(request, hits)
    return json_response({"total": len(hits), "data": [book_record(w, e) for w, e in page], "requested": None})


def books_bulk(request: Request) -> Response:
    if (denied := _authorised(request)) is not None:
        return denied
    if "json" in (request.header("content-type") or ""):
        raw = request.json().get("isbns", [])
        requested = list(raw.values()) if isinstance(raw, dict) else list(raw)
    else:
        requested = [i for v in request.form().get("isbns", []) for i in v.split(",")]
    requested = [str(i).strip() for i in requested if str(i).strip()]
    data = []
    for isbn in requested:
        found = CATALOG.find_isbn(isbn)
        if found is not None and "i" in found[1]["sources"]:
            data.append(book_record(*found))
    return json_response({"total": len(data), "requested": len(requested), "data": data})


def search_books(request: Request) -> Response:
    if (denied := _authorised(request)) is not None:
        return denied
    hits = []
    for work, edition in _pairs():
        checks = {
            "text": lambda v: tokens_match(
                v, " ".join([CATALOG.title_haystack(work, edition), CATALOG.author_haystack(work)])
            ),
            "author": lambda v: tokens_match(v, CATALOG.author_haystack(work)),
            "subject": lambda v: tokens_match(v, " ".join(work["subjects"])),
            "publisher": lambda v: tokens_match(v, edition["publisher"]),
            "isbn": lambda v: clean_isbn(v) in (edition["isbn10"], edition["isbn13"]),
            "isbn13": lambda v: clean_isbn(v) == edition["isbn13"],
        }
        given = {k: request.arg(k) for k in checks if request.arg(k)}
        if given and all(checks[k](v) for k, v in given.items()):
            hits.append((work, edition))
    page, number, size = _page(request, hits)
    return json_response(
        {"total": len(hits), "page": number, "page_size": size, "data": [book_record(w, e) for w, e in page]}
    )


def _author_works(name: str):
    return [(w, e) for w, e in _pairs() if tokens_match(name, CATALOG.author_haystack(w))]


def author(request: Request) -> Response:
    if (denied := _authorised(request)) is not None:
        return denied
    name = request.params["name"]
    hits = _author_works(name)
    if not hits:
        return error_response(404)
    page, number, size = _page(request, hits)
    return json_response(
        {
            "author": name,
            "name": name,
            "books": [book_record(w, e) for w, e in page],
            "total": len(hits),
            "page": number,
            "page_size": size,
        }
    )


def authors(request: Request) -> Response:
    if (denied := _authorised(request)) is not None:
        return denied
    query = request.params["query"]
    names = [
        a["name"]
        for a in CATALOG.authors.values()
        if tokens_match(query, " | ".join([a["name"], *a.get("alternate_names", [])]))
    ]
    page, number, size = _page(request, names)
    return json_response({"name": query, "authors": page, "total": len(names), "page": number, "page_size": size})


ROUTES = [
    ("GET", "/book/{isbn}", get_book),
    ("GET", "/books/{query}", search_books_by_query),
    ("POST", "/books", books_bulk),
    ("GET", "/search/books", search_books),
    ("GET", "/author/{name}", author),
    ("GET", "/authors/{query}", authors),
]
