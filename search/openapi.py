"""OpenAPI schemas of the search payloads, generated from the DTOs (search.dto) so they cannot drift.

Each DTO field becomes a property under its wire name; always-present fields are `required`,
optional ones (omitted when empty) are not; the contract's enums are the DTO module's own tuples.
Components: Work, Edition, Author, BoundingBox, SearchPayload, V3Book.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any

from booktrack.core.openapi import Schema, obj, ref, register_components
from search import dto

# Per-field constraints the types alone do not say (CONTRACT 3).
_ENUMS: dict[str, tuple[str, ...]] = {
    "format": dto.FORMATS,
    "gender": dto.GENDERS,
    "cultural_region": dto.CULTURAL_REGIONS,
    "review_status": dto.REVIEW_STATUSES,
    "primary_provider": dto.PROVIDERS,
    "contributors": dto.PROVIDERS,
}
_EXTRA: dict[str, Schema] = {
    "isbndb_quality": {"minimum": 0, "maximum": 100},
    "page_count": {"minimum": 1},
    "publication_date": {"pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
    "isbn": {"pattern": r"^(\d{13}|\d{9}[\dX])$"},
}


def _type_schema(hint: Any, field_name: str) -> Schema:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _type_schema(inner, field_name)
    if hint is dto.BoundingBox:
        return ref("BoundingBox")
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = {"type": "string"}
        if field_name in _ENUMS:
            item["enum"] = list(_ENUMS[field_name])
        return {"type": "array", "items": item}
    if origin is Mapping or hint is Mapping:
        return {"type": "object", "additionalProperties": {"type": "string"}}
    basic = {str: "string", int: "integer", bool: "boolean", float: "number"}[hint]
    schema: Schema = {"type": basic, **_EXTRA.get(field_name, {})}
    if field_name in _ENUMS:
        schema["enum"] = list(_ENUMS[field_name])
    return schema


def dto_schema(cls: type, description: str) -> Schema:
    """The wire form of `cls` (search.dto.to_wire) as a JSON Schema object."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Schema] = {}
    required: list[str] = []
    wire_names = dto.field_wire_names(cls)
    for f in fields(cls):
        if f.metadata.get("internal"):
            continue
        if f.name == "provenance":
            properties["provenance"] = {
                "type": "object",
                "additionalProperties": {"type": "string", "enum": list(dto.PROVIDERS)},
                "description": "Field (wire name) -> the provider that supplied it; present when any did.",
            }
            continue
        name = wire_names[f.name]
        properties[name] = _type_schema(hints[f.name], f.name)
        if f.default is not None or (f.default is MISSING and f.default_factory is MISSING):
            required.append(name)
    return {"type": "object", "description": description, "required": required, "properties": properties}


V3_BOOK: Schema = {
    "type": "object",
    "description": "The web client's Book (CONTRACT 4); results without an ISBN-13 are left out.",
    "required": ["isbn", "title", "authors", "provider", "quality"],
    "properties": {
        "isbn": {"type": "string", "pattern": r"^\d{13}$"},
        "title": {"type": "string"},
        "authors": {"type": "array", "items": {"type": "string"}},
        "provider": {"type": "string", "enum": ["google_books", "open_library", "isbndb"]},
        "quality": {"type": "integer", "minimum": 0, "maximum": 100},
        "isbn10": {"type": "string", "pattern": r"^\d{9}[\dX]$"},
        "subtitle": {"type": "string"},
        "publisher": {"type": "string"},
        "publishedDate": {"type": "string"},
        "description": {"type": "string"},
        "pageCount": {"type": "integer", "minimum": 1},
        "categories": {"type": "array", "items": {"type": "string"}},
        "language": {"type": "string"},
        "coverUrl": {"type": "string"},
        "thumbnailUrl": {"type": "string"},
        "coverUrls": {
            "type": "object",
            "properties": {k: {"type": "string"} for k in ("small", "medium", "large")},
        },
        "workKey": {"type": "string"},
        "editionKey": {"type": "string"},
    },
}

