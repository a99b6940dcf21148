"""Run the fake upstreams standalone: ``python -m tests.fakes --port 8765 [--latency-ms 50]``.

Prints the ``export ...`` lines that point BooksTrack at the fakes, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse

from tests.fakes.server import FakeUpstreams


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="added latency for every upstream (until /_control/reset)"
    )
    args = parser.parse_args(argv)
    fake = FakeUpstreams(port=args.port, host=args.host, latency_ms=args.latency_ms)
    fake.start()
    for line in fake.env_lines():
        print(line)
    print("export GOOGLE_BOOKS_API_KEY=fake ISBNDB_API_KEY=fake GEMINI_API_KEY=fake", flush=True)
    try:
        fake._thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
