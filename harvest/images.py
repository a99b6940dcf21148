"""Image proxy (CONTRACT 9): `GET /images/proxy?url=&size=small|medium|large`.

Pure part: which URLs may be fetched (`proxy_target_parse`), what counts as a public address
(`ip_is_public`), the cache key, decoding and resizing (`image_decode`, `image_resize`). Service part: `image_proxy_get`
fetches through the shared outbound session (`booktrack.core.http`), stores every size in object
storage (`default_storage`) and answers from storage on the next request.

Security rules (the old proxy was an open relay and collapsed every Google cover onto one key):

- Only the cover hosts of `IMAGE_SOURCES`, over http/https, without userinfo or an explicit port.
  A literal IP is never an allowed host; one in a private, loopback, link-local or reserved range
  (IPv4-mapped IPv6 included) is named as such in the 403.
- The URL's path and query are fetched through the source's configured base URL
  (`GOOGLE_BOOKS_COVERS_BASE_URL`, ...), so tests and offline demos point at local fakes. A base URL
  on one of the public cover hosts is resolved before every connection and each address it resolves
  to must be public, and the address actually connected to is checked again before anything is read
  (DNS rebinding); any other base URL is operator configuration (a fake, a mirror) and is trusted.
  Such a base is only ever reached as the configured base, never through the `url` parameter.
- Redirects are followed by hand, at most `IMAGE_PROXY_MAX_REDIRECTS`, and only to the host that
  answered (or the original URL's host, mapped through the base again); anything else is 403.
- The body is streamed and dropped past `IMAGE_PROXY_MAX_BYTES`; only `image/*` is read; the pixel
  count is checked from the header before decoding (decompression bombs).
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from booktrack.core.exceptions import (
    Forbidden,
    InvalidRequest,
    MissingParameter,
    NotFound,
    ProviderError,
    ProviderUnavailable,
)
from booktrack.core.http import upstream_client

if TYPE_CHECKING:
    import requests
    from PIL.Image import Image as PilImage

SIZES = ("small", "medium", "large")
DEFAULT_SIZE = "medium"
MAX_URL_LENGTH = 2048
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
STORAGE_PREFIX = "image-proxy"
_CHUNK = 64 * 1024

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageSource:
    """One cover host family and the setting naming the base URL it is fetched through."""

    name: str
    hosts: tuple[str, ...]
    base_url_setting: str


IMAGE_SOURCES: tuple[ImageSource, ...] = (
    ImageSource("google-books", ("books.google.com", "books.googleusercontent.com"), "GOOGLE_BOOKS_COVERS_BASE_URL"),
    ImageSource("openlibrary", ("covers.openlibrary.org",), "OPENLIBRARY_COVERS_BASE_URL"),
    ImageSource("isbndb", ("images.isbndb.com",), "ISBNDB_IMAGES_BASE_URL"),
    ImageSource("amazon", ("m.media-amazon.com", "images-na.ssl-images-amazon.com"), "AMAZON_IMAGES_BASE_URL"),
)
_SOURCE_BY_HOST = {host: source for source in IMAGE_SOURCES for host in source.hosts}
PUBLIC_COVER_HOSTS = frozenset(_SOURCE_BY_HOST)


@dataclass(frozen=True)
class ProxyTarget:
    """A validated `url` parameter: its normalized form (the cache identity) and where it is fetched."""

    url: str
    host: str
    path_and_query: str
    source: ImageSource


@dataclass(frozen=True)
class RenderedImage:
    content: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class ProxiedImage:
    content: bytes
    content_type: str
    etag: str
    cached: bool


# --- pure -------------------------------------------------------------------------------------


def ip_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """False for private, loopback, link-local, reserved, shared, multicast and unspecified ranges."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return ip_is_public(mapped)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def size_parse(raw: str | None) -> str:
    if raw is None or raw.strip() == "":
        return DEFAULT_SIZE
    size = raw.strip().lower()
    if size not in SIZES:
        raise InvalidRequest(f"'size' must be one of {', '.join(SIZES)}.", details={"size": raw})
    return size


