"""OpenAPI pieces shared by every app: the v1 envelope, the contract's error body, components.

Apps describe their payloads as JSON Schema (generated from their DTOs where they have them) and
register them as named components here; `add_components` (a drf-spectacular postprocessing hook)
puts them into the document, and views refer to them with `ref("Name")`. Error responses list the
contract codes a route can answer with, from the domain errors themselves (booktrack.core.exceptions).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

from booktrack.core import exceptions

Schema = dict[str, Any]

_components: dict[str, Schema] = {}


def register_components(schemas: dict[str, Schema]) -> None:
    """Add named schemas to `#/components/schemas` (idempotent; a name keeps its first schema)."""
    for name, schema in schemas.items():
        _components.setdefault(name, schema)


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def add_components(result: Schema, generator: Any, request: Any, public: bool) -> Schema:
    """drf-spectacular postprocessing hook: the registered components join the document."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in _components.items():
        schemas.setdefault(name, schema)
    return result


def _error_codes() -> dict[int, list[str]]:
    by_status: dict[int, list[str]] = {}
    pending: list[type[exceptions.DomainError]] = [exceptions.DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        codes = by_status.setdefault(cls.status, [])
        if cls.code not in codes:
            codes.append(cls.code)
    return {status: sorted(codes) for status, codes in by_status.items()}


register_components(
    {
        "ResponseMetadata": {
            "type": "object",
            "required": ["timestamp", "requestId", "processingTime"],
            "properties": {
                "timestamp": {"type": "string", "format": "date-time"},
                "requestId": {"type": "string", "nullable": True},
                "processingTime": {"type": "integer", "minimum": 0, "description": "Milliseconds"},
                "provider": {"type": "string", "description": "`none`, a provider, or `merged:a+b`"},
                "cached": {"type": "boolean"},
                "cacheSource": {"type": "string", "enum": ["EDGE_FRESH", "EDGE_STALE", "KV", "CATALOG"]},
            },
        },
        "Error": {
            "type": "object",
            "required": ["success", "data", "metadata", "error"],
            "properties": {
                "success": {"type": "boolean", "enum": [False]},
                "data": {"nullable": True, "enum": [None]},
                "metadata": ref("ResponseMetadata"),
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "enum": sorted({c for cs in _error_codes().values() for c in cs})},
                        "message": {"type": "string"},
                        "details": {"type": "object", "additionalProperties": True},
                    },
                },
            },
        },
    }
)


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = (), description: str = "") -> Schema:
    """An object schema whose properties are all required but `optional`."""
    schema: Schema = {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def envelope(data: Schema) -> Schema:
    """`{success: true, data, metadata}` (CONTRACT 2)."""
    return {
        "type": "object",
        "required": ["success", "data", "metadata"],
        "properties": {
            "success": {"type": "boolean", "enum": [True]},
            "data": data,
            "metadata": ref("ResponseMetadata"),
        },
    }


def ok(data: Schema, description: str = "") -> dict[int, OpenApiResponse]:
    return {200: OpenApiResponse(response=envelope(data), description=description)}


def errors(*errors: type[exceptions.DomainError]) -> dict[int, OpenApiResponse]:
    """The contract's error body for each status among `errors`, naming the codes the route uses."""
    by_status: dict[int, list[str]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error.code)
    return {
        status: OpenApiResponse(response=ref("Error"), description="`error.code`: " + ", ".join(codes))
        for status, codes in sorted(by_status.items())
    }
