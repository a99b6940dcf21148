"""Slow clients against a real uvicorn: a slow body costs a coroutine, never an HTTP thread.

Raw sockets send the headers of a POST with `Content-Length: 500` and then a byte now and then (the
slowloris shape of issue 13). The server runs with its default 24 HTTP threads, so 40 such
connections held all of them on the old code and `/health/live` timed out.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from tests.servers import embedded_uvicorn

SLOW_CONNECTIONS = 40
BODY_TIMEOUT = 3.0
WS_HANDSHAKES = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {
        "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        # A chunked body is given the time its route's 1 MB cap takes at this rate: 0.1 s here.
        "REQUEST_BODY_MIN_BYTES_PER_SECOND": str(10 * 1024 * 1024),
        "MAX_BODIES_IN_FLIGHT": str(SLOW_CONNECTIONS),
        "HTTP_THREADS": "24",
        "RATE_LIMIT_WEBSOCKET": str(WS_HANDSHAKES),
    }
    with embedded_uvicorn(tmp_path_factory.mktemp("slow"), env, migrate=True) as base:
        yield base


def _slow_post(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        b"POST /v1/enrichment/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 500\r\n\r\n{"
    )
    return sock


def _drip(sockets: list[socket.socket], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        for sock in sockets:
            try:
                sock.sendall(b" ")
            except OSError:
                pass


def _response_of(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split(b" ", 2)[1]), json.loads(body)


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_slow_bodies_leave_liveness_answering_then_get_408_and_the_cap_answers_503(server):
    port = int(server.rsplit(":", 1)[1])
    sockets = [_slow_post(port) for _ in range(SLOW_CONNECTIONS)]
    stop = threading.Event()
    dripper = threading.Thread(target=_drip, args=(sockets, stop), daemon=True)
    dripper.start()
    try:
        time.sleep(0.3)
        latencies = []
        for _ in range(3):
            started = time.monotonic()
            response = requests.get(f"{server}/health/live", timeout=1)
            assert response.status_code == 200
            latencies.append(time.monotonic() - started)
        assert max(latencies) < 1.0
        print(f"/health/live with {SLOW_CONNECTIONS} slow bodies: {', '.join(f'{s * 1000:.1f} ms' for s in latencies)}")

        # Every body slot of the process is held: one more body is refused before it is read.
        busy = requests.post(f"{server}/v1/enrichment/batch", json={"books": []}, timeout=2)
        assert busy.status_code == 503
        assert busy.json()["error"]["code"] == "SERVER_BUSY"
        assert int(busy.headers["Retry-After"]) >= 1

        # Past the deadline every slow body is answered 408 with the contract's error body.
        started = time.monotonic()
        statuses = []
        for sock in sockets:
            status, body = _response_of(sock)
            statuses.append(status)
            assert body["success"] is False and body["error"]["code"] == "REQUEST_TIMEOUT"
        assert statuses == [408] * SLOW_CONNECTIONS
        assert time.monotonic() - started < BODY_TIMEOUT + 2
    finally:
        stop.set()
        for sock in sockets:
            sock.close()

    # The slots are free again: a body reaches the view (which finds the batch empty).
    after = requests.post(f"{server}/v3/books/enrich", json={"isbns": []}, timeout=2)
    assert after.status_code == 400
    assert after.json()["error"]["code"] == "EMPTY_BATCH"


def test_a_stalled_chunked_body_gets_408(server):
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /v3/books/enrich HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"isb\r\n'
        )
        started = time.monotonic()
        status, body = _response_of(sock)
    assert status == 408 and body["error"]["code"] == "REQUEST_TIMEOUT"
    assert BODY_TIMEOUT - 0.5 < time.monotonic() - started < BODY_TIMEOUT + 2


def test_a_body_sent_in_time_is_served_whole(server):
    padded = b'{"isbns": []' + b" " * 200_000 + b"}"
    response = requests.post(
        f"{server}/v3/books/enrich", data=padded, headers={"Content-Type": "application/json"}, timeout=5
    )
    assert response.json()["error"]["code"] == "EMPTY_BATCH"  # the whole body was read and parsed

    chunked = requests.post(
        f"{server}/v3/books/enrich",
        data=iter([b'{"isbns": ', b"[]}"]),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert chunked.json()["error"]["code"] == "EMPTY_BATCH"


def test_websocket_handshakes_are_rate_limited_per_ip_before_the_consumer(server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = server.replace("http://", "ws://") + "/ws/progress?jobId=00000000-0000-0000-0000-000000000000&token=x"
    for _ in range(WS_HANDSHAKES):
        with pytest.raises(InvalidStatus) as answered:  # the consumer looked the job up: none
            connect(url, open_timeout=5)
        assert answered.value.response.status_code == 404
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=5)
    response = refused.value.response
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert json.loads(response.body)["error"]["code"] == "RATE_LIMIT_EXCEEDED"


def test_a_huge_query_string_is_a_400_from_the_asgi_layer(server):
    response = requests.get(f"{server}/v1/search/title", params={"q": "d" * 60_000}, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_QUERY"
    assert len(response.content) < 2_000
    assert response.json()["metadata"]["requestId"] == response.headers["X-Request-ID"]


def _drive(guard, *, path: str, chunks: list[bytes], declared: bool) -> bytes:
    """Run `guard` over an HTTP POST whose body arrives in `chunks`; what the app behind it read."""
    import asyncio

    pending = list(chunks)

    async def receive() -> dict:
        if not pending:
            await asyncio.sleep(3600)  # a real server waits for the client
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    headers = [(b"host", b"testserver")]
    if declared:
        headers.append((b"content-length", str(sum(map(len, chunks))).encode()))
    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "headers": headers}

    async def send(message: dict) -> None:
        pass

    return asyncio.run(asyncio.wait_for(guard(scope, receive, send), timeout=10))


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_large_body_is_spooled_to_a_file_and_replayed_byte_for_byte(monkeypatch, declared):
    import hashlib
    import os
    import tempfile

    from booktrack.core import limits

    spools = []
    real_temporary_file = tempfile.TemporaryFile

    def temporary_file():
        spool = real_temporary_file()
        spools.append(spool)
        return spool

    monkeypatch.setattr(limits.tempfile, "TemporaryFile", temporary_file)
    payload = os.urandom(3 * 1024 * 1024 + 17)
    chunks = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]
    seen = {}

    async def app(scope, receive, send):
        parts = []
        while True:
            message = await receive()
            parts.append(message["body"])
            if not message["more_body"]:
                break
        seen["body"] = b"".join(parts)
        seen["length"] = dict(scope["headers"]).get(b"content-length")

    guard = limits.BodySizeLimitASGIMiddleware(app)
    _drive(guard, path="/api/import/csv-gemini", chunks=chunks, declared=declared)
    assert hashlib.sha256(seen["body"]).digest() == hashlib.sha256(payload).digest()
    assert seen["length"] == str(len(payload)).encode()
    assert len(spools) == 1 and spools[0].closed  # held on disk, not in memory, and closed after
    assert guard.bodies_in_flight == 0

    small = b'{"isbns": []}'
    _drive(guard, path="/api/import/csv-gemini", chunks=[small], declared=declared)
    assert seen["body"] == small and len(spools) == 1  # a small body stays in memory