def proxy_target_parse(raw: str | None) -> ProxyTarget:
    """Validate the `url` parameter: 400 when it is not a URL at all, 403 when it is not allowed."""
    if raw is None or raw.strip() == "":
        raise MissingParameter("The 'url' parameter is required.", details={"parameter": "url"})
    raw = raw.strip()
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidRequest(
            f"'url' is longer than {MAX_URL_LENGTH} characters.", details={"maxLength": MAX_URL_LENGTH}
        )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidRequest("'url' is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise InvalidRequest("'url' must be an absolute http(s) URL.")
    if scheme not in ("http", "https"):
        raise Forbidden("Only http and https image URLs are proxied.", details={"reason": "scheme", "scheme": scheme})
    if not parts.netloc:
        raise InvalidRequest("'url' must be an absolute http(s) URL.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Forbidden("Image URLs with credentials are not proxied.", details={"reason": "userinfo"})
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise InvalidRequest("'url' has no host.")
    literal = _literal_ip(host)
    if literal is not None:
        reason = "address" if not ip_is_public(literal) else "host"
        raise Forbidden(
            f"Images are proxied from the allowed cover hosts only, not {host}.", details={"reason": reason}
        )
    source = _SOURCE_BY_HOST.get(host)
    if source is None:
        raise Forbidden(
            f"Images are proxied from the allowed cover hosts only, not {host}.", details={"reason": "host"}
        )
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        raise Forbidden("Image URLs with a non-standard port are not proxied.", details={"reason": "port"})
    # Normalized identity: lower-case scheme and host, no default port, no fragment, query pairs kept
    # whole and sorted. Every parameter stays in the key: Google covers differ only by `id=`.
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    path = parts.path or "/"
    url = urlunsplit((scheme, host, path, query, ""))
    path_and_query = path + (f"?{query}" if query else "")
    return ProxyTarget(url=url, host=host, path_and_query=path_and_query, source=source)


def storage_key(url: str, size: str) -> str:
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
    return f"{STORAGE_PREFIX}/{digest[:2]}/{digest}-{size}"


def content_type_of(content: bytes) -> str:
    return "image/png" if content.startswith(b"\x89PNG\r\n\x1a\n") else "image/jpeg"


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def image_decode(data: bytes, *, max_pixels: int) -> PilImage:
    """Decode upstream bytes into an upright RGB/RGBA Pillow image (EXIF orientation applied).

    Raises ProviderError for bytes that are not a decodable image or have too many pixels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            # Image.open reads only the header: refuse a decompression bomb before decoding it.
            width, height = opened.size
            if width * height > max_pixels:
                raise ProviderError(
                    "The upstream image has too many pixels.",
                    details={
                        "reason": "IMAGE_TOO_MANY_PIXELS",
                        "width": width,
                        "height": height,
                        "maxPixels": max_pixels,
                    },
                )
            opened.load()
            image = ImageOps.exif_transpose(opened)
            has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
            return image.convert("RGBA" if has_alpha else "RGB")
    except ProviderError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise ProviderError(
            "The upstream answered with a body that is not a readable image.", details={"reason": "NOT_AN_IMAGE"}
        ) from exc


def image_resize(image: PilImage, *, longest_edge: int) -> RenderedImage:
    """Shrink to `longest_edge` (never enlarge) and re-encode: JPEG, or PNG when there is alpha.

    Nothing of the source's metadata (EXIF, GPS, ICC comments) is copied.
    """
    from PIL import Image

    copy = image.copy()
    copy.thumbnail((longest_edge, longest_edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if copy.mode == "RGBA":
        copy.save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        content_type = "image/jpeg"
    return RenderedImage(out.getvalue(), content_type, copy.width, copy.height)


def image_variants_render(data: bytes) -> dict[str, RenderedImage]:
    """Every size of `IMAGE_PROXY_SIZES` from upstream bytes (decoded once; ProviderError if unusable).

    Shared by the image proxy and the cover harvest (harvest.covers)."""
    image = image_decode(data, max_pixels=settings.IMAGE_PROXY_MAX_PIXELS)
    return {size: image_resize(image, longest_edge=settings.IMAGE_PROXY_SIZES[size]) for size in SIZES}


# --- service ----------------------------------------------------------------------------------


def _base_url(source: ImageSource) -> str:
    return str(getattr(settings, source.base_url_setting)).rstrip("/")


def _host_check_resolves_public(host: str, port: int) -> None:
    """Resolve a public cover host and require every address to be public (before connecting)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ProviderUnavailable(f"{host} could not be resolved.", details={"host": host}) from exc
    for info in infos:
        address = _literal_ip(str(info[4][0]))
        if address is None or not ip_is_public(address):
            raise Forbidden(f"{host} resolves to a non-public address.", details={"reason": "address", "host": host})


def _is_public_cover_host(url: str) -> bool:
    return (urlsplit(url).hostname or "").rstrip(".").lower() in PUBLIC_COVER_HOSTS


def _connection_check(url: str) -> None:
    parts = urlsplit(url)
    if _is_public_cover_host(url):
        _host_check_resolves_public(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))


def _peer_check(response: requests.Response, url: str) -> None:
    """The address actually connected to must be public too (DNS may change between check and connect)."""
    if not _is_public_cover_host(url):
        return
    try:
        # urllib3 2 keeps the live connection on a streamed response; nothing has been read yet.
        peer = response.raw.connection.sock.getpeername()[0]
    except (AttributeError, OSError, IndexError, TypeError):
        peer = None
    address = _literal_ip(str(peer)) if peer is not None else None
    if address is None:
        raise ProviderUnavailable("The image host's address could not be verified.", details={"reason": "peer"})
    if not ip_is_public(address):
        host = urlsplit(url).hostname or ""
        raise Forbidden(f"{host} connected to a non-public address.", details={"reason": "address", "host": host})


def _redirect_target(*, current: str, location: str, target: ProxyTarget, base: str) -> str:
    """The next URL to fetch, or 403 if the redirect leaves the host that answered."""
    nxt = urljoin(current, location.strip())
    parts = urlsplit(nxt)
    if parts.scheme.lower() not in ("http", "https"):
        raise Forbidden("The image redirected to a non-http URL.", details={"reason": "redirect"})
    if parts.username is not None or parts.password is not None:
        raise Forbidden("The image redirected to a URL with credentials.", details={"reason": "redirect"})
    if parts.netloc.lower() == urlsplit(current).netloc.lower():
        return nxt
    host = (parts.hostname or "").rstrip(".").lower()
    if host == target.host and parts.port is None:
        # The upstream names its own public host: go on through the configured base.
        return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    raise Forbidden(
        "The image redirected to another host.", details={"reason": "redirect", "host": parts.hostname or ""}
    )


def _read_capped(response: requests.Response, *, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    too_large = ProviderError(
        "The upstream image is larger than the proxy accepts.",
        details={"reason": "UPSTREAM_TOO_LARGE", "maxBytes": max_bytes},
    )
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, total = [], 0
    for chunk in response.iter_content(_CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def image_fetch(*, target: ProxyTarget) -> bytes:
    """The upstream bytes of an allowed image, redirects followed by hand and every hop checked."""
    base = _base_url(target.source)
    client = upstream_client(f"images-{target.source.name}", base_url=base)
    url = base + target.path_and_query
    max_redirects = settings.IMAGE_PROXY_MAX_REDIRECTS
    for _hop in range(max_redirects + 1):
        _connection_check(url)
        response = client.get(url, headers={"Accept": "image/*"}, allow_redirects=False, stream=True)
        try:
            _peer_check(response, url)
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise ProviderError("The upstream redirected without a Location.", details={"reason": "redirect"})
                url = _redirect_target(current=url, location=location, target=target, base=base)
                continue
            if status in (404, 410):
                raise NotFound("The upstream has no image at this URL.")
            if status >= 400:
                raise ProviderError(
                    f"The upstream answered HTTP {status}.", details={"provider": target.source.name, "status": status}
                )
            content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
            if not content_type.startswith("image/"):
                raise ProviderError(
                    "The upstream answered with something other than an image.",
                    details={"reason": "NOT_AN_IMAGE", "contentType": content_type},
                )
            return _read_capped(response, max_bytes=settings.IMAGE_PROXY_MAX_BYTES)
        finally:
            response.close()
    raise ProviderError("The upstream redirected too many times.", details={"reason": "TOO_MANY_REDIRECTS"})


def _stored(key: str) -> bytes | None:
    """The stored bytes, or None on a miss; a storage outage counts as a miss (the image is refetched)."""
    try:
        if not default_storage.exists(key):
            return None
        with default_storage.open(key, "rb") as handle:
            content: bytes = handle.read()
            return content
    except Exception:  # S3/R2 errors are botocore's, the filesystem's OSError: serving goes on
        logger.exception("Image proxy storage read failed for %s", key)
        return None


def _store(key: str, content: bytes) -> None:
    try:
        if not default_storage.exists(key):
            default_storage.save(key, ContentFile(content))
    except Exception:
        logger.exception("Image proxy storage write failed for %s", key)


def image_proxy_get(*, url: str | None, size: str | None) -> ProxiedImage:
    """The resized image for an allowed cover URL, from storage or fetched, resized and stored."""
    target = proxy_target_parse(url)
    size = size_parse(size)
    content = _stored(storage_key(target.url, size))
    if content is not None:
        return ProxiedImage(content, content_type_of(content), etag_of(content), cached=True)
    rendered = image_variants_render(image_fetch(target=target))
    for each, variant in rendered.items():  # one fetch fills every size
        _store(storage_key(target.url, each), variant.content)
    content = rendered[size].content
    return ProxiedImage(content, content_type_of(content), etag_of(content), cached=False)
