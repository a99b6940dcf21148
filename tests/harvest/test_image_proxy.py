"""`GET /images/proxy` (CONTRACT 9) against the local cover-host fakes.

Real images come from the fakes (Pillow JPEG/PNG); what is served is decoded again with Pillow to
check the pixels. The SSRF rules are exercised with literal addresses, patched DNS and scripted
redirects; no request may reach a fake when the answer is 403.
"""

from __future__ import annotations

import io
import ipaddress
import socket

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from booktrack.core.exceptions import Forbidden, ProviderError, ProviderUnavailable
from harvest import images
from harvest.images import ip_is_public, proxy_target_parse, storage_key
from harvest.views import ImageProxyView

PROXY = "/images/proxy"
AMAZON = "https://m.media-amazon.com/images/I/51dune.jpg"
GOOGLE = "http://books.google.com/books/content?id={id}&printsec=frontcover&img=1&zoom=3&source=gbs_api"
COVER_UPSTREAMS = ("google-covers", "covers", "isbndb-images", "amazon-images")


@pytest.fixture
def proxy(fake, settings, tmp_path):
    """The fakes wired in, object storage in a fresh folder, the default sizes."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.IMAGE_PROXY_SIZES = {"small": 128, "medium": 320, "large": 640}
    return fake


def get(client, url=None, size=None, **headers):
    params = {}
    if url is not None:
        params["url"] = url
    if size is not None:
        params["size"] = size
    return client.get(PROXY, params, **headers)


def pixels(response) -> Image.Image:
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def cover_calls(fake) -> int:
    return sum(fake.count(name) for name in COVER_UPSTREAMS)


# --- allowed hosts, real resizing ---------------------------------------------------------------


@pytest.mark.parametrize(("size", "edge"), [("small", 128), ("medium", 320), ("large", 640)])
def test_image_proxy_resizes_to_each_size(proxy, client, size, edge):
    response = get(client, AMAZON, size)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    image = pixels(response)
    assert image.format == "JPEG"
    # The fake's Amazon image is 1000x1500: the longest edge becomes the size's edge, aspect kept.
    assert image.height == edge
    assert abs(image.width - edge * 1000 / 1500) <= 1
    assert response["Cache-Control"] == "public, max-age=2592000"
    assert response["ETag"].startswith('"') and len(response["ETag"]) == 34


def test_image_proxy_never_enlarges(proxy, client, settings):
    settings.IMAGE_PROXY_SIZES = {"small": 128, "medium": 320, "large": 2000}

    image = pixels(get(client, AMAZON, "large"))

    assert image.size == (1000, 1500)


def test_image_proxy_defaults_to_medium(proxy, client):
    assert pixels(get(client, AMAZON)).height == 320


@pytest.mark.parametrize(
    ("url", "upstream", "source_size"),
    [
        (GOOGLE.format(id="zyTCAlFPjgYC"), "google-covers", (512, 768)),
        ("https://books.googleusercontent.com/books/content?id=abc&zoom=2", "google-covers", (256, 384)),
        ("https://covers.openlibrary.org/b/isbn/9780441172719-L.jpg", "covers", (400, 600)),
        ("https://images.isbndb.com/covers/27/19/9780441172719.jpg", "isbndb-images", (500, 750)),
        ("https://images-na.ssl-images-amazon.com/images/P/0441172717.jpg", "amazon-images", (1000, 1500)),
    ],
)
def test_image_proxy_fetches_each_allowed_host_through_its_base_url(proxy, client, url, upstream, source_size):
    response = get(client, url, "medium")

    assert response.status_code == 200, response.content[:200]
    assert proxy.count(upstream) == 1
    width, height = pixels(response).size
    assert height == min(320, source_size[1])
    assert abs(width - height * source_size[0] / source_size[1]) <= 1


def test_image_proxy_keeps_google_covers_apart_by_id(proxy, client):
    first = get(client, GOOGLE.format(id="AAAAAAAAAAAA"), "small")
    second = get(client, GOOGLE.format(id="BBBBBBBBBBBB"), "small")

    assert first.status_code == second.status_code == 200
    assert first.content != second.content
    assert first["ETag"] != second["ETag"]
    assert proxy.count("google-covers") == 2
    colour_a = pixels(first).convert("RGB").getpixel((2, 2))
    colour_b = pixels(second).convert("RGB").getpixel((2, 2))
    assert colour_a != colour_b


def test_image_proxy_asks_upstream_for_the_whole_url(proxy, client):
    get(client, GOOGLE.format(id="zyTCAlFPjgYC"), "small")

    (request,) = proxy.requests("google-covers")
    assert request["path"] == "/google-covers/books/content"
    assert request["query"]["id"] == ["zyTCAlFPjgYC"]
    assert request["query"]["zoom"] == ["3"]
    assert request["headers"]["accept"] == "image/*"


# --- caching --------------------------------------------------------------------------------------


def test_image_proxy_cache_hit_does_not_refetch(proxy, client):
    first = get(client, AMAZON, "small")
    again = get(client, AMAZON, "small")
    other_size = get(client, AMAZON, "large")

    assert proxy.count("amazon-images") == 1
    assert first["X-Cache"] == "MISS"
    assert again["X-Cache"] == "HIT" and other_size["X-Cache"] == "HIT"
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert pixels(other_size).height == 640


def test_image_proxy_stores_every_size_under_the_url_hash(proxy, client):
    get(client, AMAZON, "small")

    for size in ("small", "medium", "large"):
        assert default_storage.exists(storage_key(AMAZON, size))


def test_image_proxy_equivalent_urls_share_one_cache_entry(proxy, client):
    get(client, "https://M.Media-Amazon.com:443/images/I/51dune.jpg#frag", "small")
    hit = get(client, AMAZON, "small")

    assert hit["X-Cache"] == "HIT"
    assert proxy.count("amazon-images") == 1


def test_image_proxy_if_none_match_answers_304(proxy, client):
    first = get(client, AMAZON, "small")

    revalidated = get(client, AMAZON, "small", HTTP_IF_NONE_MATCH=first["ETag"])

    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated["ETag"] == first["ETag"]


# --- image handling -----------------------------------------------------------------------------


def test_image_proxy_applies_exif_orientation_and_drops_metadata(proxy, client):
    response = get(client, "https://m.media-amazon.com/images/I/exif-rotated.jpg", "large")

    image = pixels(response)
    # Stored 600x400 with Orientation 6: upright it is a 400x600 portrait, blue half on top.
    assert image.size == (400, 600)
    red, green, blue = image.convert("RGB").getpixel((200, 50))
    assert blue > 150 and red < 100
    assert not image.getexif()


def test_image_proxy_keeps_transparency_as_png(proxy, client):
    response = get(client, "https://m.media-amazon.com/images/I/logo.png", "small")

    assert response["Content-Type"] == "image/png"
    image = pixels(response)
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0
    assert image.height == 128


def test_image_proxy_refuses_a_decompression_bomb(proxy, client, settings):
    settings.IMAGE_PROXY_MAX_PIXELS = 10_000  # the 1000x1500 fake image is far above

    response = get(client, AMAZON, "small")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "PROVIDER_ERROR"
    assert response.json()["error"]["details"]["reason"] == "IMAGE_TOO_MANY_PIXELS"


# --- upstream failures ------------------------------------------------------------------------


def test_image_proxy_non_image_upstream_is_502(proxy, client):
    response = get(client, "https://m.media-amazon.com/images/I/html-page.jpg", "small")

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "PROVIDER_ERROR"
    assert error["details"]["reason"] == "NOT_AN_IMAGE"
    assert not default_storage.exists(storage_key("https://m.media-amazon.com/images/I/html-page.jpg", "small"))


def test_image_proxy_truncated_image_is_502(proxy, client):
    proxy.configure("amazon-images", malformed=True)

    response = get(client, AMAZON, "small")

    assert response.status_code == 502
    assert response.json()["error"]["details"]["reason"] == "NOT_AN_IMAGE"


def test_image_proxy_oversized_upstream_body_is_502(proxy, client, settings):
    settings.IMAGE_PROXY_MAX_BYTES = 2_000

    response = get(client, AMAZON, "small")

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "PROVIDER_ERROR"
    assert error["details"] == {"reason": "UPSTREAM_TOO_LARGE", "maxBytes": 2_000}


class _Streaming:
    """A response without Content-Length whose chunks are counted as they are read."""

    def __init__(self, chunks: int, chunk_size: int) -> None:
        self.headers: dict[str, str] = {}
        self.read = 0
        self._chunks, self._size = chunks, chunk_size

    def iter_content(self, _chunk_size):
        for _ in range(self._chunks):
            self.read += 1
            yield b"x" * self._size


def test_read_capped_stops_at_the_cap_without_content_length():
    response = _Streaming(chunks=1000, chunk_size=1024)

    with pytest.raises(ProviderError) as caught:
        images._read_capped(response, max_bytes=10 * 1024)

    assert caught.value.details["reason"] == "UPSTREAM_TOO_LARGE"
    assert response.read == 11  # stopped at the first chunk past the cap, not after 1000


def test_image_proxy_upstream_404_is_404(proxy, client):
    response = get(client, "https://books.google.com/books/content?zoom=1", "small")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


# --- 403: hosts, addresses, schemes, credentials, redirects -------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cover.jpg",
        "https://books.google.com.evil.example/books/content?id=x",
        "http://127.0.0.1/cover.jpg",
        "http://127.0.0.1:8000/images/proxy",
        "http://10.0.0.5/cover.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/cover.jpg",
        "http://[::ffff:127.0.0.1]/cover.jpg",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://2130706433/cover.jpg",
        "http://localhost/cover.jpg",
        "https://user:secret@m.media-amazon.com/images/I/51dune.jpg",
        "https://m.media-amazon.com@evil.example/cover.jpg",
        "ftp://m.media-amazon.com/images/I/51dune.jpg",
        "file:///etc/passwd",
        "gopher://covers.openlibrary.org/b/isbn/9780441172719-L.jpg",
        "https://m.media-amazon.com:8443/images/I/51dune.jpg",
    ],
)
def test_image_proxy_forbids(proxy, client, url):
    response = get(client, url, "small")

    assert response.status_code == 403, response.content[:200]
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert cover_calls(proxy) == 0


def test_image_proxy_forbids_the_configured_fake_base_as_a_url(proxy, client, settings):
    url = settings.AMAZON_IMAGES_BASE_URL + "/images/I/51dune.jpg"  # http://127.0.0.1:<port>/amazon-images/...

    response = get(client, url, "small")

    assert response.status_code == 403
    assert cover_calls(proxy) == 0


def _resolving_to(*addresses: str):
    def getaddrinfo(host, port, *args, **kwargs):
        infos = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            infos.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return infos

    return getaddrinfo


@pytest.mark.parametrize(
    "addresses",
    [("10.1.2.3",), ("93.184.216.34", "192.168.0.7"), ("::1",), ("::ffff:169.254.169.254",), ("fd00::5",)],
)
def test_image_proxy_forbids_a_cover_host_resolving_to_a_private_address(
    proxy, client, settings, monkeypatch, addresses
):
    # The real host as its own base: it is resolved, and every address must be public.
    settings.AMAZON_IMAGES_BASE_URL = "https://m.media-amazon.com"
    monkeypatch.setattr(images.socket, "getaddrinfo", _resolving_to(*addresses))

    response = get(client, AMAZON, "small")

    assert response.status_code == 403
    assert response.json()["error"]["details"]["reason"] == "address"


def test_host_check_accepts_public_addresses(monkeypatch):
    monkeypatch.setattr(images.socket, "getaddrinfo", _resolving_to("151.101.1.1", "2a04:4e42::347"))

    images._host_check_resolves_public("covers.openlibrary.org", 443)  # no exception


def test_image_proxy_forbids_a_redirect_to_another_host(proxy, client):
    proxy.queue("amazon-images", [{"status": 302, "headers": {"Location": "https://evil.example/x.jpg"}}])

    response = get(client, AMAZON, "small")

    assert response.status_code == 403
    assert response.json()["error"]["details"]["reason"] == "redirect"
    assert proxy.count("amazon-images") == 1


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.jpg",
        "https://covers.openlibrary.org/b/isbn/9780441172719-L.jpg",
        "file:///etc/passwd",
        "https://user:pw@m.media-amazon.com/images/I/b.jpg",
    ],
)
def test_image_proxy_forbids_redirects_off_the_host(proxy, client, location):
    proxy.queue("amazon-images", [{"status": 301, "headers": {"Location": location}}])

    response = get(client, AMAZON, "small")

    assert response.status_code == 403
    assert cover_calls(proxy) == 1


def test_image_proxy_follows_a_same_host_redirect(proxy, client):
    proxy.queue("amazon-images", [{"status": 302, "headers": {"Location": "/amazon-images/images/I/moved.jpg"}}])

    response = get(client, AMAZON, "small")

    assert response.status_code == 200
    assert pixels(response).height == 128
    assert [r["path"] for r in proxy.requests("amazon-images")] == [
        "/amazon-images/images/I/51dune.jpg",
        "/amazon-images/images/I/moved.jpg",
    ]


def test_image_proxy_maps_a_redirect_to_the_public_name_through_the_base(proxy, client):
    location = "https://m.media-amazon.com/images/I/moved.jpg"
    proxy.queue("amazon-images", [{"status": 302, "headers": {"Location": location}}])

    response = get(client, AMAZON, "small")

    assert response.status_code == 200
    assert proxy.requests("amazon-images")[-1]["path"] == "/amazon-images/images/I/moved.jpg"


def test_image_proxy_stops_after_too_many_redirects(proxy, client, settings):
    settings.IMAGE_PROXY_MAX_REDIRECTS = 2
    loop = {"status": 302, "headers": {"Location": "/amazon-images/images/I/51dune.jpg"}}
    proxy.queue("amazon-images", [loop] * 5)

    response = get(client, AMAZON, "small")

    assert response.status_code == 502
    assert response.json()["error"]["details"]["reason"] == "TOO_MANY_REDIRECTS"
    assert proxy.count("amazon-images") == 3


# --- 400 and rate limit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "size", "code"),
    [
        (None, "small", "MISSING_PARAMETER"),
        ("", "small", "MISSING_PARAMETER"),
        ("   ", None, "MISSING_PARAMETER"),
        (AMAZON, "huge", "INVALID_REQUEST"),
        (AMAZON, "0", "INVALID_REQUEST"),
        ("not a url", "small", "INVALID_REQUEST"),
        ("//m.media-amazon.com/images/I/51dune.jpg", "small", "INVALID_REQUEST"),
        ("https://[::1/cover.jpg", "small", "INVALID_REQUEST"),
        ("https://m.media-amazon.com/" + "a" * 2100, "small", "INVALID_REQUEST"),
    ],
)
def test_image_proxy_bad_parameters_are_400(proxy, client, url, size, code):
    response = get(client, url, size)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert cover_calls(proxy) == 0


def test_image_proxy_is_rate_limited_in_the_search_scope(proxy, client, settings):
    assert ImageProxyView.rate_limit_scope == "search"
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": (2, 60)}

    statuses = [get(client, AMAZON, "small").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


# --- pure pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.20.30.40", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("240.0.0.1", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fd12:3456::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.216.34", True),
        ("2002:0a00:0001::1", False),
    ],
)
def test_ip_is_public(address, public):
    assert ip_is_public(ipaddress.ip_address(address)) is public


def test_proxy_target_normalizes_but_keeps_every_query_parameter():
    a = proxy_target_parse("HTTPS://Books.Google.COM:443/books/content?zoom=1&id=AAA#x")
    b = proxy_target_parse("https://books.google.com/books/content?id=AAA&zoom=1")
    c = proxy_target_parse("https://books.google.com/books/content?id=BBB&zoom=1")

    assert a.url == b.url == "https://books.google.com/books/content?id=AAA&zoom=1"
    assert a.path_and_query == "/books/content?id=AAA&zoom=1"
    assert storage_key(a.url, "small") == storage_key(b.url, "small")
    assert storage_key(b.url, "small") != storage_key(c.url, "small")
    assert storage_key(b.url, "small") != storage_key(b.url, "large")


def test_proxy_target_forbids_private_literal_with_reason():
    with pytest.raises(Forbidden) as caught:
        proxy_target_parse("http://[::ffff:192.168.0.1]/x.jpg")
    assert caught.value.details["reason"] == "address"


def test_image_proxy_checks_the_connected_address_against_dns_rebinding(proxy, client, settings, monkeypatch):
    # First resolution (the check) says public; the connection then resolves to the local fake.
    settings.AMAZON_IMAGES_BASE_URL = "http://m.media-amazon.com"
    answers = iter([("93.184.216.34", 80), ("127.0.0.1", proxy.port)])

    def rebinding(host, port, *args, **kwargs):
        address, real_port = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, real_port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)

    response = get(client, AMAZON, "small")

    assert response.status_code == 403
    assert response.json()["error"]["details"]["reason"] == "address"
    assert not default_storage.exists(storage_key(AMAZON, "small"))


def test_image_proxy_serves_when_storage_is_down(proxy, client, monkeypatch):
    class BrokenStorage:
        def exists(self, name):
            raise OSError("storage unavailable")

    monkeypatch.setattr(images, "default_storage", BrokenStorage())

    first = get(client, AMAZON, "small")
    second = get(client, AMAZON, "small")

    assert first.status_code == second.status_code == 200
    assert pixels(first).height == 128
    assert proxy.count("amazon-images") == 2  # nothing could be cached, so it was fetched again


def _connected_to(peer):
    sock = type("Sock", (), {"getpeername": lambda self: peer})()
    connection = type("Conn", (), {"sock": sock})()
    raw = type("Raw", (), {"connection": connection})()
    return type("Resp", (), {"raw": raw})()


def test_peer_check_accepts_a_public_peer_and_fails_closed_without_one():
    images._peer_check(_connected_to(("93.184.216.34", 443)), AMAZON)  # no exception
    images._peer_check(_connected_to(("2606:2800:220:1::1", 443, 0, 0)), AMAZON)

    with pytest.raises(Forbidden):
        images._peer_check(_connected_to(("10.0.0.8", 443)), AMAZON)
    with pytest.raises(ProviderUnavailable):
        images._peer_check(type("Resp", (), {"raw": None})(), AMAZON)
    # A configured non-public base (the fakes, a mirror) is not a public cover host: not checked.
    images._peer_check(_connected_to(("127.0.0.1", 8765)), "http://127.0.0.1:8765/amazon-images/x.jpg")
