"""CPU per request inside Django's handler: the floor, a cached ISBN answer, and the cached ISBN answer
without each of its in-process tricks (`make bench`, the A/B rows).

Run as `python -m benchmarks.inprocess` in the service environment (the benchmark starts it with the
fakes' env): builds the WSGI handler the server runs, with the B-side views of benchmarks/ab_views.py
mounted beside the project's routes, warms the cache, then calls the routes in turn, REQUESTS times
each, timing every call in `time.process_time` (CPU, not wall: the shared machine's noise and the load
generator stay out). Prints one JSON line: the median microseconds per request of each route.
"""

from __future__ import annotations

import io
import json
import statistics
import time

REQUESTS = 8000  # per route


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
        assert status == 200, (name, status)
        if name != "floor":
            datas.add(json.dumps(json.loads(body)["data"], sort_keys=True))
    assert len(datas) == 1, "the A/B variants must answer the same data"
    # Round robin, one request of each route in turn, each timed on its own: drift and a noisy
    # neighbour hit every route alike, and the median per route shrugs off the spikes.
    samples: dict[str, list[float]] = {name: [] for name in routes}
    clock = time.process_time
    for _ in range(REQUESTS):
        for name, (path, query) in routes.items():
            started = clock()
            call(path, query)
            samples[name].append(clock() - started)
    print(json.dumps({name: round(statistics.median(times) * 1e6, 1) for name, times in samples.items()}))


if __name__ == "__main__":
    main()
