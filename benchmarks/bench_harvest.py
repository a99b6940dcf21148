"""Cover harvest figures (docs/harvest.md): `python -m benchmarks.bench_harvest`.

Embedded mode (SQLite and local files in a temporary DATA_DIR), the local fakes in this process, every
ISBN of the fakes' catalog put in the catalog as demand, then one harvest run as
`manage.py harvest_covers` runs it: ISBNs/s, upstream calls per stored cover, bytes per cover. The
search budgets apply as in production at background priority (ISBNdb 1 req/s), so the rate is the
rate a real nightly run gets. Then the hot-path cost of the search-answer decoration with 100,000
harvested ISBNs in memory.
"""

from __future__ import annotations

import os
import tempfile
import time
import timeit


def main() -> None:
    from tests.fakes.server import FakeUpstreams

    home = tempfile.mkdtemp(prefix="bench-harvest-")
    fake = FakeUpstreams(port=0).start()
    os.environ.update(
        {
            **fake.base_urls,
            "DJANGO_SETTINGS_MODULE": "booktrack.settings",
            "DATA_DIR": home,
            "REDIS_URL": "",
            "DATABASE_URL": "",
            "EMBEDDED_WORKER": "false",
            "ISBNDB_API_KEY": "bench",
            "HARVEST_DAILY_BUDGET": "100000",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from harvest.covers import covers_harvest, covers_harvest_create
    from search.models import Edition, Work
    from tests.fakes.data.catalog import WORKS

    now = timezone.now()
    for work in WORKS:
        row = Work.objects.create(title=work["title"], title_key=work["title"].lower(), fetched_at=now)
        for edition in work["editions"]:
            Edition.objects.get_or_create(isbn13=edition["isbn13"], defaults={"work": row, "fetched_at": now})
    run = covers_harvest_create(trigger="command", limit=1000)
    started = time.perf_counter()
    state = covers_harvest(run_id=str(run.id))
    seconds = time.perf_counter() - started
    print(f"harvest of {state.candidates} ISBNs: {seconds:.1f} s, {state.tried / seconds:.2f} ISBNs/s")
    print(
        f"  stored {state.stored}, missing {state.missing}, failed {state.failed}; {state.budget_used} upstream "
        f"calls ({state.budget_used / max(1, state.stored):.2f} per stored cover, fakes counted "
        f"{sum(fake.counts().values())}); {state.bytes_stored} bytes "
        f"({state.bytes_stored / max(1, state.stored) / 1024:.1f} KB per cover, 3 sizes)"
    )
    for name, figures in state.sources.items():
        print(f"  {name}: {figures}")
    fake.stop()

    from harvest import cover_decoration
    from tests.factories import isbn13, search_hit, search_result

    isbns = frozenset(isbn13(n) for n in range(100_000))
    cover_decoration._memo = cover_decoration._Memo(isbns=isbns, loaded=True, checked_at=time.monotonic() + 3600)
    loops = 20_000
    for label, first in (("every edition harvested", 0), ("none harvested", 200_000)):
        result = search_result(*(search_hit(isbn=isbn13(first + n * 7)) for n in range(20)))
        per_call = timeit.timeit(lambda r=result: cover_decoration.harvested_cover_decoration(r), number=loops) / loops
        print(f"decoration of a 20-hit answer ({label}; 100,000 harvested ISBNs held): {per_call * 1e6:.1f} us")


if __name__ == "__main__":
    main()
