"""Where the cover harvest finds a cover for an ISBN: one source after another (HARVEST_SOURCES order).

A source either knows its cover URL without asking (OpenLibrary's covers by ISBN; a cover URL the
catalog already holds on that source's image host) or asks its metadata API through the search
provider (`search.providers`: the shared outbound session, the search budgets). The image is then
fetched, checked and resized by the image proxy's own code (`harvest.images`: allowed hosts only,
configured base URLs, redirects checked, size and pixel caps), so a harvested cover obeys exactly the
rules of a proxied one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings

from booktrack.core.exceptions import DomainError, NotFound, ProviderUnavailable
from harvest.images import (
    IMAGE_SOURCES,
    RenderedImage,
    image_fetch,
    image_variants_render,
    proxy_target_parse,
)
from search.dto import ProviderPage
from search.providers import BY_NAME

logger = logging.getLogger(__name__)

SourceStatus = Literal["found", "not_found", "failed", "disabled"]
# One metadata lookup's time budget (seconds): a nightly job waits for the outbound budgets, not a user.
LOOKUP_SECONDS = 30.0


class HarvestBudgetExhausted(ProviderUnavailable):
    """The harvest's daily budget is spent: the run stops (never a source failure)."""


@dataclass(frozen=True)
class SourceOutcome:
    source: str
    status: SourceStatus
    url: str = ""
    variants: dict[str, RenderedImage] | None = None
    error: str = ""


@dataclass(frozen=True)
class CoverSource:
    """One cover source: its name, the image hosts that are its own, and how it finds a cover URL."""

    name: str
    hosts: tuple[str, ...]
    # isbn13 -> cover URLs (asks an upstream), or None when the URL is known without asking.
    lookup: Callable[[str], Sequence[str]] | None = None
    direct: Callable[[str], str] | None = None
    enabled: Callable[[], bool] = lambda: True


def _hosts_of(image_source: str) -> tuple[str, ...]:
    return next(s.hosts for s in IMAGE_SOURCES if s.name == image_source)


def _provider_lookup(provider_name: str) -> Callable[[str], Sequence[str]]:
    def lookup(isbn13: str) -> Sequence[str]:
        page: ProviderPage = BY_NAME[provider_name].search_isbn(
            isbn13=isbn13, deadline=time.monotonic() + LOOKUP_SECONDS
        )
        urls = []
        for hit in page.hits:
            if isbn13 in hit.edition.isbns or hit.edition.isbn == isbn13:
                urls += [u for u in (hit.edition.cover_image_url, hit.work.cover_image_url) if u]
        return list(dict.fromkeys(urls))

    return lookup


def openlibrary_cover_url(isbn13: str) -> str:
    # default=false: 404 when OpenLibrary has no cover (otherwise a 1x1 blank answers 200).
    return f"https://covers.openlibrary.org/b/isbn/{isbn13}-L.jpg?default=false"


SOURCES: dict[str, CoverSource] = {
    source.name: source
    for source in (
        CoverSource(
            "isbndb",
            _hosts_of("isbndb"),
            lookup=_provider_lookup("isbndb"),
            enabled=lambda: BY_NAME["isbndb"].enabled(),
        ),
        CoverSource(
            "google-books",
            _hosts_of("google-books"),
            lookup=_provider_lookup("google-books"),
            enabled=lambda: BY_NAME["google-books"].enabled(),
        ),
        CoverSource("openlibrary", _hosts_of("openlibrary"), direct=openlibrary_cover_url),
    )
}


def sources_configured() -> list[CoverSource]:
    """The sources of HARVEST_SOURCES, in order (an unknown name is logged and left out)."""
    out = []
    for name in settings.HARVEST_SOURCES:
        source = SOURCES.get(name.strip())
        if source is None:
            logger.warning("HARVEST_SOURCES names an unknown source %r (known: %s)", name, ", ".join(SOURCES))
            continue
        out.append(source)
    return out


def known_url_for(source: CoverSource, known_urls: Sequence[str]) -> str | None:
    """The first URL the catalog already holds that lives on this source's image hosts. Pure."""
    for url in known_urls:
        host = (urlsplit(url).hostname or "").lower()
        if host in source.hosts:
            return url
    return None


def _image_of(url: str) -> dict[str, RenderedImage] | None:
    """Every size of the image at `url`, or None when there is none (404 or a placeholder)."""
    target = proxy_target_parse(url)
    try:
        data = image_fetch(target=target)
    except NotFound:
        return None
    variants = image_variants_render(data)
    largest = variants["large"]
    if min(largest.width, largest.height) < settings.HARVEST_MIN_COVER_PX:
        return None
    return variants


def cover_from_source(*, source: CoverSource, isbn13: str, known_urls: Sequence[str]) -> SourceOutcome:
    """Ask one source for `isbn13`'s cover. Raises only HarvestBudgetExhausted; anything else an upstream
    or an image does wrong is a `failed` outcome with its reason."""
    if not source.enabled():
        return SourceOutcome(source.name, "disabled")
    try:
        known = known_url_for(source, known_urls)
        if known:
            urls: Sequence[str] = [known]
        elif source.direct is not None:
            urls = [source.direct(isbn13)]
        else:
            assert source.lookup is not None
            urls = source.lookup(isbn13)
        for url in urls:
            variants = _image_of(url)
            if variants is not None:
                return SourceOutcome(source.name, "found", url=url, variants=variants)
        return SourceOutcome(source.name, "not_found")
    except HarvestBudgetExhausted:
        raise
    except DomainError as exc:
        return SourceOutcome(source.name, "failed", error=f"{exc.code}: {exc.message}"[:300])
