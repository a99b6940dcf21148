"""Google Books API v1 fake: ``/volumes`` search and ``/volumes/{id}``.

Shapes follow tests/fixtures/upstream/google_books/. The recorded samples are served verbatim for
``q=isbn:9780374104092`` and for volumes 2cl7AgAAQBAJ and 49T5twEACAAJ.
Coverage like the real API: descriptions and BISAC categories, but only the two small thumbnails in
search results, ``pageCount`` 0 for some volumes, and no first publication year.
"""

from __future__ import annotations

import hashlib
import re

from tests.fakes.catalog import CATALOG, clean_isbn, fold, tokens_match
from tests.fakes.routing import Request, Response, json_response, raw_json_response
from tests.samples import sample_bytes

NAME = "google"
PREFIX = "/google/books/v1"

RECORDED_SEARCHES = {"9780374104092": "google_books/volumes_q_isbn_9780374104092.json"}
RECORDED_VOLUMES = {
    "2cl7AgAAQBAJ": "google_books/volume_by_id_2cl7AgAAQBAJ.json",
    "49T5twEACAAJ": "google_books/volume_by_id_49T5twEACAAJ.json",
}
OPERATOR = re.compile(r'(isbn|intitle|inauthor|inpublisher|subject):("[^"]*"|\S+)', re.IGNORECASE)


def error_response(status: int) -> Response:
    reasons = {
        400: ("badRequest", "INVALID_ARGUMENT", "Invalid value"),
        403: ("rateLimitExceeded", "PERMISSION_DENIED", "Daily Limit Exceeded"),
        404: ("notFound", "NOT_FOUND", "The volume ID could not be found."),
        405: ("httpMethodNotAllowed", "FAILED_PRECONDITION", "Method not allowed"),
        429: (
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'",
        ),
        503: ("backendError", "UNAVAILABLE", "Service temporarily unavailable."),
    }
    reason, status_text, message = reasons.get(status, ("backendError", "INTERNAL", "Backend Error"))
    return json_response(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": status_text,
            }
        },
        status,
    )


