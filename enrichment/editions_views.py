"""`GET /v1/editions/search` (CONTRACT 4): editions of one work, best first.

Thin: parse and validate the query, call `editions_discover_result`, render the v1 envelope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booktrack.core import openapi as api
from booktrack.core.envelope import ResponseMeta, success
from booktrack.core.exceptions import (
    InvalidQuery,
    MissingParameter,
    NotFound,
    ProviderUnavailable,
    RateLimitExceeded,
)
from enrichment.editions import DEFAULT_FORMAT_ORDER, editions_discover_result, scored_editions_wire
from search.dto import FORMATS, clean_text

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
_ISO_639_1 = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class EditionsQuery:
    work_title: str
    author: str | None
    limit: int
    format: str | None
    language: str | None

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> EditionsQuery:
        work_title = clean_text(params.get("workTitle"))
        if not work_title:
            raise MissingParameter("The 'workTitle' parameter is required.", details={"parameter": "workTitle"})
        raw_limit = clean_text(params.get("limit"))
        limit = DEFAULT_LIMIT
        if raw_limit is not None:
            try:
                limit = int(raw_limit)
            except ValueError:
                raise InvalidQuery("'limit' must be an integer.", details={"limit": raw_limit}) from None
            if not 1 <= limit <= MAX_LIMIT:
                raise InvalidQuery(f"'limit' must be between 1 and {MAX_LIMIT}.", details={"limit": limit})
        fmt = clean_text(params.get("format"))
        if fmt is not None and fmt not in FORMATS:
            raise InvalidQuery(f"'format' must be one of {', '.join(FORMATS)}.", details={"format": fmt})
        language = clean_text(params.get("language"))
        if language is not None:
            language = language.lower()
            if not _ISO_639_1.match(language):
                raise InvalidQuery(
                    "'language' must be an ISO 639-1 code (two letters).", details={"language": language}
                )
        return cls(
            work_title=work_title,
            author=clean_text(params.get("author")),
            limit=limit,
            format=fmt,
            language=language,
        )


def _param(name: str, description: str, *, required: bool = False, type_=OpenApiTypes.STR, enum=None):
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, required=required, description=description, enum=enum)


class EditionsSearchView(APIView):
    rate_limit_scope = "search"
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        parameters=[
            _param("workTitle", "The work's title", required=True),
            _param("author", "The work's author (narrows namesake works)"),
            _param(
                "limit",
                f"Editions to return, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})",
                type_={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            ),
            _param(
                "format",
                "Preferred format, ranked first (default order: " + " > ".join(DEFAULT_FORMAT_ORDER) + ")",
                enum=list(FORMATS),
            ),
            _param("language", "Preferred language (ISO 639-1), ranked first"),
        ],
        responses={
            **api.ok(api.ref("EditionsPayload")),
            **api.errors(MissingParameter, InvalidQuery, NotFound, RateLimitExceeded, ProviderUnavailable),
        },
        tags=["enrichment"],
        summary="Editions of one work, deduplicated by ISBN-13, best first",
        description=(
            "data: {editions: [EditionDTO], totalResults: distinct editions found, workTitle}. "
            "404 NOT_FOUND when no edition is found."
        ),
    )
    def get(self, request: Request) -> Response:
        query = EditionsQuery.parse(request.query_params)
        found = editions_discover_result(
            work_title=query.work_title,
            author=query.author,
            limit=query.limit,
            format_preference=query.format,
            language=query.language,
        )
        if not found.editions:
            raise NotFound(f"No editions found for '{query.work_title}'.")
        data = {
            "editions": scored_editions_wire(found.editions),
            "totalResults": found.total_results,
            "workTitle": query.work_title,
        }
        meta = ResponseMeta(provider=found.provider, cached=found.cached, cache_source=found.cache_source)
        return success(request, data, meta=meta)
