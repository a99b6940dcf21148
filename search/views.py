"""Search routes (CONTRACT 4): v1 (envelope), legacy /search/* and /external/* (raw), v3, cache metrics.

Views are thin: parse params (search.queries), call one service, render (search.wire).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core import openapi as api
from booktrack.core.envelope import ResponseMeta, success
from booktrack.core.exceptions import (
    BatchTooLarge,
    EmptyBatch,
    InvalidIsbn,
    InvalidQuery,
    InvalidRequest,
    MissingParameter,
    NotFound,
    ProviderUnavailable,
    RateLimitExceeded,
)
from booktrack.core.lean import LeanGetMixin
from booktrack.core.permissions import IsStaffOrOpsToken
from booktrack.core.quotas import client_identity, client_lookups_charge
from search import services, wire
from search.budgets import budget_remaining
from search.cache.tiers import cache_tier_stats
from search.isbn import isbn_normalize
from search.openapi import limit_param
from search.queries import (
    AdvancedQuery,
    AuthorQuery,
    EnrichRequest,
    IsbnQuery,
    LegacyAdvancedQuery,
    RequiredText,
    TitleQuery,
    external_limit,
)


def _p(name: str, description: str, *, required: bool = False, type_=OpenApiTypes.STR) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, required=required, description=description)


def _limit(high: int, default: int = 20, name: str = "limit") -> OpenApiParameter:
    return _p(name, f"Page size, 1-{high} (default {default})", type_=limit_param(1, high, default))


Q = _p("q", "Search text (Unicode kept)", required=True)
LIMIT = _limit(40)
OFFSET = _p("offset", "Results to skip (0-10000)", type_={"type": "integer", "minimum": 0, "maximum": 10_000})
ISBN = _p("isbn", "ISBN-10 or ISBN-13; hyphens/spaces allowed; checksum validated", required=True)
# What each kind of route can answer besides 200 (CONTRACT 2 error body).
SEARCH_ERRORS = api.errors(InvalidQuery, RateLimitExceeded, ProviderUnavailable)
ISBN_ERRORS = api.errors(MissingParameter, InvalidIsbn, RateLimitExceeded, ProviderUnavailable)
SEARCH_OK = api.ok(api.ref("SearchPayload"), "Merged results; not found is 200 with empty arrays")
LEGACY_VOLUMES = {200: OpenApiResponse(api.ref("LegacyVolumes")), **SEARCH_ERRORS}
EXTERNAL = {
    200: OpenApiResponse(api.ref("ExternalPayload")),
    **api.errors(MissingParameter, InvalidQuery, InvalidIsbn, RateLimitExceeded, ProviderUnavailable),
}
EXTERNAL_AUTHOR = {**EXTERNAL, 200: OpenApiResponse(api.ref("LegacyAuthorWorks"))}
CAPABILITIES = {
    200: OpenApiResponse(
        {
            **api.envelope(api.ref("V3Capabilities")),
            "description": "The v1 envelope, with features, limits and version repeated at the top level.",
            "allOf": [api.ref("V3Capabilities")],
        }
    )
}
TITLE = _p("title", "Title")
AUTHOR = _p("author", "Author")


def _params(request: Request):
    """GET query params, or the JSON/form body of a legacy POST."""
    if request.method == "POST" and isinstance(request.data, dict) and request.data:
        merged = dict(request.query_params.items())
        merged.update({k: v for k, v in request.data.items()})
        return merged
    return request.query_params


def _meta(result) -> ResponseMeta:
    return ResponseMeta(provider=result.provider, cached=result.cached, cache_source=result.cache_source)


class SearchView(LeanGetMixin, APIView):
    # Search routes: public, JSON only; GETs take the lean path (booktrack.core.lean). (A comment, not
    # a docstring: the OpenAPI document would show it as every route's description.)

    rate_limit_scope = "search"
    authentication_classes: list = []
    permission_classes: list = []


# --- v1 ------------------------------------------------------------------------------------------


class V1TitleSearch(SearchView):
    @extend_schema(
        parameters=[Q, LIMIT, OFFSET],
        responses={**SEARCH_OK, **SEARCH_ERRORS},
        tags=["search"],
        summary="Search books by title (merged across providers)",
    )
    def get(self, request: Request) -> Response:
        query = TitleQuery.parse(request.query_params)
        answer = services.book_answer_by_title(query=query.q, limit=query.limit, offset=query.offset)
        return success(request, answer.payload, meta=_meta(answer.result))


class V1IsbnSearch(SearchView):
    @extend_schema(
        parameters=[ISBN],
        responses={**SEARCH_OK, **ISBN_ERRORS},
        tags=["search"],
        summary="Look a book up by ISBN-10 or ISBN-13",
    )
    def get(self, request: Request) -> Response:
        query = IsbnQuery.parse(request.query_params)  # missing -> MISSING_PARAMETER, bad -> INVALID_ISBN
        answer = services.book_answer_by_isbn(isbn=query.isbn13)
        return success(request, answer.payload, meta=_meta(answer.result))


class V1AdvancedSearch(SearchView):
    @extend_schema(
        parameters=[TITLE, AUTHOR, LIMIT],
        responses={**SEARCH_OK, **SEARCH_ERRORS},
        tags=["search"],
        summary="Search by title and/or author",
    )
    def get(self, request: Request) -> Response:
        query = AdvancedQuery.parse(request.query_params)
        answer = services.book_answer_advanced(title=query.title, author=query.author, limit=query.limit)
        return success(request, answer.payload, meta=_meta(answer.result))


# --- legacy (raw bodies) -----------------------------------------------------------------------------


class LegacyTitleSearch(SearchView):
    @extend_schema(
        parameters=[Q, _p("maxResults", "Page size", type_=OpenApiTypes.INT), OFFSET],
        responses=LEGACY_VOLUMES,
        tags=["legacy"],
        summary="Legacy title search (Google-Books-like body)",
    )
    def get(self, request: Request) -> Response:
        params = _params(request)
        if params.get("maxResults") and not params.get("limit"):
            params = {**dict(params.items()), "limit": params.get("maxResults")}
        query = TitleQuery.parse(params)
        result = services.book_search_by_title(query=query.q, limit=query.limit, offset=query.offset)
        return Response(wire.legacy_volumes(result))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=LEGACY_VOLUMES, tags=["legacy"])
    def post(self, request: Request) -> Response:
        return self.get(request)


class LegacyIsbnSearch(SearchView):
    @extend_schema(parameters=[ISBN], responses=LEGACY_VOLUMES, tags=["legacy"], summary="Legacy ISBN search")
    def get(self, request: Request) -> Response:
        query = IsbnQuery.parse(_params(request))
        result = services.book_search_by_isbn(isbn=query.isbn13)
        return Response(wire.legacy_volumes(result))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=LEGACY_VOLUMES, tags=["legacy"])
    def post(self, request: Request) -> Response:
        return self.get(request)


# Clients may keep a legacy advanced answer for 6 hours (the apps were written against this header).
LEGACY_ADVANCED_CACHE_CONTROL = "public, max-age=21600"
LEGACY_ADVANCED_PARAMS = [
    _p("title", "Title (alias: bookTitle)"),
    _p("bookTitle", "Title, as the apps spell it"),
    _p("author", "Author (alias: authorName)"),
    _p("authorName", "Author, as the apps spell it"),
    _p(
        "maxResults",
        f"Results, 1-{LegacyAdvancedQuery.MAX_RESULTS} (default {LegacyAdvancedQuery.DEFAULT_RESULTS}; alias: limit)",
        type_=limit_param(1, LegacyAdvancedQuery.MAX_RESULTS, LegacyAdvancedQuery.DEFAULT_RESULTS),
    ),
]
LEGACY_ADVANCED_ERRORS = api.errors(InvalidQuery, RateLimitExceeded, ProviderUnavailable)


class LegacyAdvancedSearch(SearchView):
    @extend_schema(
        parameters=[
            *LEGACY_ADVANCED_PARAMS,
            OpenApiParameter(
                "Cache-Control",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                description=f"`{LEGACY_ADVANCED_CACHE_CONTROL}`",
            ),
        ],
        responses={200: OpenApiResponse(api.ref("LegacyAdvancedVolumes")), **LEGACY_ADVANCED_ERRORS},
        tags=["legacy"],
        summary="Legacy advanced search (title and/or author)",
        description="Either spelling of each parameter; neither a title nor an author -> 400 `INVALID_QUERY`.",
    )
    def get(self, request: Request) -> Response:
        return Response(self._answer(request.query_params), headers={"Cache-Control": LEGACY_ADVANCED_CACHE_CONTROL})

    @extend_schema(
        request={
            "application/json": api.ref("LegacyAdvancedRequest"),
            "application/x-www-form-urlencoded": api.ref("LegacyAdvancedRequest"),
        },
        responses={200: OpenApiResponse(api.ref("LegacyAdvancedVolumes")), **LEGACY_ADVANCED_ERRORS},
        tags=["legacy"],
        summary="Legacy advanced search, parameters in a JSON body",
    )
    def post(self, request: Request) -> Response:
        return Response(self._answer(_params(request)))

    @staticmethod
    def _answer(params) -> dict:
        query = LegacyAdvancedQuery.parse(params)
        result = services.book_search_advanced(title=query.title, author=query.author, limit=query.limit)
        return wire.legacy_advanced(result)


class LegacyAuthorSearch(SearchView):
    @extend_schema(
        parameters=[
            Q,
            LIMIT,
            _p("maxResults", "Alias of limit", type_=OpenApiTypes.INT),
            OFFSET,
            _p("sortBy", "publicationYear (default, newest first), publicationYearAsc, title, popularity"),
        ],
        responses={200: OpenApiResponse(api.ref("LegacyAuthorWorks")), **SEARCH_ERRORS},
        tags=["legacy"],
        summary="An author's works (paged)",
    )
    def get(self, request: Request) -> Response:
        query = AuthorQuery.parse(request.query_params)
        works = services.author_works_search(
            name=query.name, limit=query.limit, offset=query.offset, sort_by=query.sort_by
        )
        return Response(wire.legacy_author(works, limit=query.limit, offset=query.offset))


# --- external (one provider, raw) ------------------------------------------------------------------------


def _external(request: Request, *, provider: str, operation: str, param_names: tuple[str, ...]) -> Response:
    params = request.query_params
    # The author route pages like /search/author (1-100); the others return one provider page (1-40).
    limit = external_limit(params, max_limit=100 if operation == "author" and provider == "openlibrary" else 40)
    if operation == "isbn":
        query = IsbnQuery.parse(params)
        result = services.provider_search(provider=provider, operation="isbn", isbn=query.isbn13, limit=limit)
    elif operation == "advanced":
        title = RequiredText.parse(params, *param_names).value
        result = services.provider_search(
            provider=provider, operation="advanced", title=title, author=params.get("author") or None, limit=limit
        )
    elif operation == "author":
        name = RequiredText.parse(params, *param_names).value
        if provider == "openlibrary":
            works = services.author_works_search(name=name, limit=limit, offset=0)
            return Response({**wire.legacy_author(works, limit=limit, offset=0), "provider": provider})
        result = services.provider_search(provider=provider, operation="author", author=name, limit=limit)
    else:
        query = RequiredText.parse(params, *param_names).value
        result = services.provider_search(provider=provider, operation="title", query=query, limit=limit)
    return Response(wire.external(result, provider=provider))


def _external_view(provider: str, operation: str, *param_names: str, summary: str):
    class View(SearchView):
        @extend_schema(
            parameters=[_p(param_names[0], summary, required=True), LIMIT],
            responses=EXTERNAL_AUTHOR if operation == "author" and provider == "openlibrary" else EXTERNAL,
            tags=["external"],
            summary=summary,
        )
        def get(self, request: Request) -> Response:
            return _external(request, provider=provider, operation=operation, param_names=param_names)

    View.__name__ = View.__qualname__ = f"External_{provider.replace('-', '_')}_{operation}"
    return View


ExternalGoogleBooks = _external_view("google-books", "title", "q", summary="Google Books search (normalized)")
ExternalGoogleBooksIsbn = _external_view("google-books", "isbn", "isbn", summary="Google Books by ISBN")
ExternalOpenLibrary = _external_view("openlibrary", "title", "q", summary="OpenLibrary search (normalized)")
ExternalOpenLibraryAuthor = _external_view(
    "openlibrary", "author", "q", "author", "name", summary="OpenLibrary author works"
)
ExternalIsbndb = _external_view("isbndb", "title", "q", summary="ISBNdb search (normalized)")
ExternalIsbndbEditions = _external_view("isbndb", "advanced", "title", "q", summary="ISBNdb editions of a title")
ExternalIsbndbIsbn = _external_view("isbndb", "isbn", "isbn", summary="ISBNdb by ISBN")


# --- v3 -------------------------------------------------------------------------------------------------


V3_SEARCH_MODES = ("text",)


class V3BookSearch(SearchView):
    @extend_schema(
        parameters=[
            Q,
            _p("mode", "Search mode", type_={"type": "string", "enum": list(V3_SEARCH_MODES), "default": "text"}),
            _limit(100),
            OFFSET,
            _p("page", "1-based page (when no offset)", type_={"type": "integer", "minimum": 1, "maximum": 1000}),
        ],
        responses={
            **api.ok(api.ref("V3SearchPayload")),
            **SEARCH_ERRORS,
        },
        tags=["v3"],
        summary="Book search for the web client",
    )
    def get(self, request: Request) -> Response:
        mode = request.query_params.get("mode") or "text"
        if mode not in V3_SEARCH_MODES:
            raise InvalidQuery(f"'mode' must be one of {', '.join(V3_SEARCH_MODES)}.", details={"mode": mode})
        query = TitleQuery.parse(request.query_params, max_limit=100)
        result = services.book_search_by_title(query=query.q, limit=query.limit, offset=query.offset)
        books = [b for b in (wire.v3_book(h) for h in result.hits) if b is not None]
        data = {
            "results": books,
            "totalCount": wire.v3_total_count(
                total=result.total_results,
                hits=len(result.hits),
                kept=len(books),
                limit=query.limit,
                offset=query.offset,
            ),
            "query": {"q": query.q, "mode": mode, "limit": query.limit, "offset": query.offset},
        }
        return success(request, data, meta=_meta(result))


class V3BookByIsbn(SearchView):
    @extend_schema(
        responses={
            **api.ok(api.ref("V3Book")),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)"),
            **api.errors(InvalidIsbn, NotFound, RateLimitExceeded, ProviderUnavailable),
        },
        tags=["v3"],
        summary="One book by ISBN (ETag, If-None-Match -> 304)",
    )
    def get(self, request: Request, isbn: str) -> Response:
        isbn13 = isbn_normalize(isbn)
        result = services.book_search_by_isbn(isbn=isbn13)
        book = wire.v3_book(result.hits[0]) if result.hits else None
        if book is None:
            raise NotFound(f"No book with ISBN {isbn}.")
        digest = hashlib.sha256(json.dumps(book, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
        etag = quote_etag(digest)
        response = success(
            request, book, meta=_meta(result), headers={"ETag": etag, "Cache-Control": "public, max-age=3600"}
        )
        # If-None-Match (weak comparison, lists, "*") -> 304 carrying ETag and Cache-Control: Django's rules.
        return get_conditional_response(request, etag=etag, response=response)


class V3Enrich(SearchView):
    @extend_schema(
        request={"application/json": api.ref("V3EnrichRequest")},
        responses={
            **api.ok(api.ref("V3EnrichPayload")),
            **api.errors(
                MissingParameter, InvalidRequest, EmptyBatch, BatchTooLarge, RateLimitExceeded, ProviderUnavailable
            ),
        },
        tags=["v3"],
        summary="Look up 1-50 ISBNs at once",
    )
    def post(self, request: Request) -> Response:
        body = EnrichRequest.parse(request.data)
        wanted = wire.isbns_valid(body.isbns)
        # One unit per valid ISBN against the client's hourly lookup budget (429 when spent).
        client_lookups_charge(identity=client_identity(request), units=len(wanted))
        hits = services.book_lookup_many(isbns=wanted) if wanted else {}
        return success(request, wire.v3_enrich(body.isbns, hits))


class V3Capabilities(SearchView):
    @extend_schema(responses=CAPABILITIES, tags=["v3"], summary="What this server supports")
    def get(self, request: Request) -> Response:
        from search.providers import REGISTRY

        enabled = {p.name: p.enabled() for p in REGISTRY}
        features = {
            "textSearch": True,
            "isbnLookup": True,
            "batchEnrich": True,
            "etag": True,
            "semanticSearch": False,
            "googleBooks": enabled.get("google-books", False),
            "openLibrary": enabled.get("openlibrary", False),
            "isbndb": enabled.get("isbndb", False),
        }
        limits = {
            "maxSearchLimit": 100,
            "maxEnrichIsbns": EnrichRequest.MAX,
            "rateLimitPerMinute": int(settings.RATE_LIMITS["search"][0]),
            "rateLimitWindowSeconds": int(settings.RATE_LIMITS["search"][1]),
        }
        version = settings.APP_VERSION
        body = success(request, {"features": features, "limits": limits, "version": version}).data
        body.update({"features": features, "limits": limits, "version": version})
        return Response(body)


# --- ops ---------------------------------------------------------------------------------------------------


class CacheMetrics(APIView):
    permission_classes = [IsStaffOrOpsToken]

    @extend_schema(
        parameters=[_p("period", "15m, 1h (default), 24h or 7d")],
        responses=OpenApiTypes.OBJECT,
        tags=["ops"],
        summary="Cache hit rates per tier and outbound budgets",
    )
    def get(self, request: Request) -> Response:
        period = request.query_params.get("period") or "1h"
        if period not in ("15m", "1h", "24h", "7d"):
            raise InvalidRequest("'period' must be one of 15m, 1h, 24h, 7d.")
        data = cache_tier_stats(period)
        data["budgets"] = budget_remaining()
        return success(request, data)