register_components(
    {
        "BoundingBox": {
            "type": "object",
            "description": "Where a book sits on a shelf photo, normalised 0-1.",
            "required": ["x", "y", "width", "height"],
            "properties": {k: {"type": "number", "minimum": 0, "maximum": 1} for k in ("x", "y", "width", "height")},
        },
        "Work": dto_schema(dto.WorkDTO, "A work (CONTRACT 3), merged field by field across providers."),
        "Edition": dto_schema(dto.EditionDTO, "An edition (CONTRACT 3); `isbn` is the ISBN-13 when known."),
        "Author": dto_schema(dto.AuthorDTO, "An author (CONTRACT 3), with facts from Wikidata when known."),
        "SearchPayload": {
            "type": "object",
            "description": "Works and editions are parallel arrays: index i of each belong together.",
            "required": ["works", "editions", "authors", "totalResults"],
            "properties": {
                "works": {"type": "array", "items": ref("Work")},
                "editions": {"type": "array", "items": ref("Edition")},
                "authors": {"type": "array", "items": ref("Author")},
                "totalResults": {"type": "integer", "minimum": 0},
            },
        },
        "V3Book": V3_BOOK,
        "LegacyVolumes": {
            "type": "object",
            "description": "The legacy Google-Books-like body (CONTRACT 4), raw (no envelope).",
            "required": ["kind", "totalItems", "items", "provider", "cached"],
            "properties": {
                "kind": {"type": "string", "enum": ["books#volumes"]},
                "totalItems": {"type": "integer", "minimum": 0},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind", "id", "volumeInfo"],
                        "properties": {
                            "kind": {"type": "string", "enum": ["books#volume"]},
                            "id": {"type": "string"},
                            "volumeInfo": {
                                "type": "object",
                                "required": ["title", "authors", "industryIdentifiers", "categories"],
                                "properties": {
                                    "title": {"type": "string"},
                                    "subtitle": {"type": "string"},
                                    "authors": {"type": "array", "items": {"type": "string"}},
                                    "publisher": {"type": "string"},
                                    "publishedDate": {"type": "string"},
                                    "description": {"type": "string"},
                                    "industryIdentifiers": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["type", "identifier"],
                                            "properties": {
                                                "type": {"type": "string", "enum": ["ISBN_13", "ISBN_10"]},
                                                "identifier": {"type": "string"},
                                            },
                                        },
                                    },
                                    "pageCount": {"type": "integer", "minimum": 1},
                                    "categories": {"type": "array", "items": {"type": "string"}},
                                    "language": {"type": "string"},
                                    "imageLinks": {
                                        "type": "object",
                                        "properties": {
                                            "thumbnail": {"type": "string"},
                                            "smallThumbnail": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
                "provider": {"type": "string"},
                "cached": {"type": "boolean"},
            },
        },
        "LegacyAuthorWorks": {
            "type": "object",
            "description": "An author's works, paged (raw). Unknown author: success false, works [], pagination null.",
            "required": ["success", "provider", "author", "works", "pagination", "cached"],
            "properties": {
                "success": {"type": "boolean"},
                "provider": {"type": "string"},
                "author": {
                    "type": "object",
                    "nullable": True,
                    "required": ["name", "openLibraryKey", "totalWorks"],
                    "properties": {
                        "name": {"type": "string"},
                        "openLibraryKey": {"type": "string", "nullable": True},
                        "totalWorks": {"type": "integer", "nullable": True},
                    },
                },
                "works": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["title", "openLibraryWorkKey", "firstPublicationYear", "editions"],
                        "properties": {
                            "title": {"type": "string"},
                            "openLibraryWorkKey": {"type": "string", "nullable": True},
                            "firstPublicationYear": {"type": "integer", "nullable": True},
                            "editions": {"type": "array", "items": {}},
                        },
                    },
                },
                "pagination": {
                    "type": "object",
                    "nullable": True,
                    "required": ["total", "limit", "offset", "hasMore", "nextOffset"],
                    "properties": {
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "hasMore": {"type": "boolean"},
                        "nextOffset": {"type": "integer", "nullable": True},
                    },
                },
                "cached": {"type": "boolean"},
            },
        },
        "ExternalPayload": {
            "type": "object",
            "description": "One provider's normalized answer (raw, for debugging a provider).",
            "required": ["works", "editions", "authors", "totalResults", "provider", "cached", "source"],
            "properties": {
                "works": {"type": "array", "items": ref("Work")},
                "editions": {"type": "array", "items": ref("Edition")},
                "authors": {"type": "array", "items": ref("Author")},
                "totalResults": {"type": "integer", "minimum": 0},
                "provider": {"type": "string"},
                "cached": {"type": "boolean"},
                "source": {"type": "string", "enum": list(dto.PROVIDERS)},
            },
        },
    }
)


INT = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
TEXT = {"type": "string"}

register_components(
    {
        "V3SearchPayload": obj(
            {
                "results": {"type": "array", "items": ref("V3Book")},
                "totalCount": COUNT,
                "query": obj({"q": TEXT, "mode": TEXT, "limit": INT, "offset": INT}),
            }
        ),
        "V3EnrichRequest": obj({"isbns": {"type": "array", "minItems": 1, "maxItems": 50, "items": TEXT}}),
        "V3EnrichPayload": obj(
            {
                "books": {"type": "array", "items": ref("V3Book")},
                "found": COUNT,
                "requested": {"type": "integer", "minimum": 1},
                "notFound": {"type": "array", "items": TEXT},
            },
            description="found + len(notFound) == requested; books holds each book once, in request order.",
        ),
        "V3Capabilities": obj(
            {
                "features": {"type": "object", "additionalProperties": {"type": "boolean"}},
                "limits": {"type": "object", "additionalProperties": INT},
                "version": TEXT,
            }
        ),
        "EditionsPayload": obj(
            {"editions": {"type": "array", "items": ref("Edition")}, "totalResults": COUNT, "workTitle": TEXT}
        ),
    }
)


def limit_param(low: int, high: int, default: int) -> Schema:
    """A page-size parameter's schema (the range the route validates)."""
    return {"type": "integer", "minimum": low, "maximum": high, "default": default}


# The legacy advanced search (CONTRACT 4): both spellings of each parameter, body = LegacyVolumes + success.
register_components(
    {
        "LegacyAdvancedRequest": {
            "type": "object",
            "description": "Give a title, an author, or both (either spelling of each; `title`/`author` win "
            "when both spellings are sent). Neither -> 400 `INVALID_QUERY`.",
            "properties": {
                "title": TEXT,
                "bookTitle": {"type": "string", "description": "Alias of title"},
                "author": TEXT,
                "authorName": {"type": "string", "description": "Alias of author"},
                "maxResults": {**limit_param(1, 40, 20), "description": "Alias: limit"},
            },
        },
        "LegacyAdvancedVolumes": {
            "description": "The legacy Google-Books-like body with `success: true` (raw, no envelope).",
            "allOf": [
                ref("LegacyVolumes"),
                {
                    "type": "object",
                    "required": ["success"],
                    "properties": {"success": {"type": "boolean", "enum": [True]}},
                },
            ],
        },
    }
)
