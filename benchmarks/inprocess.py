"""CPU per request inside Django's handler, for the floor and a cached ISBN answer (`make bench`).

Run as `python -m benchmarks.inprocess` in the service environment (the benchmark starts it with the
fakes' env): builds the WSGI handler the server runs, warms the cache, then times 3,000 calls of each
route, interleaved 3 times, in `time.process_time` (CPU, not wall: the shared machine's noise and the
load generator stay out). Prints one JSON line: microseconds per request, best of the 3 runs.
"""

from __future__ import annotations

import io
import json
import time

REQUESTS = 3000
RUNS = 3


def main() -> None:
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from benchmarks.bench_search import CACHED_ISBN

    app = get_wsgi_application()

    def call(path: str, query: str = "") -> int:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
        }
        status: list[str] = []
        b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        return int(status[0].split()[0])

    routes = {"floor": ("/health/live", ""), "cached_isbn": ("/v1/search/isbn", f"isbn={CACHED_ISBN}")}
    for path, query in routes.values():
        assert call(path, query) == 200 and call(path, query) == 200  # noqa: S101 - warm: caches filled
    best = {name: float("inf") for name in routes}
    for _ in range(RUNS):
        for name, (path, query) in routes.items():
            started = time.process_time()
            for _ in range(REQUESTS):
                call(path, query)
            best[name] = min(best[name], (time.process_time() - started) / REQUESTS * 1e6)
    print(json.dumps({name: round(us, 1) for name, us in best.items()}))


if __name__ == "__main__":
    main()