def _etag(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()[:11]


def volume(work: dict, edition: dict, *, detailed: bool = False, query: str = "") -> dict:
    gid = edition["google_id"]
    title = CATALOG.edition_title(work, edition)
    info: dict = {"title": title}
    if edition.get("subtitle"):
        info["subtitle"] = edition["subtitle"]
    info["authors"] = CATALOG.author_names(work)
    info["publisher"] = edition["publisher"]
    info["publishedDate"] = edition["date"]
    if work.get("description") and edition.get("google_description", True):
        info["description"] = work["description"]
    identifiers = [{"type": "ISBN_13", "identifier": edition["isbn13"]}]
    if edition["isbn10"]:
        identifiers.append({"type": "ISBN_10", "identifier": edition["isbn10"]})
    info["industryIdentifiers"] = identifiers
    info["readingModes"] = {"text": edition["format"] == "Kindle Edition", "image": False}
    if edition["pages"] is not None:
        info["pageCount"] = edition["pages"]
        if detailed:
            info["printedPageCount"] = edition["pages"] or 0
    info["printType"] = "BOOK"
    if work["google_categories"]:
        info["categories"] = list(work["google_categories"])
    info["maturityRating"] = "NOT_MATURE"
    info["allowAnonLogging"] = False
    info["contentVersion"] = "0.3.2.0.preview.1"
    if edition.get("cover_id") or work["covers"]:
        base = f"http://books.google.com/books/content?id={gid}&printsec=frontcover&img=1"
        links = {
            "smallThumbnail": f"{base}&zoom=5&edge=curl&source=gbs_api",
            "thumbnail": f"{base}&zoom=1&edge=curl&source=gbs_api",
        }
        if detailed:
            publisher = f"http://books.google.com/books/publisher/content?id={gid}&printsec=frontcover&img=1"
            links = {
                "smallThumbnail": f"{base}&zoom=5&edge=curl&imgtk=AFLRE7&source=gbs_api",
                "thumbnail": f"{base}&zoom=1&edge=curl&imgtk=AFLRE7&source=gbs_api",
                "small": f"{publisher}&zoom=2&edge=curl&imgtk=AFLRE7&source=gbs_api",
                "medium": f"{publisher}&zoom=3&edge=curl&imgtk=AFLRE7&source=gbs_api",
                "large": f"{publisher}&zoom=4&edge=curl&imgtk=AFLRE7&source=gbs_api",
                "extraLarge": f"{publisher}&zoom=6&edge=curl&imgtk=AFLRE7&source=gbs_api",
            }
        info["imageLinks"] = links
    if edition.get("google_language", True):
        info["language"] = edition["lang"]
    dq = f"&dq={query}" if query else ""
    info["previewLink"] = f"http://books.google.com/books?id={gid}&printsec=frontcover{dq}&hl=&cd=1&source=gbs_api"
    info["infoLink"] = f"http://books.google.com/books?id={gid}{dq}&hl=&source=gbs_api"
    slug = title.replace(" ", "_")
    info["canonicalVolumeLink"] = f"https://books.google.com/books/about/{slug}.html?hl=&id={gid}"
    ebook = edition["format"] == "Kindle Edition"
    sale = {"country": "US", "saleability": "FOR_SALE" if ebook else "NOT_FOR_SALE", "isEbook": ebook}
    if ebook:
        price = {"amount": 9.99, "currencyCode": "USD"}
        sale.update(
            {
                "listPrice": price,
                "retailPrice": price,
                "buyLink": f"https://play.google.com/store/books/details?id={gid}&rdid=book-{gid}&rdot=1&source=gbs_api",
            }
        )
    return {
        "kind": "books#volume",
        "id": gid,
        "etag": _etag(gid),
        "selfLink": f"https://www.googleapis.com/books/v1/volumes/{gid}",
        "volumeInfo": info,
        "saleInfo": sale,
        "accessInfo": {
            "country": "US",
            "viewability": "PARTIAL" if ebook else "NO_PAGES",
            "embeddable": ebook,
            "publicDomain": False,
            "textToSpeechPermission": "ALLOWED",
            "epub": {"isAvailable": ebook},
            "pdf": {"isAvailable": False},
            "webReaderLink": f"http://play.google.com/books/reader?id={gid}&hl=&source=gbs_api",
            "accessViewStatus": "SAMPLE" if ebook else "NONE",
            "quoteSharingAllowed": False,
        },
    }


def _matches(work: dict, edition: dict, q: str) -> bool:
    free = OPERATOR.sub(" ", q)
    for op, value in OPERATOR.findall(q):
        value = value.strip('"')
        op = op.lower()
        if op == "isbn":
            if clean_isbn(value) not in (edition["isbn13"], edition["isbn10"]):
                return False
        elif op == "intitle" and not tokens_match(value, CATALOG.title_haystack(work, edition)):
            return False
        elif op == "inauthor" and not tokens_match(value, CATALOG.author_haystack(work)):
            return False
        elif op == "inpublisher" and not tokens_match(value, edition["publisher"]):
            return False
        elif op == "subject" and not tokens_match(value, " ".join(work["google_categories"])):
            return False
    if fold(free):
        haystack = " ".join(
            [
                CATALOG.title_haystack(work, edition),
                CATALOG.author_haystack(work),
                edition["isbn13"],
                edition["isbn10"] or "",
            ]
        )
        return tokens_match(free, haystack)
    return True


def search_volumes(request: Request) -> Response:
    q = request.arg("q", "") or ""
    if request.arg("key", "").startswith("invalid"):
        return json_response(
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "errors": [
                        {
                            "message": "API key not valid. Please pass a valid API key.",
                            "domain": "global",
                            "reason": "badRequest",
                        }
                    ],
                    "status": "INVALID_ARGUMENT",
                }
            },
            400,
        )
    if not q.strip():
        return json_response(
            {
                "error": {
                    "code": 400,
                    "message": "Missing query.",
                    "errors": [
                        {
                            "message": "Missing query.",
                            "domain": "global",
                            "reason": "queryRequired",
                            "location": "q",
                            "locationType": "parameter",
                        }
                    ],
                }
            },
            400,
        )
    start = max(0, request.int_arg("startIndex", 0))
    limit = request.int_arg("maxResults", 10)
    if not 0 <= limit <= 40:
        return json_response(
            {
                "error": {
                    "code": 400,
                    "message": f"Invalid value at 'max_results' (TYPE_INT32), {limit}",
                    "status": "INVALID_ARGUMENT",
                }
            },
            400,
        )
    isbn_ops = [clean_isbn(v) for op, v in OPERATOR.findall(q) if op.lower() == "isbn"]
    if start == 0 and len(isbn_ops) == 1 and isbn_ops[0] in RECORDED_SEARCHES:
        return raw_json_response(sample_bytes(RECORDED_SEARCHES[isbn_ops[0]]))
    hits = [(w, e) for w, e in CATALOG.editions("g") if _matches(w, e, q)]
    page = hits[start : start + limit]
    body: dict = {"kind": "books#volumes", "totalItems": len(hits)}
    if page:  # the real API omits "items" when there is nothing on the page
        body["items"] = [volume(w, e, query=q) for w, e in page]
    return json_response(body)


def get_volume(request: Request) -> Response:
    volume_id = request.params["volume_id"]
    recorded_name = RECORDED_VOLUMES.get(volume_id)
    if recorded_name:
        return raw_json_response(sample_bytes(recorded_name))
    found = CATALOG.by_google_id.get(volume_id)
    if found is None or "g" not in found[1]["sources"]:
        return error_response(404)
    return json_response(volume(*found, detailed=True))


ROUTES = [
    ("GET", "/volumes", search_volumes),
    ("GET", "/volumes/{volume_id}", get_volume),
]
