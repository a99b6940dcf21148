"""CPU per request inside Django's handler: the floor, a cached ISBN answer, and the cached ISBN answer
without each of its in-process tricks (`make bench`, the A/B rows).

Run as `python -m benchmarks.inprocess` in the service environment (the benchmark starts it with the
fakes' env): builds the WSGI handler the server runs, with the B-side views of benchmarks/ab_views.py
mounted beside the project's routes, warms the cache, then times REQUESTS calls of each route,
interleaved RUNS times, in `time.process_time` (CPU, not wall: the shared machine's noise and the load
generator stay out). Prints one JSON line: microseconds per request, best of the runs.
"""

from __future__ import annotations

import io
import json
import time

REQUESTS = 3000
RUNS = 5


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    from benchmarks.ab_views import DRF_PATH, PLAIN_PATH
    from benchmarks.bench_search import CACHED_ISBN

    settings.ROOT_URLCONF = "benchmarks.ab_views"
    app = get_wsgi_application()

    def call(path: str, query: str = "") -> tuple[int, bytes]:
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
        body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        return int(status[0].split()[0]), body

    isbn = f"isbn={CACHED_ISBN}"
    routes = {
        "floor": ("/health/live", ""),
        "cached_isbn": ("/v1/search/isbn", isbn),
        "drf_dispatch": (DRF_PATH, isbn),
        "plain_render": (PLAIN_PATH, isbn),
    }
    datas = set()
    for name, (path, query) in routes.items():
        call(path, query)  # warm: caches filled
        status, body = call(path, query)
        assert status == 200, (name, status)  # noqa: S101
        if name != "floor":
            datas.add(json.dumps(json.loads(body)["data"], sort_keys=True))
    assert len(datas) == 1, "the A/B variants must answer the same data"  # noqa: S101
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
