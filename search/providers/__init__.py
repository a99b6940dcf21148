"""The provider registry: data, in merge-priority order (first = preferred when values tie)."""

from __future__ import annotations

from search.providers.base import Provider
from search.providers.google_books import GoogleBooksProvider
from search.providers.isbndb import IsbndbProvider
from search.providers.openlibrary import OpenLibraryProvider

REGISTRY: tuple[Provider, ...] = (GoogleBooksProvider(), OpenLibraryProvider(), IsbndbProvider())
BY_NAME: dict[str, Provider] = {p.name: p for p in REGISTRY}
PRIORITY: dict[str, int] = {p.name: p.priority for p in REGISTRY}


def provider_get(name: str) -> Provider:
    return BY_NAME[name]


def providers_enabled(operation: str) -> tuple[Provider, ...]:
    """Enabled providers that support `operation` ("search_isbn", "search_title", "search_advanced")."""
    return tuple(p for p in REGISTRY if p.enabled() and p.supports(operation))
